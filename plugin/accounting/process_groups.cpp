#include "accounting/process_groups.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

ProcessGroups::ProcessGroups(AppsGroups groups, std::string proc_dir)
    : groups_(std::move(groups)), proc_dir_(std::move(proc_dir))
{
    for (const AppGroup &group : groups_.groups())
        names_.push_back(group.name);
    // A configured group named "other" is the built-in one (apps_groups.h).
    other_group_ = groups_.find(AppsGroups::other_name);
    if (other_group_ < 0) {
        other_group_ = static_cast<int>(names_.size());
        names_.push_back(std::string(AppsGroups::other_name));
    }
}

bool ProcessGroups::hidden(int group) const
{
    return group < static_cast<int>(groups_.groups().size()) && groups_.groups()[group].hidden;
}

std::string ProcessGroups::read_proc(uint32_t pid, const char *file) const
{
    std::string path = proc_dir_ + "/" + std::to_string(pid) + "/" + file;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "";
    char buffer[4096];
    ssize_t length = read(fd, buffer, sizeof(buffer));
    close(fd);
    return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : std::string();
}

// The command line only matters for substring patterns; it is read while the
// process is alive, and an exited process falls back to its name.
int ProcessGroups::decide(uint32_t pid, const std::string &comm, uint32_t ppid, int depth)
{
    std::string cmdline = read_proc(pid, "cmdline");
    for (char &c : cmdline)
        if (c == '\0')
            c = ' ';
    while (!cmdline.empty() && cmdline.back() == ' ')
        cmdline.pop_back();
    int group = groups_.match(comm, cmdline);
    if (group >= 0)
        return group;
    if (ppid <= 1 || depth >= 8)
        return other_group();

    auto cached = cache_.find(ppid);
    if (cached != cache_.end())
        return cached->second.group;
    // parent's name and its parent, from /proc/<ppid>/stat: "pid (comm) state ppid ..."
    std::string stat = read_proc(ppid, "stat");
    size_t open_paren = stat.find('('), close_paren = stat.rfind(')');
    if (open_paren == std::string::npos || close_paren == std::string::npos || close_paren < open_paren)
        return other_group();
    std::string parent_comm = stat.substr(open_paren + 1, close_paren - open_paren - 1);
    uint32_t grandparent = static_cast<uint32_t>(strtoul(stat.c_str() + close_paren + 4, nullptr, 10));
    return decide(ppid, parent_comm, grandparent, depth + 1);
}

int ProcessGroups::group_of(uint32_t pid, const task_identity &identity)
{
    auto cached = cache_.find(pid);
    // Each module's table stamps its own identity time for the same process:
    // only an identity newer than the decision (an exec) asks for a new one.
    if (cached != cache_.end() && identity.identity_ns <= cached->second.identity_ns) {
        cached->second.idle_cycles = 0;
        return cached->second.group;
    }
    std::string comm(identity.comm, strnlen(identity.comm, sizeof(identity.comm)));
    int group = decide(pid, comm, identity.ppid, 0);
    uint64_t newest = identity.identity_ns;
    if (cached != cache_.end())
        newest = std::max<uint64_t>(newest, cached->second.identity_ns);
    cache_[pid] = {newest, group, 0};
    return group;
}

void ProcessGroups::end_cycle()
{
    for (auto item = cache_.begin(); item != cache_.end();)
        item = ++item->second.idle_cycles > forget_after_cycles ? cache_.erase(item) : std::next(item);
}
