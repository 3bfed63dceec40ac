// Names of the cgroups the BPF tables count by id. Taken from the agent's
// shared cgroup list (cgroups.plugin's netdata_shm_cgroup_ebpf) when it
// exists, otherwise from a walk of the cgroup v2 hierarchy (a cgroup's id is
// its directory's inode number there).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

struct CgroupInfo {
    std::string name;     // chart name part: "docker_abc", "user.slice_user-0.slice"
    bool service = false; // a systemd service: name is the unit without ".service"
};

class CgroupDirectory {
public:
    CgroupDirectory(std::string cgroup2_root, std::string agent_shm_path);

    // Re-reads the list; at most once per cycle however often ids are unknown.
    void refresh();
    void begin_cycle() { refreshed_this_cycle_ = false; }
    // The cgroup with this id, refreshing once if it is unknown; nullptr when it
    // no longer exists (or is the root, which is the system charts' business).
    const CgroupInfo *find(uint64_t id);
    bool from_agent() const { return from_agent_; }

private:
    bool read_agent_list();
    void walk(const std::string &relative, int depth);

    std::string root_;
    std::string agent_shm_path_;
    std::unordered_map<uint64_t, CgroupInfo> cgroups_;
    bool refreshed_this_cycle_ = false;
    bool from_agent_ = false;
};

// The cgroup v2 mount point from a mounts table ("/proc/self/mounts"), or "".
std::string find_cgroup2_root(const std::string &mounts_file);
// Chart name and service flag for a path relative to the cgroup v2 root.
CgroupInfo describe_cgroup(const std::string &relative_path);
