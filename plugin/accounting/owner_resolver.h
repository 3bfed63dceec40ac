// Who a record's process belongs to (its cgroup, service and app group), the
// same answer for every record producer: the cgroup from the id the kernel
// gave, the app group from /proc while the process lives, else from the name
// the kernel saw and its parent's group. Looked up once per pid per report.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "accounting/cgroups.h"
#include "accounting/process_groups.h"

struct ProcessOwner {
    std::string cgroup, service, app_group;  // "" when unknown (the root cgroup, pid 0)
};

class OwnerResolver {
public:
    // The cgroups of this host (its cgroup2 root and the agent's list).
    explicit OwnerResolver(const ProcessGroups &groups);
    OwnerResolver(const ProcessGroups &groups, CgroupDirectory cgroups);

    // At each report: the app groups are decided afresh, the cgroup list
    // re-read when due.
    void begin_report();
    // `comm` is the process's name as the kernel saw it and `ppid` its parent
    // when known (0: not): they decide the app group of a process gone from
    // /proc by now (a short program), its name first, else its parent's group.
    ProcessOwner owner(uint32_t pid, uint64_t cgroup_id, std::string_view comm = {}, uint32_t ppid = 0);
    // The cgroup with this id, or nullptr once it is gone (CgroupDirectory::find).
    const CgroupInfo *cgroup(uint64_t id) { return cgroups_.find(id); }

private:
    std::string app_group(uint32_t pid, std::string_view comm, uint32_t ppid);

    const ProcessGroups &groups_;
    CgroupDirectory cgroups_;
    std::unordered_map<uint32_t, std::string> app_groups_;  // this report's, by pid
};
