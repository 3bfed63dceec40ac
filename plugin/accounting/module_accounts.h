// Everything one counting module has counted so far: system-wide, per app
// group and per cgroup, as totals that only grow. Reads the module's tables
// once per cycle and removes the entries of processes that exited.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "accounting/active_pids.h"
#include "accounting/counter_totals.h"
#include "modules/module.h"
#include "accounting/process_groups.h"
#include "accounting/table_reader.h"

class ModuleAccounts {
public:
    ModuleAccounts(CountingModule &module, const ModuleSettings &settings, size_t group_count);

    // One cycle. Returns "" or a one-line error (the cycle's data is then partial).
    std::string collect(ProcessGroups &groups);

    // counters, then pid-table-full and cgroup-table-full
    const std::vector<uint64_t> &system() const { return system_.totals(); }
    const std::vector<CounterTotals> &groups() const { return groups_; }
    const std::map<uint64_t, CounterTotals> &cgroups() const { return cgroups_; }
    size_t pid_entries() const { return processes_.size(); }
    // Forget cgroups that no longer exist, and remove their table entries.
    void drop_cgroups(const std::vector<uint64_t> &ids);

private:
    struct ProcessState {
        std::vector<uint64_t> last;
        bool exit_seen = false;
        bool seen = false;
    };
    std::string collect_processes(ProcessGroups &groups);
    std::string read_processes();
    void account_process(const MergedEntry &entry, ProcessGroups &groups, std::vector<uint64_t> &finished);
    std::string collect_cgroups();

    CountingModule &module_;
    ModuleSettings settings_;
    size_t counter_count_;
    uint64_t counter_mask_;
    CounterTotals system_;
    std::vector<CounterTotals> groups_;
    std::map<uint64_t, CounterTotals> cgroups_;
    std::unordered_map<uint32_t, ProcessState> processes_;
    TableReader pid_reader_, cgroup_reader_;
    ActivePids active_;
    std::vector<MergedEntry> entries_;
    std::vector<uint64_t> keys_, missing_;
};
