#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cgroup_totals.h"

namespace {
const std::vector<std::string> names = {"open_call"};

uint64_t make_cgroup(const std::string &path)
{
    std::filesystem::create_directories(path);
    struct stat status;
    REQUIRE(stat(path.c_str(), &status) == 0);
    return status.st_ino;
}

struct Cycle {
    std::map<std::string, Counters> cgroups, services;
    std::vector<uint64_t> dropped;
};

// One cycle: the module's tables hold `ids` (totals per id so far).
Cycle run(CgroupTotals &totals, CgroupDirectory &directory, std::map<uint64_t, CounterTotals> &ids)
{
    Cycle cycle;
    directory.begin_cycle();
    cycle.dropped = totals.credit(0, names, ids, directory);
    for (uint64_t id : cycle.dropped)
        ids.erase(id);
    totals.take_live(cycle.cgroups, cycle.services);
    return cycle;
}

void count(std::map<uint64_t, CounterTotals> &ids, uint64_t id, uint32_t reading)
{
    ids.try_emplace(id, 1).first->second.update({reading});
}
} // namespace

TEST_CASE("a cgroup re-created under the same name continues from its totals; a removed one leaves the snapshot")
{
    char name[] = "/tmp/ebpf-cgroup-totals.XXXXXX";
    std::string root = mkdtemp(name);
    CgroupDirectory directory(root, root + "/no-such-shm");
    CgroupTotals totals;
    std::map<uint64_t, CounterTotals> ids;

    uint64_t first = make_cgroup(root + "/web");
    // made outside the hierarchy and moved in later: tmpfs would reuse a freed inode number
    uint64_t second = make_cgroup(root + "-next");
    count(ids, first, 427);
    Cycle cycle = run(totals, directory, ids);
    CHECK(cycle.cgroups["web"]["open_call"] == 427);

    // removed: known until the next re-read, then read for grace_cycles more
    // cycles (late releases), then dropped; the name leaves one cycle later
    rmdir((root + "/web").c_str());
    count(ids, first, 430);
    unsigned cycles = 0;
    while (!run(totals, directory, ids).dropped.size()) {
        REQUIRE(++cycles <= CgroupDirectory::refresh_every_cycles + CgroupTotals::grace_cycles);
    }
    cycle = run(totals, directory, ids);
    CHECK_FALSE(cycle.cgroups.contains("web"));

    // re-created: a new id whose table counts start again at 0
    std::filesystem::rename(root + "-next", root + "/web");
    count(ids, second, 61);
    cycle = run(totals, directory, ids);
    CHECK(cycle.cgroups["web"]["open_call"] == 430 + 61);
    CHECK(cycle.dropped.empty());

    // an id the directory never named is dropped at once
    count(ids, 999999999, 5);
    cycle = run(totals, directory, ids);
    CHECK(cycle.dropped == std::vector<uint64_t>{999999999});
    CHECK(cycle.cgroups.size() == 1);
    std::filesystem::remove_all(root);
}
