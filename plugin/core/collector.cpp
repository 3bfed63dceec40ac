#include "core/collector.h"
#include "core/log.h"
#include "modules/registry.h"

#include <cstdio>

void add_attach_path_counters(Counters &counters, const std::string &module, AttachPath in_use)
{
    for (AttachPath path : {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint})
        counters["attach_" + module + "_" + attach_path_name(path)] = path == in_use;
}

void add_derived_counters(Counters &counters, const Counters *previous)
{
    for (const ModuleRegistration &module : registered_modules())
        if (module.derive)
            module.derive(counters, previous);
}

void add_per_interval_counters(Counters &counters, const Counters &previous)
{
    for (const ModuleRegistration &module : registered_modules())
        if (module.per_interval)
            module.per_interval(counters, previous);
}

void add_interval_counters(std::map<std::string, Counters> &scope, std::map<std::string, Counters> &previous)
{
    std::map<std::string, Counters> current;
    for (auto &[name, counters] : scope) {
        const Counters &before = previous[name];  // none yet: everything counted so far
        add_per_interval_counters(counters, before);
        current[name] = counters;
    }
    previous = std::move(current);  // forgets entities that are gone
}

Collector::Collector(ProcessGroups groups, std::unique_ptr<ProcessCore> core, CgroupDirectory cgroups)
    : groups_(std::move(groups)), core_(std::move(core)), cgroups_(std::move(cgroups))
{
}

void Collector::add(std::unique_ptr<CountingModule> module, AttachPath path, const ModuleSettings &settings)
{
    RunningModule running{std::move(module), path, settings, nullptr, added_++};
    running.accounts = std::make_unique<ModuleAccounts>(*running.module, settings, groups_.names().size());
    modules_.push_back(std::move(running));
}

void Collector::shed(const std::string &module)
{
    std::erase_if(modules_, [&](const RunningModule &running) { return running.module->name() == module; });
}

void Collector::add(std::unique_ptr<TableModule> module, AttachPath path, const ModuleSettings &settings)
{
    table_modules_.push_back({std::move(module), path, settings});
}

void Collector::report_once(const std::string &message)
{
    if (reported_.insert(message).second)
        log_error("%s", message.c_str());
}

std::set<std::string> Collector::due_modules(uint64_t elapsed, int self_update_every) const
{
    std::set<std::string> due;
    if (elapsed % static_cast<uint64_t>(self_update_every) == 0)
        due.insert("self");
    for (const RunningModule &running : modules_)
        if (elapsed % static_cast<uint64_t>(running.settings.update_every) == 0)
            due.insert(running.module->name());
    for (const RunningTableModule &running : table_modules_)
        if (elapsed % static_cast<uint64_t>(running.settings.update_every) == 0)
            due.insert(running.module->name());
    return due;
}

Snapshot Collector::collect(const std::set<std::string> *due)
{
    cgroups_.begin_cycle();
    if (core_) {
        std::string error = core_->begin_cycle();
        if (!error.empty())
            report_once("process core: " + error);
    }
    for (RunningModule &running : modules_) {
        bool is_due = !due || due->contains(running.module->name());
        std::string error = running.accounts->collect(core_.get(), is_due);
        if (!error.empty())
            report_once(std::string(running.module->name()) + ": " + error);
    }
    if (core_) {
        std::string error = core_->end_cycle();
        if (!error.empty())
            report_once("process core: " + error);
    }

    Snapshot snapshot;
    add_system(snapshot);
    add_groups(snapshot);
    add_cgroups(snapshot);
    add_tables(snapshot, due);
    return snapshot;
}

void Collector::add_tables(Snapshot &snapshot, const std::set<std::string> *due)
{
    for (RunningTableModule &running : table_modules_) {
        std::string module = running.module->name();
        add_attach_path_counters(snapshot.system, module, running.path);
        if (due && !due->contains(module))
            continue;
        std::string error = running.module->read(snapshot.keyed);
        if (!error.empty()) {
            report_once(module + ": " + error);
            continue;  // its charts stay as they were
        }
        snapshot.keyed_modules.insert(module);
    }
}

void Collector::add_system(Snapshot &snapshot)
{
    Counters &system = snapshot.system;
    for (const RunningModule &running : modules_) {
        const auto &names = running.module->counter_names();
        const auto &totals = running.accounts->system();
        for (size_t i = 0; i < names.size(); ++i)
            system[names[i]] = static_cast<int64_t>(totals[i]);
        std::string module = running.module->name();
        add_attach_path_counters(system, module, running.path);
        system["pid_entries_" + module] = static_cast<int64_t>(running.accounts->pid_entries());
        system["table_full_" + module] = static_cast<int64_t>(totals[names.size()] + totals[names.size() + 1]);
    }
    // the core has one path: BTF tracepoints
    system["attach_core_tracepoint"] = core_ != nullptr;
    system["pid_entries_core"] = core_ ? static_cast<int64_t>(core_->entries()) : 0;
    system["table_full_core"] = core_ ? static_cast<int64_t>(core_->table_full()) : 0;
    add_derived_counters(system, previous_system_.empty() ? nullptr : &previous_system_);
    add_per_interval_counters(system, previous_system_);
    previous_system_ = system;  // with the running totals of the interval counters
}

void Collector::add_groups(Snapshot &snapshot)
{
    for (const RunningModule &running : modules_) {
        const auto &groups = running.accounts->groups();
        for (size_t group = 0; group < groups.size(); ++group)
            for (uint64_t total : groups[group].totals())
                if (total)
                    active_groups_.insert(group);
    }
    for (size_t group : active_groups_) {
        if (groups_.hidden(static_cast<int>(group)))
            continue;
        Counters &counters = snapshot.apps[groups_.names()[group]];
        for (const RunningModule &running : modules_) {
            const auto &names = running.module->counter_names();
            const auto &totals = running.accounts->groups()[group].totals();
            for (size_t i = 0; i < names.size(); ++i)
                counters[names[i]] = static_cast<int64_t>(totals[i]);
        }
        add_derived_counters(counters, nullptr);
    }
    add_interval_counters(snapshot.apps, previous_apps_);
}

void Collector::add_cgroups(Snapshot &snapshot)
{
    for (RunningModule &running : modules_) {
        ModuleAccounts &accounts = *running.accounts;
        accounts.drop_cgroups(cgroup_totals_.credit(running.slot, running.module->counter_names(),
                                                    accounts.cgroups(), cgroups_));
    }
    cgroup_totals_.take_live(snapshot.cgroups, snapshot.services);
    for (auto *scope : {&snapshot.cgroups, &snapshot.services})
        for (auto &[name, counters] : *scope)
            add_derived_counters(counters, nullptr);
    add_interval_counters(snapshot.cgroups, previous_cgroups_);
    add_interval_counters(snapshot.services, previous_services_);
}
