#include "accounting/owner_resolver.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdlib.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace {

// A fake /proc and a fake cgroup2 hierarchy (a cgroup's id is its directory's inode).
struct Host {
    fs::path proc, cgroups;
    Host()
    {
        char proc_name[] = "/tmp/test_owner_proc.XXXXXX", cgroup_name[] = "/tmp/test_owner_cgroup.XXXXXX";
        proc = mkdtemp(proc_name);
        cgroups = mkdtemp(cgroup_name);
    }
    ~Host()
    {
        fs::remove_all(proc);
        fs::remove_all(cgroups);
    }
    void process(unsigned pid, const std::string &comm, unsigned ppid) const
    {
        fs::create_directories(proc / std::to_string(pid));
        std::ofstream(proc / std::to_string(pid) / "stat") << pid << " (" << comm << ") S " << ppid << " 1 1 0\n";
    }
    void gone(unsigned pid) const { fs::remove_all(proc / std::to_string(pid)); }
    uint64_t cgroup(const std::string &relative) const
    {
        fs::create_directories(cgroups / relative);
        struct stat status {};
        stat((cgroups / relative).c_str(), &status);
        return status.st_ino;
    }
};

struct Resolver {
    ProcessGroups groups;
    OwnerResolver owners;
    Resolver(const Host &host, const std::string &conf)
        : groups(AppsGroups::parse(conf, "test", [](const std::string &) {}), host.proc.string()),
          owners(groups, CgroupDirectory(host.cgroups.string(), host.cgroups.string() + "/no-such-shm"))
    {
        owners.begin_report();
    }
};

} // namespace

TEST_CASE("an owner: the cgroup and service by id, the app group of a live process from /proc")
{
    Host host;
    uint64_t web = host.cgroup("system.slice/web.service"), box = host.cgroup("machine/box");
    host.process(10, "nginx", 1);
    host.process(11, "worker", 10);
    Resolver resolver(host, "www: nginx\n");
    ProcessOwner service = resolver.owners.owner(11, web, "worker");
    CHECK(service.cgroup == "web");
    CHECK(service.service == "web");
    CHECK(service.app_group == "www");  // its parent's group, from /proc
    ProcessOwner plain = resolver.owners.owner(10, box);
    CHECK(plain.cgroup == "machine_box");
    CHECK(plain.service == "");
    CHECK(plain.app_group == "www");
    // no process (an accepted socket not named yet), the root cgroup: nothing known
    ProcessOwner nobody = resolver.owners.owner(0, host.cgroup(""));
    CHECK(nobody.cgroup == "");
    CHECK(nobody.app_group == "");
}

TEST_CASE("a process gone by report time: its group by the name the kernel saw, else its parent's, else other")
{
    Host host;
    host.process(20, "make", 1);
    Resolver resolver(host, "build: make cc1\n");
    CHECK(resolver.owners.owner(21, 0, "cc1").app_group == "build");           // by its name
    CHECK(resolver.owners.owner(22, 0, "true", 20).app_group == "build");      // its parent lives
    CHECK(resolver.owners.owner(23, 0, "true", 99).app_group == "other");      // its parent is gone too
    CHECK(resolver.owners.owner(24, 0, "true").app_group == "other");          // no parent known
    CHECK(resolver.owners.owner(25, 0).app_group == "other");                  // no name either
}

TEST_CASE("one answer per pid per report: the next report decides afresh")
{
    Host host;
    host.process(30, "sleep", 1);
    Resolver resolver(host, "sleepers: sleep\nbuild: make\n");
    CHECK(resolver.owners.owner(30, 0, "sleep").app_group == "sleepers");
    host.gone(30);
    // the same report: the answer given, whatever the name of a later record says
    CHECK(resolver.owners.owner(30, 0, "make").app_group == "sleepers");
    resolver.owners.begin_report();
    CHECK(resolver.owners.owner(30, 0, "make").app_group == "build");
}

TEST_CASE("a removed cgroup is gone from the resolver by a later report")
{
    Host host;
    uint64_t late = host.cgroup("late");
    Resolver resolver(host, "");
    REQUIRE(resolver.owners.cgroup(late));
    CHECK(resolver.owners.owner(1, late).cgroup == "late");
    fs::remove(host.cgroups / "late");
    for (unsigned cycle = 0; cycle <= CgroupDirectory::refresh_every_cycles; ++cycle)
        resolver.owners.begin_report();
    CHECK(resolver.owners.cgroup(late) == nullptr);
    CHECK(resolver.owners.owner(1, late).cgroup == "");
}
