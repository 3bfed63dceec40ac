#include "core/config.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdlib.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace {

const std::string kStock = (fs::path(__FILE__).parent_path() / "data" / "stock").string();

struct TempDir {
    fs::path path;
    TempDir()
    {
        char name[] = "/tmp/test_config.XXXXXX";
        path = mkdtemp(name);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string str() const { return path.string(); }
    std::string write(const std::string &relative, const std::string &content) const
    {
        fs::path file = path / relative;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << content;
        return file.string();
    }
};

struct Warnings {
    std::vector<std::string> lines;
    Warn sink() { return [this](const std::string &line) { lines.push_back(line); }; }
};

std::string network_viewer(const std::string &file)
{
    return "ebpf.plugin: " + file + ": the network viewer's sections ([network connections], [service name]) are "
                                    "read from ebpf.d/network.conf only; ignored here";
}

const std::vector<std::string> kModuleOrder = {"process", "socket", "cachestat", "sync", "dcstat", "swap",
                                               "vfs", "filesystem", "disk", "mount", "fd", "hardirq",
                                               "softirq", "oomkill", "shm", "mdflush"};

std::vector<std::string> enabled_modules(const PluginConfig &config)
{
    std::vector<std::string> names;
    for (const auto &m : config.modules)
        if (m.enabled)
            names.push_back(m.name);
    return names;
}

// Loads a user ebpf.d.conf with `content` and no stock dir.
PluginConfig load_user_global(const TempDir &dir, const std::string &content, Warnings &warnings)
{
    dir.write("ebpf.d.conf", content);
    return load_config({dir.str(), ""}, 1, warnings.sink());
}

} // namespace

TEST_CASE("Debian 12 stock files give upstream's values for every field")
{
    Warnings warnings;
    PluginConfig config = load_config({"/nonexistent/etc/netdata", kStock}, 1, warnings.sink());

    CHECK(config.update_every == 5);
    CHECK(config.load_mode == LoadMode::Entry);
    CHECK(config.apps == true);
    CHECK(config.cgroups == false);
    CHECK(config.pid_table_size == 32768);
    CHECK(config.btf_path == "/sys/kernel/btf");
    CHECK(config.maps_per_core == true);
    CHECK(config.attach == AttachPath::Auto);
    CHECK(config.type_format == TypeFormat::Auto);

    struct Expected {
        const char *name;
        bool enabled, supported;
        AttachPath attach;
    };
    const AttachPath A = AttachPath::Auto, T = AttachPath::Trampoline;
    const std::vector<Expected> expected = {
        {"process", true, true, A},    {"socket", true, true, T},   {"cachestat", false, true, T},
        {"sync", true, true, T},       {"dcstat", false, true, T},  {"swap", false, true, T},
        {"vfs", true, true, T},        {"filesystem", false, true, A}, {"disk", false, true, A},
        {"mount", true, true, T},      {"fd", true, true, T},        {"hardirq", true, true, A},
        {"softirq", true, true, A},    {"oomkill", true, true, A},   {"shm", false, true, T},
        {"mdflush", false, true, A},
    };
    REQUIRE(config.modules.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        const ModuleConfig &m = config.modules[i];
        CAPTURE(m.name);
        CHECK(m.name == expected[i].name);
        CHECK(m.enabled == expected[i].enabled);
        CHECK(m.supported == expected[i].supported);
        CHECK(m.attach == expected[i].attach);
        CHECK(m.load_mode == LoadMode::Entry);
        CHECK(m.apps == true);
        CHECK(m.cgroups == false);
        CHECK(m.update_every == 5);
        // network.conf's 'bandwidth table size' is the socket module's per-process table
        CHECK(m.pid_table_size == (m.name == "socket" ? 16384u : 32768u));
        CHECK(m.type_format == TypeFormat::Auto);
        CHECK(m.collect_pid == CollectPid::RealParent);
        CHECK(m.maps_per_core == true);
    }

    // network.conf's [network connections] and [service name] are the flows' and network viewer's
    CHECK(warnings.lines.empty());
}

TEST_CASE("no configuration at all: built-in defaults, every implemented module enabled, argv update every")
{
    for (ConfigDirs dirs : {ConfigDirs{"/nonexistent/a", "/nonexistent/b"}, ConfigDirs{"", ""}}) {
        Warnings warnings;
        PluginConfig config = load_config(dirs, 7, warnings.sink());
        CHECK(warnings.lines.empty());
        CHECK(config.update_every == 7);
        CHECK(config.load_mode == LoadMode::Entry);
        CHECK(config.apps == true);
        CHECK(config.cgroups == false);
        CHECK(config.pid_table_size == 32768);
        CHECK(config.btf_path == "/sys/kernel/btf");
        CHECK(enabled_modules(config) ==
              std::vector<std::string>{"process", "socket", "cachestat", "sync", "dcstat", "swap", "vfs",
                                       "filesystem", "disk", "mount", "fd", "hardirq", "softirq", "oomkill",
                                       "shm", "mdflush"});
        REQUIRE(config.modules.size() == kModuleOrder.size());
        for (size_t i = 0; i < kModuleOrder.size(); ++i) {
            CHECK(config.modules[i].name == kModuleOrder[i]);
            CHECK(config.modules[i].update_every == 7);
            CHECK(config.modules[i].attach == AttachPath::Auto);
        }
        CHECK(config.module("fd") == &config.modules[10]);
        CHECK(config.module("nope") == nullptr);
    }
}

TEST_CASE("a user file wins over the stock file, as a whole file")
{
    TempDir user;
    user.write("ebpf.d.conf", "[global]\n update every = 2\n apps = no\n[ebpf programs]\n"
                              " sync = no\n mount = no\n hardirq = no\n softirq = no\n oomkill = no\n shm = no\n");
    user.write("ebpf.d/fd.conf", "[global]\n ebpf load mode = return\n");
    Warnings warnings;
    PluginConfig config = load_config({user.str(), kStock}, 1, warnings.sink());

    CHECK(config.update_every == 2);
    CHECK(config.apps == false);
    CHECK(config.btf_path == "/sys/kernel/btf");
    // Keys the user file leaves out take upstream's code defaults, not the stock file's values.
    CHECK(enabled_modules(config) == std::vector<std::string>{"process", "fd"});

    const ModuleConfig *fd = config.module("fd");
    CHECK(fd->load_mode == LoadMode::Return);
    CHECK(fd->attach == AttachPath::Auto);   // stock fd.conf says trampoline, but the user file replaces it
    CHECK(fd->update_every == 2);
    CHECK(fd->apps == false);
    const ModuleConfig *vfs = config.module("vfs");
    CHECK(vfs->attach == AttachPath::Trampoline);   // stock vfs.conf still applies
    CHECK(vfs->update_every == 2);
}

TEST_CASE("file precedence: user ebpf.d.conf, user ebpf.conf, stock ebpf.d.conf, stock ebpf.conf")
{
    TempDir user, stock;
    Warnings warnings;
    auto update_every = [&] { return load_config({user.str(), stock.str()}, 1, warnings.sink()).update_every; };
    auto content = [](int seconds) {
        return "[global]\nupdate every = " + std::to_string(seconds) +
               "\n[ebpf programs]\nsync = no\nmount = no\nhardirq = no\nsoftirq = no\noomkill = no\nshm = no\n";
    };

    stock.write("ebpf.conf", content(4));
    CHECK(update_every() == 4);
    stock.write("ebpf.d.conf", content(3));
    CHECK(update_every() == 3);
    user.write("ebpf.conf", content(2));
    CHECK(update_every() == 2);
    user.write("ebpf.d.conf", content(1));
    CHECK(update_every() == 1);
    CHECK(warnings.lines.empty());
}

TEST_CASE("per-module [global] keys override the global ones for that module only")
{
    TempDir user;
    user.write("ebpf.d.conf", "[global]\n"
                              " ebpf load mode = return\n update every = 10\n apps = yes\n cgroups = yes\n"
                              " pid table size = 1000\n maps per core = no\n lifetime = 60\n"
                              " ebpf co-re tracing = probe\n ebpf type format = legacy\n btf path = /opt/btf/\n"
                              "[ebpf programs]\n process = yes\n fd = yes\n"
                              " sync = no\n mount = no\n hardirq = no\n softirq = no\n oomkill = no\n shm = no\n");
    user.write("ebpf.d/process.conf", "[global]\n"
                                      " ebpf load mode = entry\n update every = 1\n apps = no\n cgroups = no\n"
                                      " pid table size = 5\n maps per core = yes\n lifetime = 30\n"
                                      " ebpf co-re tracing = tracepoint\n ebpf type format = co-re\n"
                                      " collect pid = all\n");
    Warnings warnings;
    PluginConfig config = load_config({user.str(), ""}, 1, warnings.sink());
    const std::string lifetime = "option 'lifetime' is not supported (it limits modules started by Netdata functions, "
                                 "which this plugin does not offer); ignored";
    CHECK(warnings.lines == std::vector<std::string>{
                                "ebpf.plugin: " + user.str() + "/ebpf.d.conf: " + lifetime,
                                "ebpf.plugin: " + user.str() + "/ebpf.d/process.conf: " + lifetime,
                                "ebpf.plugin: " + user.str() +
                                    "/ebpf.d/process.conf: 'collect pid = all' is not supported; using real parent",
                            });

    CHECK(config.load_mode == LoadMode::Return);
    CHECK(config.update_every == 10);
    CHECK(config.cgroups == true);
    CHECK(config.pid_table_size == 1000);
    CHECK(config.maps_per_core == false);
    CHECK(config.attach == AttachPath::Kprobe);
    CHECK(config.type_format == TypeFormat::Legacy);
    CHECK(config.btf_path == "/opt/btf");

    const ModuleConfig *process = config.module("process");
    CHECK(process->load_mode == LoadMode::Entry);
    CHECK(process->update_every == 1);
    CHECK(process->apps == false);
    CHECK(process->cgroups == false);
    CHECK(process->pid_table_size == 5);
    CHECK(process->maps_per_core == true);
    CHECK(process->attach == AttachPath::Tracepoint);
    CHECK(process->type_format == TypeFormat::CoRe);
    CHECK(process->collect_pid == CollectPid::RealParent);

    const ModuleConfig *fd = config.module("fd");
    CHECK(fd->load_mode == LoadMode::Return);
    CHECK(fd->update_every == 10);
    CHECK(fd->apps == true);
    CHECK(fd->cgroups == true);
    CHECK(fd->pid_table_size == 1000);
    CHECK(fd->maps_per_core == false);
    CHECK(fd->attach == AttachPath::Kprobe);
    CHECK(fd->type_format == TypeFormat::Legacy);
    CHECK(fd->collect_pid == CollectPid::RealParent);
}

TEST_CASE("legacy spellings, boolean words and case")
{
    TempDir user;
    Warnings warnings;
    PluginConfig config = load_user_global(user,
                                           "[Global]\n LOAD = Return\n disable apps = YES\n cgroups = On\n"
                                           " maps per core = 0\n ebpf type format = CO-RE\n"
                                           "[ebpf programs]\n process = false\n fd = true\n network viewer = 1\n"
                                           " network connection monitoring = on\n sync = off\n mount = no\n"
                                           " hardirq = No\n softirq = FALSE\n oomkill = 0\n shm = off\n",
                                           warnings);
    CHECK(config.load_mode == LoadMode::Return);
    CHECK(config.apps == false);
    CHECK(config.cgroups == true);
    CHECK(config.maps_per_core == false);
    CHECK(config.type_format == TypeFormat::CoRe);
    CHECK(enabled_modules(config) == std::vector<std::string>{"socket", "fd"});
    CHECK(config.network_connections);  // the legacy alias turns the flows on
    CHECK(warnings.lines == std::vector<std::string>{});

    user.write("ebpf.d/process.conf", "[global]\ncollect pid = Parent\n");
    warnings.lines.clear();
    CHECK(load_config({user.str(), ""}, 1, warnings.sink()).module("process")->collect_pid == CollectPid::RealParent);
    // process does not run here: its file is read quietly
    CHECK(warnings.lines == std::vector<std::string>{});
}

TEST_CASE("bad values are reported with file and line, and the value in effect is kept")
{
    TempDir user;
    std::string global = user.write("ebpf.d.conf", "[global]\n"
                                                   " update every = abc\n"        // 2
                                                   " apps = maybe\n"              // 3
                                                   " pid table size = 0\n"        // 4
                                                   " pid table size = -5\n"       // 5
                                                   " update every = 86401\n"      // 6
                                                   " lifetime = 0\n"              // 7
                                                   " ebpf load mode = dev\n"      // 8
                                                   " btf path = relative/dir\n"   // 9
                                                   " ebpf type format = core\n"   // 10
                                                   " cgroups =\n"                 // 11
                                                   " disable apps = perhaps\n"    // 12
                                                   " update every = 5s\n"         // 13
                                                   "[ebpf programs]\n"            // 14
                                                   " fd = maybe\n"                // 15
                                                   " sync = no\n mount = no\n hardirq = no\n softirq = no\n"
                                                   " oomkill = no\n shm = no\n");
    std::string fd = user.write("ebpf.d/fd.conf", "[global]\n"
                                                  " collect pid = everyone\n"      // 2
                                                  " ebpf co-re tracing = kprobe\n" // 3
                                                  " update every = 0\n");         // 4
    Warnings warnings;
    PluginConfig config;
    CHECK_NOTHROW(config = load_config({user.str(), ""}, 9, warnings.sink()));

    auto at = [](const std::string &file, int line, const std::string &rest) {
        return "ebpf.plugin: " + file + ":" + std::to_string(line) + ": " + rest;
    };
    CHECK(warnings.lines == std::vector<std::string>{
                                at(global, 2, "invalid value 'abc' for 'update every'; using 9"),
                                at(global, 3, "invalid value 'maybe' for 'apps'; using yes"),
                                at(global, 4, "invalid value '0' for 'pid table size'; using 32768"),
                                at(global, 5, "option 'pid table size' in [global] repeats line 4; the later line wins"),
                                at(global, 5, "invalid value '-5' for 'pid table size'; using 32768"),
                                at(global, 6, "option 'update every' in [global] repeats line 2; the later line wins"),
                                at(global, 6, "invalid value '86401' for 'update every'; using 9"),
                                "ebpf.plugin: " + global + ": option 'lifetime' is not supported (it limits modules "
                                "started by Netdata functions, which this plugin does not offer); ignored",
                                at(global, 8, "invalid value 'dev' for 'ebpf load mode'; using entry"),
                                at(global, 9, "invalid value 'relative/dir' for 'btf path'; using /sys/kernel/btf"),
                                at(global, 10, "invalid value 'core' for 'ebpf type format'; using auto"),
                                at(global, 11, "invalid value '' for 'cgroups'; using no"),
                                at(global, 12, "option 'disable apps' in [global] repeats line 3; the later line wins"),
                                at(global, 12, "invalid value 'perhaps' for 'disable apps'; using no"),
                                at(global, 13, "option 'update every' in [global] repeats line 6; the later line wins"),
                                at(global, 13, "invalid value '5s' for 'update every'; using 9"),
                                at(global, 15, "invalid value 'maybe' for 'fd'; using yes"),
                                at(fd, 2, "invalid value 'everyone' for 'collect pid'; using real parent"),
                                at(fd, 3, "invalid value 'kprobe' for 'ebpf co-re tracing'; using auto"),
                                at(fd, 4, "invalid value '0' for 'update every'; using 9"),
                            });
    CHECK(config.update_every == 9);
    CHECK(config.apps == true);
    CHECK(config.cgroups == false);
    CHECK(config.pid_table_size == 32768);
    CHECK(config.load_mode == LoadMode::Entry);
    CHECK(config.btf_path == "/sys/kernel/btf");
    CHECK(config.type_format == TypeFormat::Auto);
    CHECK(enabled_modules(config) == std::vector<std::string>{"process", "fd"});
    CHECK(config.module("fd")->collect_pid == CollectPid::RealParent);
    CHECK(config.module("fd")->attach == AttachPath::Auto);
    CHECK(config.module("fd")->update_every == 9);
}

TEST_CASE("[syscalls] of sync.conf and shm.conf turn single syscalls off; bad keys and values are reported")
{
    TempDir user;
    user.write("ebpf.d.conf", "[ebpf programs]\n sync = yes\n shm = yes\n hardirq = no\n softirq = no\n");
    std::string sync = user.write("ebpf.d/sync.conf", "[syscalls]\n sync = yes\n msync = no\n fsync = no\n"
                                                      " fsync = yes\n SyncFS = NO\n shmget = no\n fdatasync = maybe\n");
    user.write("ebpf.d/shm.conf", "[syscalls]\n shmget = yes\n shmat = yes\n shmdt = no\n shmctl = yes\n");
    Warnings warnings;
    PluginConfig config = load_config({user.str(), ""}, 1, warnings.sink());
    auto in = [&](const std::string &rest) { return "ebpf.plugin: " + sync + rest; };
    CHECK(warnings.lines == std::vector<std::string>{
                                in(":5: option 'fsync' in [syscalls] repeats line 4; the later line wins"),
                                in(": option 'shmget' in [syscalls] is not supported; ignored"),
                                in(":8: invalid value 'maybe' for 'fdatasync'; using yes"),
                            });
    CHECK(config.module("sync")->disabled_syscalls == std::set<std::string, std::less<>>{"msync", "syncfs"});
    CHECK(config.module("shm")->disabled_syscalls == std::set<std::string, std::less<>>{"shmdt"});
    CHECK(config.module("vfs")->disabled_syscalls.empty());
}

TEST_CASE("unknown sections and keys are reported once each")
{
    TempDir user;
    Warnings warnings;
    std::string file = user.write("ebpf.d.conf", "[global]\n foo = 1\n foo = 2\n FOO = 3\n collect pid = all\n"
                                                 "[ebpf programs]\n bar = yes\n"
                                                 " sync = no\n mount = no\n hardirq = no\n softirq = no\n"
                                                 " oomkill = no\n shm = no\n"
                                                 "[mystery]\n a = 1\n b = 2\n[Mystery]\n c = 3\n"
                                                 "[network connections]\n ports = *\n[service name]\n 19999 = Netdata\n");
    std::string process = user.write("ebpf.d/process.conf", "[global]\n btf path = /x\n bandwidth table size = 5\n"
                                                            "[syscalls]\n sync = yes\n");
    std::string network = user.write("ebpf.d/network.conf", "[global]\n bandwidth table size = 5\n"
                                                            " udp connection table size = 5\n"
                                                            "[network connections]\n ports = *\n");
    load_config({user.str(), ""}, 1, warnings.sink());
    auto in = [](const std::string &path, const std::string &rest) { return "ebpf.plugin: " + path + ": " + rest; };
    CHECK(warnings.lines == std::vector<std::string>{
                                in(file, "option 'foo' in [global] is not supported; ignored"),
                                in(file, "option 'collect pid' in [global] is not supported; ignored"),
                                in(file, "option 'bar' in [ebpf programs] is not supported; ignored"),
                                in(file, "section [mystery] is not supported; ignored"),
                                network_viewer(file),
                                in(process, "option 'btf path' in [global] is not supported; ignored"),
                                in(process, "option 'bandwidth table size' in [global] is not supported; ignored"),
                                in(process, "section [syscalls] is not supported; ignored"),
                            });  // network.conf belongs to socket, which does not run: read quietly
}

TEST_CASE("malformed files: never throw, report each problem, keep defaults")
{
    TempDir user;
    Warnings warnings;
    auto at = [&](int line, const std::string &rest) {
        return "ebpf.plugin: " + user.str() + "/ebpf.d.conf:" + std::to_string(line) + ": " + rest;
    };
    const std::string quiet = "[ebpf programs]\n sync = no\n mount = no\n hardirq = no\n softirq = no\n"
                              " oomkill = no\n shm = no\n";

    SUBCASE("section header without ']' hides its keys until the next section")
    {
        PluginConfig config = load_user_global(user, quiet + "[ebpf programs\n fd = no\n garbage\n[global]\n apps = no\n",
                                               warnings);
        CHECK(warnings.lines == std::vector<std::string>{
                                    at(8, "section header without ']'; ignored up to the next section")});
        CHECK(config.module("fd")->enabled == true);
        CHECK(config.apps == false);
    }
    SUBCASE("duplicated sections merge; a repeated key is reported and the later line wins")
    {
        PluginConfig config = load_user_global(user, "[global]\n apps = no\n" + quiet +
                                                         "[global]\n cgroups = yes\n apps = yes\n",
                                               warnings);
        CHECK(warnings.lines == std::vector<std::string>{
                                    at(12, "option 'apps' in [global] repeats line 2; the later line wins")});
        CHECK(config.apps == true);
        CHECK(config.cgroups == true);
    }
    SUBCASE("keys outside any section, lines without '='")
    {
        PluginConfig config = load_user_global(user, "apps = no\n" + quiet + "[global]\n just words\n = 5\n",
                                               warnings);
        CHECK(warnings.lines == std::vector<std::string>{
                                    at(1, "option 'apps' is outside any section; ignored"),
                                    at(10, "expected 'name = value'; ignored"),
                                    at(11, "expected 'name = value'; ignored")});
        CHECK(config.apps == true);
    }
    SUBCASE("very long lines are refused whole; 4094 bytes is the longest line read")
    {
        std::string longest = " pid table size = 7";
        longest.resize(4094, ' ');
        std::string too_long = " update every = 3";
        too_long.resize(4095, ' ');
        std::string huge;
        for (int i = 0; i < 40000; ++i)
            huge += "a = b ";
        PluginConfig config = load_user_global(user, quiet + "[global]\n" + longest + "\n" + too_long + "\n" + huge +
                                                         "\n apps = no",
                                               warnings);
        CHECK(warnings.lines == std::vector<std::string>{at(10, "line longer than 4094 bytes; ignored"),
                                                         at(11, "line longer than 4094 bytes; ignored")});
        CHECK(config.pid_table_size == 7);
        CHECK(config.update_every == 1);
        CHECK(config.apps == false);
    }
    SUBCASE("binary junk without NUL bytes")
    {
        PluginConfig config = load_user_global(user, quiet + "\xff\xfe\x01\x02\n[\x80\x81\n k = v\n\x7f=\x1b\n"
                                                             "[global]\n\x01 = 2\n",
                                               warnings);
        CHECK(warnings.lines == std::vector<std::string>{
                                    at(8, "expected 'name = value'; ignored"),
                                    at(9, "section header without ']'; ignored up to the next section"),
                                    "ebpf.plugin: " + user.str() + "/ebpf.d.conf: option '?' in [global] "
                                                                   "is not supported; ignored"});
        CHECK(enabled_modules(config) == std::vector<std::string>{"process", "fd"});
    }
    SUBCASE("a file with NUL bytes is not used; the next candidate is")
    {
        user.write("ebpf.d.conf", std::string("[global]\n apps = no\n\0\x01\x02", 23));
        user.write("ebpf.conf", "[global]\n cgroups = yes\n" + quiet);
        PluginConfig config = load_config({user.str(), ""}, 1, warnings.sink());
        CHECK(warnings.lines == std::vector<std::string>{
                                    "ebpf.plugin: " + user.str() +
                                    "/ebpf.d.conf: contains a NUL byte, not a text file; ignored"});
        CHECK(config.apps == true);
        CHECK(config.cgroups == true);
    }
    SUBCASE("an empty file: upstream's code defaults for [ebpf programs]")
    {
        PluginConfig config = load_user_global(user, "", warnings);
        CHECK(enabled_modules(config) == std::vector<std::string>{"process", "sync", "mount", "fd", "hardirq",
                                                                  "softirq", "oomkill", "shm"});
        CHECK(config.update_every == 1);
    }
    SUBCASE("CRLF line ends, a UTF-8 BOM, comments, and ';' kept inside values")
    {
        PluginConfig config = load_user_global(user, "\xEF\xBB\xBF[global]\r\n; comment\r\n# comment\r\n"
                                                     " btf path = /a;b/ \r\n apps = no\r\n" + quiet,
                                               warnings);
        CHECK(warnings.lines.empty());
        CHECK(config.btf_path == "/a;b");
        CHECK(config.apps == false);
    }
    SUBCASE("a directory or a FIFO in place of the file is skipped without blocking")
    {
        fs::create_directories(user.path / "ebpf.d.conf");
        REQUIRE(mkfifo((user.path / "ebpf.conf").c_str(), 0600) == 0);
        fs::create_directories(user.path / "ebpf.d");
        REQUIRE(mkfifo((user.path / "ebpf.d" / "fd.conf").c_str(), 0600) == 0);
        PluginConfig config = load_config({user.str(), kStock}, 1, warnings.sink());
        CHECK(config.update_every == 5);
        CHECK(config.module("fd")->attach == AttachPath::Trampoline);
        REQUIRE(warnings.lines.size() >= 3);
        CHECK(warnings.lines[0] == "ebpf.plugin: " + user.str() + "/ebpf.d.conf: not a regular file; ignored");
        CHECK(warnings.lines[1] == "ebpf.plugin: " + user.str() + "/ebpf.conf: not a regular file; ignored");
        CHECK(std::count(warnings.lines.begin(), warnings.lines.end(),
                         "ebpf.plugin: " + user.str() + "/ebpf.d/fd.conf: not a regular file; ignored") == 1);
    }
}

TEST_CASE("read_text_file and config_path")
{
    TempDir dir;
    Warnings warnings;
    std::string text;
    CHECK(read_text_file(dir.str() + "/absent", text, warnings.sink()) == FileStatus::Missing);
    CHECK(read_text_file(dir.str() + "/absent/below", text, warnings.sink()) == FileStatus::Missing);
    std::string big = dir.write("big", std::string(11, 'x'));
    CHECK(read_text_file(big, text, warnings.sink(), 10) == FileStatus::Unusable);
    CHECK(text.empty());
    CHECK(read_text_file(big, text, warnings.sink(), 11) == FileStatus::Loaded);
    CHECK(text == "xxxxxxxxxxx");
    CHECK(warnings.lines == std::vector<std::string>{"ebpf.plugin: " + big + ": larger than 10 bytes; ignored"});

    CHECK(config_path("/etc/netdata", "ebpf.d.conf") == "/etc/netdata/ebpf.d.conf");
    CHECK(config_path("/etc/netdata//", "ebpf.d.conf") == "/etc/netdata/ebpf.d.conf");
    CHECK(config_path("/", "ebpf.d.conf") == "/ebpf.d.conf");
}
