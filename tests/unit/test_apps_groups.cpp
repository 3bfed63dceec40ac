#include "accounting/apps_groups.h"
#include "accounting/process_groups.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <chrono>
#include <cstring>
#include <stdlib.h>

namespace fs = std::filesystem;

namespace {

const std::string kStock = (fs::path(__FILE__).parent_path() / "data" / "stock").string();

struct Warnings {
    std::vector<std::string> lines;
    Warn sink() { return [this](const std::string &line) { lines.push_back(line); }; }
};

struct TempDir {
    fs::path path;
    TempDir()
    {
        char name[] = "/tmp/test_apps_groups.XXXXXX";
        path = mkdtemp(name);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string str() const { return path.string(); }
    void write(const std::string &name, const std::string &content) const { std::ofstream(path / name) << content; }
};

std::string read_file(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The name of the group a process lands in, "" for none.
std::string group_of(const AppsGroups &groups, std::string_view comm, std::string_view cmdline = "")
{
    int index = groups.match(comm, cmdline);
    return index < 0 ? "" : groups.groups().at(static_cast<size_t>(index)).name;
}

AppsGroups parse_quietly(std::string_view text)
{
    Warnings warnings;
    AppsGroups groups = AppsGroups::parse(text, "test.conf", warnings.sink());
    CHECK(warnings.lines.empty());
    return groups;
}

} // namespace

TEST_CASE("Debian 12 stock apps_groups.conf")
{
    Warnings warnings;
    AppsGroups groups = AppsGroups::parse(read_file(kStock + "/apps_groups.conf"), "stock", warnings.sink());
    CHECK(warnings.lines.empty());
    REQUIRE(groups.groups().size() == 166);
    CHECK(groups.groups().front().name == "netdata");
    CHECK(groups.groups().back().name == "filesync");
    for (const auto &group : groups.groups())
        CHECK(group.hidden == false);

    CHECK(groups.match("netdata", "/usr/sbin/netdata -D") == 0);
    CHECK(groups.match("apps.plugin", "") == 1);
    CHECK(group_of(groups, "python3", "/usr/bin/python3 /usr/libexec/netdata/plugins.d/python.d.plugin 1") ==
          "python.d.plugin");
    CHECK(group_of(groups, "sshd", "sshd: /usr/sbin/sshd -D") == "ssh");
    CHECK(group_of(groups, "systemd-timesyn", "/lib/systemd/systemd-timesyncd") == "time");
    // "systemd-journald" (16 characters) is listed under logs; the kernel shows it as "systemd-journal".
    CHECK(group_of(groups, "systemd-journal", "/lib/systemd/systemd-journald") == "logs");
    CHECK(group_of(groups, "systemd-udevd", "/lib/systemd/systemd-udevd") == "system");
    CHECK(group_of(groups, "systemd", "/lib/systemd/systemd --user") == "gui");
    CHECK(group_of(groups, "aws", "aws s3 ls") == "aws-s3");
    CHECK(group_of(groups, "aws", "aws ec2 describe-instances") == "aws");
    CHECK(group_of(groups, "dovecot-imapd", "") == "mda");
    CHECK(group_of(groups, "bash", "-bash") == "");
    CHECK(groups.match("bash", "-bash") == -1);
}

TEST_CASE("exact, prefix, suffix and command-line substring patterns")
{
    AppsGroups groups = parse_quietly("exact: nginx\nprefix: php*\nsuffix: *sqld\nsubstring: *server.py*\n");
    CHECK(group_of(groups, "nginx") == "exact");
    CHECK(group_of(groups, "nginx2") == "");
    CHECK(group_of(groups, "xnginx") == "");
    CHECK(group_of(groups, "php-fpm8.2") == "prefix");
    CHECK(group_of(groups, "php") == "prefix");
    CHECK(group_of(groups, "ph") == "");
    CHECK(group_of(groups, "mysqld") == "suffix");
    CHECK(group_of(groups, "sqld") == "suffix");
    CHECK(group_of(groups, "mysqld2") == "");
    CHECK(group_of(groups, "python3", "/usr/bin/python3 /srv/server.py --port 80") == "substring");
    CHECK(group_of(groups, "python3", "/usr/bin/python3 /srv/other.py") == "");
    // Substring patterns look at the command line only, unless it is unknown.
    CHECK(group_of(groups, "server.py", "/usr/bin/python3 x") == "");
    CHECK(group_of(groups, "server.py", "") == "substring");
}

TEST_CASE("names longer than the 15 characters of comm match the name the kernel cut")
{
    AppsGroups groups = parse_quietly("long: networkd-dispatcher\nlongprefix: abcdefghijklmnopq*\nshort: abc\n");
    CHECK(group_of(groups, "networkd-dispat") == "long");
    CHECK(group_of(groups, "networkd-dispatcher") == "long");
    CHECK(group_of(groups, "networkd-dispa") == "");
    CHECK(group_of(groups, "abcdefghijklmno") == "longprefix");
    CHECK(group_of(groups, "abcdefghijklmnopqrs") == "longprefix");
    CHECK(group_of(groups, "abcdefghijklmn") == "");
}

TEST_CASE("the first pattern in file order wins; a group given twice accumulates")
{
    AppsGroups groups = parse_quietly("a: foo*\nb: foobar bar\na: baz\nc: *bar\nb: qux\n");
    REQUIRE(groups.groups().size() == 3);
    CHECK(groups.groups()[0].name == "a");
    CHECK(groups.groups()[1].name == "b");
    CHECK(groups.groups()[2].name == "c");
    CHECK(groups.match("foobar", "") == 0);
    CHECK(groups.match("bar", "") == 1);
    CHECK(groups.match("baz", "") == 0);
    CHECK(groups.match("xbar", "") == 2);
    CHECK(groups.match("qux", "") == 1);
}

TEST_CASE("hidden groups, separators, quotes and comments")
{
    AppsGroups groups = parse_quietly("-hidden: foo\n"
                                      "visible: -bar\n"
                                      "plain: baz # ignored words\n"
                                      "quoted: 'Plex Media Serv' \"my other process\" \"it's\" 'say \"hi\"'\n"
                                      "colon: 'a:b' c:d\n"
                                      "nocolon e\n"
                                      "  # an indented comment\n"
                                      "\t  \n"
                                      "weird: 'x y'z don't\n"
                                      "cli: '*aws s3*'\n");
    const auto &g = groups.groups();
    REQUIRE(g.size() == 8);
    CHECK(g[0].name == "hidden");
    CHECK(g[0].hidden == true);
    CHECK(g[1].name == "visible");
    CHECK(g[1].hidden == true);
    CHECK(g[2].hidden == false);
    CHECK(group_of(groups, "foo") == "hidden");
    CHECK(group_of(groups, "bar") == "visible");
    CHECK(group_of(groups, "ignored") == "");
    CHECK(group_of(groups, "words") == "");
    CHECK(group_of(groups, "Plex Media Serv") == "quoted");
    CHECK(group_of(groups, "my other process") == "quoted");
    CHECK(group_of(groups, "it's") == "quoted");
    CHECK(group_of(groups, "don't") == "weird");   // unquoted, a quote inside a word is a character
    CHECK(group_of(groups, "say \"hi\"") == "quoted");
    CHECK(group_of(groups, "a:b") == "colon");
    CHECK(group_of(groups, "c") == "colon");
    CHECK(group_of(groups, "d") == "colon");
    CHECK(g[5].name == "nocolon");
    CHECK(group_of(groups, "e") == "nocolon");
    CHECK(group_of(groups, "x y") == "weird");
    CHECK(group_of(groups, "z") == "weird");
    CHECK(group_of(groups, "aws", "aws s3 cp a b") == "cli");
}

TEST_CASE("invalid lines are reported once each and skipped whole")
{
    Warnings warnings;
    std::string long_line = "big:";
    for (int i = 0; i < 20000; ++i)
        long_line += " p" + std::to_string(i);
    AppsGroups groups = AppsGroups::parse("ok: one\n"
                                          "open: 'unclosed two\n"
                                          "lonely\n"
                                          "lonely2:   # nothing\n"
                                          "-: three\n"
                                          "'': three\n"
                                          "'my group': three\n"
                                          "stars: four *\n"
                                          "dash: -+*\n"
                                          "empty: ''\n"
                                          "ctl: fi\x01ve\n"
                                          "\x01\x02\x03\n" +
                                              long_line + "\n" +
                                              "ok: six\r\n",
                                          "apps.conf", warnings.sink());
    CHECK(warnings.lines == std::vector<std::string>{
                                "ebpf.plugin: apps.conf:2: unclosed quote; line ignored",
                                "ebpf.plugin: apps.conf:3: group 'lonely' has no process names; line ignored",
                                "ebpf.plugin: apps.conf:4: group 'lonely2' has no process names; line ignored",
                                "ebpf.plugin: apps.conf:5: empty group name; line ignored",
                                "ebpf.plugin: apps.conf:6: empty group name; line ignored",
                                "ebpf.plugin: apps.conf:7: group name 'my group' contains spaces (use '-'); line ignored",
                                "ebpf.plugin: apps.conf:8: process name '*' is empty without its '-', '+' and '*'; line ignored",
                                "ebpf.plugin: apps.conf:9: process name '-+*' is empty without its '-', '+' and '*'; line ignored",
                                "ebpf.plugin: apps.conf:10: process name '' is empty without its '-', '+' and '*'; line ignored",
                                "ebpf.plugin: apps.conf:11: contains a control character; line ignored",
                                "ebpf.plugin: apps.conf:12: contains a control character; line ignored",
                            });
    REQUIRE(groups.groups().size() == 2);
    CHECK(groups.groups()[0].name == "ok");
    CHECK(groups.groups()[1].name == "big");
    CHECK(group_of(groups, "one") == "ok");
    CHECK(group_of(groups, "six") == "ok");
    CHECK(group_of(groups, "four") == "");
    CHECK(group_of(groups, "two") == "");
    CHECK(group_of(groups, "p19999") == "big");
}

TEST_CASE("load_apps_groups: user file, else stock file, else empty with one warning")
{
    TempDir user, stock;
    Warnings warnings;
    CHECK(load_apps_groups({user.str(), stock.str()}, warnings.sink()).groups().empty());
    CHECK(warnings.lines == std::vector<std::string>{"ebpf.plugin: no usable apps_groups.conf in '" + user.str() +
                                                     "' or '" + stock.str() + "'; processes are not grouped"});
    warnings.lines.clear();

    stock.write("apps_groups.conf", "stock: a\n");
    CHECK(load_apps_groups({user.str(), stock.str()}, warnings.sink()).groups().at(0).name == "stock");
    user.write("apps_groups.conf", "user: a\nbad\n");
    CHECK(load_apps_groups({user.str(), stock.str()}, warnings.sink()).groups().at(0).name == "user");
    CHECK(load_apps_groups({"", kStock}, warnings.sink()).groups().size() == 166);
    CHECK(warnings.lines == std::vector<std::string>{"ebpf.plugin: " + user.str() +
                                                     "/apps_groups.conf:2: group 'bad' has no process names; line ignored"});
}

TEST_CASE("the earliest pattern wins whatever its kind: exact, prefix, suffix, cut name, substring")
{
    AppsGroups groups = parse_quietly("s: *ba*\nx: bar\np: b*\nu: *r\nl: abcdefghijklmnopq\nq: abcdefghijklmno\n");
    CHECK(group_of(groups, "bar") == "s");
    CHECK(group_of(groups, "bar", "/bin/foo") == "x");
    CHECK(group_of(groups, "bxr", "/bin/foo") == "p");
    CHECK(group_of(groups, "xr", "/bin/foo") == "u");
    CHECK(group_of(groups, "abcdefghijklmno", "/bin/foo") == "l");
    AppsGroups reversed = parse_quietly("u: *r\np: b*\nx: bar\n");
    CHECK(group_of(reversed, "bar") == "u");
    CHECK(group_of(reversed, "bat") == "p");
}

TEST_CASE("a group named other is the built-in other: one group, one warning")
{
    Warnings warnings;
    AppsGroups groups = AppsGroups::parse("web: nginx\nother: busy\nother: idle\n", "test.conf", warnings.sink());
    REQUIRE(warnings.lines.size() == 1);
    CHECK(warnings.lines[0] ==
          "ebpf.plugin: test.conf:2: group 'other' is also where processes no name matches are counted; the two are "
          "one group");
    ProcessGroups processes(std::move(groups), "/nonexistent");
    CHECK(processes.names() == std::vector<std::string>{"web", "other"});
    CHECK(processes.other_group() == 1);
    // an unmatched process with no group to inherit goes to the built-in other
    CHECK(processes.decide(100, "busy", false, processes.other_group()) == 1);
    CHECK(processes.decide(101, "bash", false, processes.other_group()) == 1);

    ProcessGroups without(parse_quietly("web: nginx\n"), "/nonexistent");
    CHECK(without.names() == std::vector<std::string>{"web", "other"});
    CHECK(without.decide(101, "bash", false, without.other_group()) == 1);
}

// 60,000 groups of every kind: parsing and matching cost hash lookups, not a
// pass over the patterns (docs/BENCHMARKS.md has the figures).
TEST_CASE("60,000 app groups: every pattern kind still matches the first in file order, fast")
{
    constexpr int count = 15000;
    std::string text;
    for (int i = 0; i < count; ++i) {
        std::string n = std::to_string(i);
        text += "e" + n + ": exact" + n + "\np" + n + ": pre" + n + "x*\ns" + n + ": *x" + n + "suf\nl" + n +
                ": 0123456789" + n + "-long-name\n";
    }
    text += "sub: *needle*\n";
    auto start = std::chrono::steady_clock::now();
    AppsGroups groups = parse_quietly(text);
    REQUIRE(groups.groups().size() == 4 * count + 1);
    int matched = 0;
    for (int i = 0; i < count; i += 7) {
        std::string n = std::to_string(i);
        matched += group_of(groups, "exact" + n) == "e" + n;
        matched += group_of(groups, "pre" + n + "xyz") == "p" + n;
        matched += group_of(groups, "abx" + n + "suf") == "s" + n;
        matched += group_of(groups, ("0123456789" + n + "-long-name").substr(0, 15)) == "l" + n;
        matched += group_of(groups, "nomatch", "/bin/x --needle") == "sub";
        matched += group_of(groups, "nomatch" + n, "/bin/x") == "";
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(matched == 6 * ((count + 6) / 7));
    MESSAGE("parsed 60,001 groups and matched " << 6 * ((count + 6) / 7) << " names in " << seconds << " s");
    CHECK(seconds < 2.0);   // the linear version took 4.6 s to parse alone
}
