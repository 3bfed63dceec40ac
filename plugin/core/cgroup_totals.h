// Totals per cgroup name that only grow. The BPF tables count per cgroup id,
// and a cgroup removed and re-created under the same name has a new id, so
// what each id counts is credited to its name as deltas (as a process's
// counts are to its app group): a name's counters never go backwards.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "accounting/cgroups.h"
#include "accounting/counter_totals.h"
#include "core/publisher.h"

class CgroupTotals {
public:
    // Cycles an id gone from the directory is still read: the last exits and
    // releases of its tasks can be counted after its directory was removed.
    static constexpr unsigned grace_cycles = 1;

    // Credits one module's per-id totals to the ids' names. Returns the ids to
    // remove from that module's tables: unknown ones, and removed ones after
    // the grace cycles.
    std::vector<uint64_t> credit(size_t module, const std::vector<std::string> &counter_names,
                                 const std::map<uint64_t, CounterTotals> &ids, CgroupDirectory &directory);
    // The totals of every cgroup and service credited this cycle (a name goes
    // from the snapshot, and its charts obsolete, one cycle after its last id).
    void take_live(std::map<std::string, Counters> &cgroups, std::map<std::string, Counters> &services);

private:
    using Name = std::pair<bool, std::string>;  // service?, name
    struct IdState {
        Name name;
        std::vector<uint64_t> credited;
        unsigned cycles_missing = 0;
    };
    std::vector<std::unordered_map<uint64_t, IdState>> ids_;  // per module
    std::map<Name, Counters> totals_;
    std::set<Name> live_;
};
