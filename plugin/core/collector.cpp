#include "core/collector.h"

#include <cstdio>

#include "socket.h"

int attach_path_code(AttachPath path)
{
    switch (path) {
    case AttachPath::Trampoline: return 1;
    case AttachPath::Kprobe: return 2;
    case AttachPath::Tracepoint: return 3;
    case AttachPath::Auto: break;
    }
    return 0;
}

void add_derived_counters(Counters &counters, const Counters *previous)
{
    auto value = [](const Counters &from, const char *name) -> int64_t {
        auto found = from.find(name);
        return found == from.end() ? 0 : found->second;
    };
    // socket bytes are counted in two parts (kernel-collector/socket.h)
    for (const char *transfer : {"tcp_send", "tcp_recv", "udp_send", "udp_recv"}) {
        std::string units = std::string(transfer) + "_units";
        if (counters.contains(units))
            counters[std::string(transfer) + "_bytes"] =
                value(counters, units.c_str()) * (1 << SOCKET_BYTES_SHIFT) +
                value(counters, (std::string(transfer) + "_rest").c_str());
    }
    if (counters.contains("tcp_send_bytes")) {  // per group, 1.37.1 added TCP and UDP
        counters["send_bytes"] = value(counters, "tcp_send_bytes") + value(counters, "udp_send_bytes");
        counters["recv_bytes"] = value(counters, "tcp_recv_bytes") + value(counters, "udp_recv_bytes");
    }
    if (counters.contains("process_error"))
        counters["task_error"] = value(counters, "process_error") + value(counters, "thread_error");
    if (previous && counters.contains("create_process")) {
        counters["status_process"] = value(counters, "create_process") - value(*previous, "create_process");
        counters["status_zombie"] = (value(counters, "exit_task") - value(*previous, "exit_task")) -
                                    (value(counters, "release_task") - value(*previous, "release_task"));
    }
}

Collector::Collector(ProcessGroups groups, CgroupDirectory cgroups)
    : groups_(std::move(groups)), cgroups_(std::move(cgroups))
{
}

void Collector::add(std::unique_ptr<CountingModule> module, AttachPath path, const ModuleSettings &settings)
{
    RunningModule running{std::move(module), path, settings, nullptr};
    running.accounts = std::make_unique<ModuleAccounts>(*running.module, settings, groups_.names().size());
    modules_.push_back(std::move(running));
}

void Collector::report_once(const std::string &message)
{
    if (reported_.insert(message).second)
        fprintf(stderr, "ebpf.plugin: %s\n", message.c_str());
}

Snapshot Collector::collect()
{
    cgroups_.begin_cycle();
    for (RunningModule &running : modules_) {
        std::string error = running.accounts->collect(groups_);
        if (!error.empty())
            report_once(std::string(running.module->name()) + ": " + error);
    }
    groups_.end_cycle();

    Snapshot snapshot;
    add_system(snapshot);
    add_groups(snapshot);
    add_cgroups(snapshot);
    return snapshot;
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
        system["attach_path_" + module] = attach_path_code(running.path);
        system["pid_entries_" + module] = static_cast<int64_t>(running.accounts->pid_entries());
        system["table_full_" + module] = static_cast<int64_t>(totals[names.size()] + totals[names.size() + 1]);
    }
    Counters current = system;
    add_derived_counters(system, previous_system_.empty() ? nullptr : &previous_system_);
    previous_system_ = std::move(current);
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
}

void Collector::add_cgroups(Snapshot &snapshot)
{
    for (RunningModule &running : modules_) {
        const auto &names = running.module->counter_names();
        std::vector<uint64_t> gone;
        for (const auto &[id, totals] : running.accounts->cgroups()) {
            const CgroupInfo *info = cgroups_.find(id);
            if (!info) {
                gone.push_back(id);
                continue;
            }
            Counters &counters = info->service ? snapshot.services[info->name] : snapshot.cgroups[info->name];
            for (size_t i = 0; i < names.size(); ++i)
                counters[names[i]] += static_cast<int64_t>(totals.totals()[i]);
        }
        running.accounts->drop_cgroups(gone);
    }
    for (auto *scope : {&snapshot.cgroups, &snapshot.services})
        for (auto &[name, counters] : *scope)
            add_derived_counters(counters, nullptr);
}
