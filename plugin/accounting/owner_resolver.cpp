#include "accounting/owner_resolver.h"

#include <utility>

OwnerResolver::OwnerResolver(const ProcessGroups &groups)
    : OwnerResolver(groups, CgroupDirectory(find_cgroup2_root("/proc/self/mounts"), "/dev/shm/netdata_shm_cgroup_ebpf",
                                            find_cgroup_mounts("/proc/self/mounts")))
{
}

OwnerResolver::OwnerResolver(const ProcessGroups &groups, CgroupDirectory cgroups)
    : groups_(groups), cgroups_(std::move(cgroups))
{
}

void OwnerResolver::begin_report()
{
    cgroups_.begin_cycle();
    app_groups_.clear();
}

ProcessOwner OwnerResolver::owner(uint32_t pid, uint64_t cgroup_id, std::string_view comm, uint32_t ppid)
{
    ProcessOwner owner;
    if (const CgroupInfo *cgroup = cgroups_.find(cgroup_id)) {
        owner.cgroup = cgroup->name;
        if (cgroup->service)
            owner.service = cgroup->name;
    }
    if (pid)
        owner.app_group = app_group(pid, comm, ppid);
    return owner;
}

std::string OwnerResolver::app_group(uint32_t pid, std::string_view comm, uint32_t ppid)
{
    auto [known, added] = app_groups_.try_emplace(pid);
    if (!added)
        return known->second;
    std::optional<int> group = groups_.decide_from_proc(pid);
    if (!group) {
        int inherited = groups_.other_group();
        if (ppid)
            inherited = groups_.decide_from_proc(ppid).value_or(inherited);
        group = groups_.decide(pid, comm, false, inherited);
    }
    return known->second = groups_.names()[*group];
}
