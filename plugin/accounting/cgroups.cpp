#include "accounting/cgroups.h"

#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
std::vector<std::pair<std::string, std::string>> mount_table(const std::string &mounts_file)
{
    std::vector<std::pair<std::string, std::string>> mounts;  // mount point, type
    std::ifstream table(mounts_file);
    std::string line;
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string device, mount_point, type;
        if (fields >> device >> mount_point >> type)
            mounts.emplace_back(mount_point, type);
    }
    return mounts;
}

std::string leaf_of(const std::string &path) { return path.substr(path.rfind('/') + 1); }
} // namespace

std::string find_cgroup2_root(const std::string &mounts_file)
{
    for (const auto &[mount_point, type] : mount_table(mounts_file))
        if (type == "cgroup2")
            return mount_point;
    return "";
}

std::vector<std::string> find_cgroup_mounts(const std::string &mounts_file)
{
    std::vector<std::string> found;
    for (const auto &[mount_point, type] : mount_table(mounts_file))
        if (type == "cgroup" || type == "cgroup2")
            found.push_back(mount_point);
    return found;
}

std::optional<std::string> path_below_mount(const std::string &path, const std::vector<std::string> &mount_points)
{
    const std::string *best = nullptr;
    for (const std::string &mount : mount_points)
        if ((path == mount || path.starts_with(mount + "/")) && (!best || mount.size() > best->size()))
            best = &mount;
    if (!best)
        return std::nullopt;
    return path.size() == best->size() ? "" : path.substr(best->size() + 1);
}

CgroupInfo describe_cgroup(const std::string &relative_path)
{
    static const std::string service_suffix = ".service";
    std::string leaf = leaf_of(relative_path);
    bool under_system_slice = relative_path == "system.slice/" + leaf ||
                              relative_path.ends_with("/system.slice/" + leaf);
    if (under_system_slice && leaf.size() > service_suffix.size() && leaf.ends_with(service_suffix))
        return {leaf.substr(0, leaf.size() - service_suffix.size()), true};
    std::string name = relative_path;
    for (char &c : name)
        if (c == '/')
            c = '_';
    return {name, false};
}

CgroupInfo describe_agent_entry(const std::string &name, uint32_t options, const std::string &directory)
{
    constexpr uint32_t system_slice_service = 0x2;  // CGROUP_OPTIONS_SYSTEM_SLICE_SERVICE
    static const std::string service_prefix = "systemd_", cgroup_prefix = "cgroup_";
    if ((options & system_slice_service) || name.starts_with(service_prefix)) {
        // 1.37.1: the unit without its extension, which may itself start with "systemd_"
        std::string unit = leaf_of(directory);
        unit = unit.substr(0, unit.rfind('.'));
        bool prefixed = name.starts_with(service_prefix) && name != unit;
        return {prefixed ? name.substr(service_prefix.size()) : name, true};
    }
    return {name.starts_with(cgroup_prefix) ? name.substr(cgroup_prefix.size()) : name, false};
}

CgroupDirectory::CgroupDirectory(std::string cgroup2_root, std::string agent_shm_path,
                                 std::vector<std::string> mount_points)
    : root_(std::move(cgroup2_root)), agent_shm_path_(std::move(agent_shm_path)),
      mount_points_(std::move(mount_points))
{
}

void CgroupDirectory::refresh()
{
    refreshed_this_cycle_ = true;
    stale_ = false;
    cycles_since_refresh_ = 0;
    cgroups_.clear();
    from_agent_ = read_agent_list();
    if (!from_agent_ && !root_.empty())
        walk("");
}

void CgroupDirectory::begin_cycle()
{
    refreshed_this_cycle_ = false;
    if (++cycles_since_refresh_ >= refresh_every_cycles)
        stale_ = true;
}

const CgroupInfo *CgroupDirectory::find(uint64_t id)
{
    if (stale_)
        refresh();
    auto found = cgroups_.find(id);
    if (found == cgroups_.end() && !refreshed_this_cycle_) {
        refresh();
        found = cgroups_.find(id);
    }
    return found == cgroups_.end() ? nullptr : &found->second;
}

// Every directory is a cgroup, whatever its name ("." first included) and
// depth; a path longer than PATH_MAX cannot be opened, which ends the descent.
void CgroupDirectory::walk(const std::string &relative)
{
    std::string path = relative.empty() ? root_ : root_ + "/" + relative;
    DIR *directory = opendir(path.c_str());
    if (!directory)
        return;
    while (dirent *item = readdir(directory)) {
        if (item->d_type != DT_DIR || !strcmp(item->d_name, ".") || !strcmp(item->d_name, ".."))
            continue;
        std::string child = relative.empty() ? item->d_name : relative + "/" + item->d_name;
        cgroups_[item->d_ino] = describe_cgroup(child);
        walk(child);
    }
    closedir(directory);
}

namespace {
// cgroups.plugin's shared list (collectors/cgroups.plugin, Netdata 1.37.1):
// a header, then cgroup_root_max bodies.
struct AgentListHeader {
    int cgroup_root_count;
    int cgroup_max;
    int systemd_enabled;
    int pad;
    size_t body_length;
};
struct AgentListBody {
    char name[256];
    uint32_t hash;
    uint32_t options;
    int enabled;
    char path[4096 + 1];
};
} // namespace

// The list is written by the agent's cgroups.plugin; a setuid plugin only
// takes it from the owner it expects and only uses the names and paths in it.
// An agent that stops leaves the file with no entries: then it is not used.
bool CgroupDirectory::read_agent_list()
{
    int fd = open(agent_shm_path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct stat status;
    bool trusted = fstat(fd, &status) == 0 && S_ISREG(status.st_mode) &&
                   (status.st_uid == 0 || status.st_uid == getuid()) && !(status.st_mode & S_IWOTH) &&
                   static_cast<size_t>(status.st_size) >= sizeof(AgentListHeader);
    void *mapping = trusted ? mmap(nullptr, status.st_size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    if (mapping == MAP_FAILED)
        return false;
    const auto *header = static_cast<const AgentListHeader *>(mapping);
    size_t capacity = (status.st_size - sizeof(AgentListHeader)) / sizeof(AgentListBody);
    size_t count = header->cgroup_root_count < 0 ? 0 : static_cast<size_t>(header->cgroup_root_count);
    const auto *bodies = reinterpret_cast<const AgentListBody *>(header + 1);
    for (size_t i = 0; i < count && i < capacity; ++i) {
        const AgentListBody &body = bodies[i];
        if (body.enabled)
            add_agent_entry(std::string(body.name, strnlen(body.name, sizeof(body.name))), body.options,
                            std::string(body.path, strnlen(body.path, sizeof(body.path))));
    }
    munmap(mapping, status.st_size);
    return count > 0;
}

// The agent gives the cgroup.procs of a v1 hierarchy on hybrid hosts (v1
// controllers and v2 at /sys/fs/cgroup/unified): the id counted is that of the
// same path in the v2 hierarchy.
void CgroupDirectory::add_agent_entry(const std::string &name, uint32_t options, const std::string &procs_path)
{
    std::string directory = procs_path.substr(0, procs_path.rfind('/'));
    std::optional<std::string> relative = path_below_mount(directory, mount_points_);
    if (relative && relative->empty())
        return;  // a hierarchy's root: the system's
    std::string v2_directory = relative && !root_.empty() ? root_ + "/" + *relative : directory;
    struct stat cgroup;
    if (stat(v2_directory.c_str(), &cgroup) == 0 && S_ISDIR(cgroup.st_mode))
        cgroups_[cgroup.st_ino] = describe_agent_entry(name, options, directory);
}
