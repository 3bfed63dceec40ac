#include "accounting/cgroups.h"

#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

std::string find_cgroup2_root(const std::string &mounts_file)
{
    std::ifstream mounts(mounts_file);
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string device, mount_point, type;
        if (fields >> device >> mount_point >> type && type == "cgroup2")
            return mount_point;
    }
    return "";
}

CgroupInfo describe_cgroup(const std::string &relative_path)
{
    static const std::string service_suffix = ".service";
    std::string leaf = relative_path.substr(relative_path.rfind('/') + 1);
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

CgroupDirectory::CgroupDirectory(std::string cgroup2_root, std::string agent_shm_path)
    : root_(std::move(cgroup2_root)), agent_shm_path_(std::move(agent_shm_path))
{
}

void CgroupDirectory::refresh()
{
    refreshed_this_cycle_ = true;
    cgroups_.clear();
    from_agent_ = read_agent_list();
    if (!from_agent_ && !root_.empty())
        walk("", 0);
}

const CgroupInfo *CgroupDirectory::find(uint64_t id)
{
    auto found = cgroups_.find(id);
    if (found == cgroups_.end() && !refreshed_this_cycle_) {
        refresh();
        found = cgroups_.find(id);
    }
    return found == cgroups_.end() ? nullptr : &found->second;
}

void CgroupDirectory::walk(const std::string &relative, int depth)
{
    if (depth > 16)
        return;
    std::string path = relative.empty() ? root_ : root_ + "/" + relative;
    DIR *directory = opendir(path.c_str());
    if (!directory)
        return;
    while (dirent *item = readdir(directory)) {
        if (item->d_type != DT_DIR || item->d_name[0] == '.')
            continue;
        std::string child = relative.empty() ? item->d_name : relative + "/" + item->d_name;
        cgroups_[item->d_ino] = describe_cgroup(child);
        walk(child, depth + 1);
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
        if (!body.enabled)
            continue;
        std::string name(body.name, strnlen(body.name, sizeof(body.name)));
        std::string procs(body.path, strnlen(body.path, sizeof(body.path)));
        std::string directory = procs.substr(0, procs.rfind('/'));
        struct stat cgroup;
        if (stat(directory.c_str(), &cgroup) != 0)
            continue;
        CgroupInfo info;
        if (name.starts_with("systemd_"))
            info = {name.substr(8), true};
        else
            info = {name.starts_with("cgroup_") ? name.substr(7) : name, false};
        cgroups_[cgroup.st_ino] = info;
    }
    munmap(mapping, status.st_size);
    return true;
}
