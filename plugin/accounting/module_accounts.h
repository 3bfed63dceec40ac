// Everything one counting module has counted so far: system-wide, per app
// group and per cgroup, as totals that only grow. Reads the module's tables
// once per cycle and removes the entries of processes that exited.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "accounting/counter_totals.h"
#include "accounting/process_core.h"
#include "accounting/process_slots.h"
#include "accounting/table_reader.h"
#include "modules/module.h"

class ModuleAccounts {
public:
    ModuleAccounts(CountingModule &module, const ModuleSettings &settings, size_t group_count);

    // One cycle, between the core's begin_cycle and end_cycle (core is null
    // when app groups are off). The pid table follows the core every cycle
    // (the core's change marks are taken once a cycle for all modules); the
    // global and cgroup tables are read only when the module is `due` (its
    // update every). Returns "" or a one-line error (the cycle's data is then
    // partial).
    std::string collect(ProcessCore *core, bool due = true);

    // counters, then pid-table-full and cgroup-table-full
    const std::vector<uint64_t> &system() const { return system_.totals(); }
    const std::vector<CounterTotals> &groups() const { return groups_; }
    const std::map<uint64_t, CounterTotals> &cgroups() const { return cgroups_; }
    // Processes it holds counts for: in its pid table, or in their slots.
    size_t pid_entries() const { return processes_.size() + slotted_.size(); }
    // Forget cgroups that no longer exist, and remove their table entries.
    void drop_cgroups(const std::vector<uint64_t> &ids);

private:
    std::string collect_processes(ProcessCore &core);
    void take_slots(ProcessCore &core);
    std::string read_processes(ProcessCore &core);
    std::string collect_cgroups();

    CountingModule &module_;
    ModuleSettings settings_;
    size_t counter_count_;
    uint64_t counter_mask_;
    CounterTotals system_;
    std::vector<CounterTotals> groups_;
    std::map<uint64_t, CounterTotals> cgroups_;
    // last counters read per pid; late entries (re-created after their
    // process was removed) wait one cycle in late_ before removal
    std::unordered_map<uint32_t, std::vector<uint64_t>> processes_;
    std::unordered_set<uint32_t> late_;
    std::unordered_set<uint32_t> waiting_; // entries of processes the core has not recorded yet
    TableReader pid_reader_, cgroup_reader_;
    std::unique_ptr<CounterSlots> slots_;  // null when slots are off
    std::unordered_set<uint32_t> slotted_; // processes with counts in their slot, until they finish
    std::vector<uint64_t> deltas_;
    std::vector<TableEntry> entries_;
    std::vector<uint64_t> keys_, missing_;
    std::vector<uint64_t> reading_; // one cgroup entry's counters
};
