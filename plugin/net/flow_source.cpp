#include "net/flow_source.h"

#include "core/log.h"

FlowSource::FlowSource(const ProcessGroups &groups)
    : groups_(groups),
      cgroups_(find_cgroup2_root("/proc/self/mounts"), "/dev/shm/netdata_shm_cgroup_ebpf",
               find_cgroup_mounts("/proc/self/mounts"))
{
}

std::unique_ptr<FlowSource> FlowSource::start(const KernelSymbols &kernel, const FlowsConfig &config,
                                              const ProcessGroups &groups, std::string &error)
{
    std::unique_ptr<FlowSource> source(new FlowSource(groups));
    error = source->probe_.start(kernel, config.max_connections);
    if (!error.empty())
        return nullptr;
    FlowFilter filter = parse_flow_filter_logged(config.filter);
    source->reporter_ = std::make_unique<FlowReporter>(
        source->probe_.table_fd(), std::move(filter), read_port_range("/proc/sys/net/ipv4/ip_local_port_range"),
        [raw = source.get()](uint32_t pid, uint64_t cgroup_id) { return raw->owner(pid, cgroup_id); });
    return source;
}

FlowOwner FlowSource::owner(uint32_t pid, uint64_t cgroup_id)
{
    FlowOwner owner;
    if (const CgroupInfo *cgroup = cgroups_.find(cgroup_id)) {
        owner.cgroup = cgroup->name;
        if (cgroup->service)
            owner.service = cgroup->name;
    }
    auto [known, added] = app_groups_.try_emplace(pid);
    if (added && pid) {
        // a process gone by now has no group to tell
        std::optional<int> group = groups_.decide_from_proc(pid);
        if (group)
            known->second = groups_.names()[*group];
    }
    owner.app_group = known->second;
    return owner;
}

void FlowSource::report(RecordStream &stream, uint64_t time_usec)
{
    cgroups_.begin_cycle();
    app_groups_.clear();
    reporter_->report(time_usec, [&](Record record) { stream.emit(std::move(record)); });
}
