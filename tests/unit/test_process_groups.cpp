#include "accounting/process_groups.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdlib.h>

namespace fs = std::filesystem;

namespace {

struct FakeProc {
    fs::path path;
    FakeProc()
    {
        char name[] = "/tmp/test_process_groups.XXXXXX";
        path = mkdtemp(name);
    }
    ~FakeProc() { fs::remove_all(path); }
    void process(unsigned pid, const std::string &comm, unsigned ppid, const std::string &cmdline = "") const
    {
        fs::create_directories(path / std::to_string(pid));
        std::ofstream(path / std::to_string(pid) / "stat") << pid << " (" << comm << ") S " << ppid << " 1 1 0\n";
        std::ofstream(path / std::to_string(pid) / "cmdline") << cmdline;
    }
};

ProcessGroups make(const std::string &conf, const FakeProc &proc)
{
    return ProcessGroups(AppsGroups::parse(conf, "test", [](const std::string &) {}), proc.path.string());
}

} // namespace

TEST_CASE("a process without a matching name keeps the group it inherited")
{
    FakeProc proc;
    ProcessGroups groups = make("build: make\n", proc);
    CHECK(groups.decide(100, "make", false, groups.other_group()) == 0);
    // a child of make that exec'd into a name nobody lists: make's group, even with make gone
    CHECK(groups.decide(101, "true", false, 0) == 0);
    CHECK(groups.decide(102, "true", false, groups.other_group()) == groups.other_group());
}

TEST_CASE("the command line is read only for substring patterns and only while the process lives")
{
    FakeProc proc;
    proc.process(200, "python3", 1, std::string("python3\0/srv/app.py\0", 20));
    ProcessGroups by_cmdline = make("app: *app.py*\n", proc);
    CHECK(by_cmdline.decide(200, "python3", true, by_cmdline.other_group()) == 0);
    // exited: no /proc read, the name is all there is
    CHECK(by_cmdline.decide(200, "python3", false, by_cmdline.other_group()) == by_cmdline.other_group());
}

TEST_CASE("processes older than the plugin are grouped from /proc, walking up their parents")
{
    FakeProc proc;
    proc.process(300, "sshd", 1);
    proc.process(301, "bash", 300);
    proc.process(302, "vim", 301);
    ProcessGroups groups = make("ssh: sshd\n", proc);
    CHECK(groups.decide_from_proc(302) == 0);
    CHECK(groups.decide_from_proc(300) == 0);
    proc.process(400, "cron", 1);
    CHECK(groups.decide_from_proc(400) == groups.other_group());
    CHECK_FALSE(groups.decide_from_proc(999).has_value()); // not in /proc
}
