// Names of the cgroups the BPF tables count by id. Taken from the agent's
// shared cgroup list (cgroups.plugin's netdata_shm_cgroup_ebpf) when it
// lists any, otherwise from a walk of the cgroup v2 hierarchy (a cgroup's id
// is its directory's inode number there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct CgroupInfo {
    std::string name;     // chart name part: "docker_abc", "user.slice_user-0.slice"
    bool service = false; // a systemd service: name is the unit without ".service"
};

class CgroupDirectory {
public:
    // Removed cgroups are noticed by a re-read at least this often.
    static constexpr unsigned refresh_every_cycles = 3;

    // mount_points: every cgroup and cgroup2 mount, to find a v1 path's twin
    // in the v2 hierarchy (hybrid hosts).
    CgroupDirectory(std::string cgroup2_root, std::string agent_shm_path,
                    std::vector<std::string> mount_points = {});

    // Re-reads the list.
    void refresh();
    // Once per cycle: the list is re-read every refresh_every_cycles cycles,
    // by the first find() (no cost while nothing asks, e.g. `cgroups = no`).
    void begin_cycle();
    // The cgroup with this id, refreshing once per cycle if it is unknown;
    // nullptr when it no longer exists (or is the root, which is the system
    // charts' business).
    const CgroupInfo *find(uint64_t id);
    bool from_agent() const { return from_agent_; }

private:
    bool read_agent_list();
    void add_agent_entry(const std::string &name, uint32_t options, const std::string &procs_path);
    void walk(const std::string &relative);

    std::string root_;
    std::string agent_shm_path_;
    std::vector<std::string> mount_points_;
    std::unordered_map<uint64_t, CgroupInfo> cgroups_;
    bool refreshed_this_cycle_ = false;
    bool stale_ = false;
    unsigned cycles_since_refresh_ = 0;
    bool from_agent_ = false;
};

// The cgroup v2 mount point from a mounts table ("/proc/self/mounts"), or "".
std::string find_cgroup2_root(const std::string &mounts_file);
// Every cgroup (v1) and cgroup2 mount point of a mounts table.
std::vector<std::string> find_cgroup_mounts(const std::string &mounts_file);
// The path below the longest mount point that holds it ("" for the mount
// point itself); nullopt when none does.
std::optional<std::string> path_below_mount(const std::string &path, const std::vector<std::string> &mount_points);
// Chart name and service flag for a path relative to the cgroup v2 root.
CgroupInfo describe_cgroup(const std::string &relative_path);
// Chart name and service flag of an entry of the agent's list. Netdata 1.37.1
// writes a service as its bare unit name with option bit 0x2 and a cgroup as
// "cgroup_<name>"; later agents write "systemd_<unit>" and "cgroup_<name>".
CgroupInfo describe_agent_entry(const std::string &name, uint32_t options, const std::string &directory);
