// One collection cycle: reads every running module and turns what they
// counted into a Snapshot of named counters per system, app group, cgroup and
// systemd service.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "accounting/cgroups.h"
#include "accounting/module_accounts.h"
#include "accounting/process_core.h"
#include "accounting/process_groups.h"
#include "core/cgroup_totals.h"
#include "core/publisher.h"
#include "modules/table_module.h"

struct RunningModule {
    std::unique_ptr<CountingModule> module;
    AttachPath path;
    ModuleSettings settings;
    std::unique_ptr<ModuleAccounts> accounts;
    size_t slot = 0;  // its index among the modules ever added: stays when another is shed
};

struct RunningTableModule {
    std::unique_ptr<TableModule> module;
    AttachPath path;
    ModuleSettings settings;
};

class Collector {
public:
    // core: the started process core, or null when no module groups processes.
    Collector(ProcessGroups groups, std::unique_ptr<ProcessCore> core, CgroupDirectory cgroups);

    // Takes a started module; its tables are read from the next cycle on.
    void add(std::unique_ptr<CountingModule> module, AttachPath path, const ModuleSettings &settings);
    void add(std::unique_ptr<TableModule> module, AttachPath path, const ModuleSettings &settings);
    const std::vector<RunningModule> &modules() const { return modules_; }
    const std::vector<RunningTableModule> &table_modules() const { return table_modules_; }
    // Reads the modules named in `due` (all when absent); the snapshot has every module's totals.
    Snapshot collect(const std::set<std::string> *due = nullptr);
    // The modules (and "self", every self_update_every seconds) due after `elapsed` seconds.
    std::set<std::string> due_modules(uint64_t elapsed, int self_update_every) const;
    const ProcessCore *core() const { return core_.get(); }
    // Stops a module (its programs are detached, its tables freed) and reads it no more.
    void shed(const std::string &module);

private:
    void add_system(Snapshot &snapshot);
    void add_groups(Snapshot &snapshot);
    void add_cgroups(Snapshot &snapshot);
    void add_tables(Snapshot &snapshot, const std::set<std::string> *due);
    void report_once(const std::string &message);

    ProcessGroups groups_;
    std::unique_ptr<ProcessCore> core_;
    CgroupDirectory cgroups_;
    CgroupTotals cgroup_totals_;
    std::vector<RunningModule> modules_;
    size_t added_ = 0;                   // modules ever added
    std::vector<RunningTableModule> table_modules_;
    std::set<size_t> active_groups_;     // groups that ever counted something
    Counters previous_system_;           // for the per-interval counters
    // Each scope's counters at the previous read, per app group, cgroup and service.
    std::map<std::string, Counters> previous_apps_, previous_cgroups_, previous_services_;
    std::set<std::string> reported_;
};

// Counters computed from others by the registered modules (modules/registry.h):
// e.g. process's per-interval process_status values and combined task_error.
void add_derived_counters(Counters &counters, const Counters *previous);
// The modules' per-interval counters (cachestat hits, misses and ratio; dcstat ratio).
void add_per_interval_counters(Counters &counters, const Counters &previous);

// add_per_interval_counters for every entity of a scope; `previous` becomes this read's values.
void add_interval_counters(std::map<std::string, Counters> &scope, std::map<std::string, Counters> &previous);

// Self-monitoring: attach_<module>_<path> is 1 for the path `module` uses, 0
// for the others (charts/self.conf), so the chart reads without a legend.
void add_attach_path_counters(Counters &counters, const std::string &module, AttachPath in_use);
