#include "accounting/process_groups.h"

#include <cstdlib>
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

std::string ProcessGroups::command_line(uint32_t pid) const
{
    std::string cmdline = read_proc(pid, "cmdline");
    for (char &c : cmdline)
        if (c == '\0')
            c = ' ';
    while (!cmdline.empty() && cmdline.back() == ' ')
        cmdline.pop_back();
    return cmdline;
}

// The command line only matters for substring patterns: it is read only then,
// and only while the process lives; an exited process falls back to its name.
int ProcessGroups::decide(uint32_t pid, std::string_view comm, bool alive, int inherited) const
{
    std::string cmdline = alive && groups_.has_substring_patterns() ? command_line(pid) : std::string();
    int group = groups_.match(comm, cmdline);
    return group >= 0 ? group : inherited;
}

std::optional<int> ProcessGroups::decide_from_proc(uint32_t pid, int depth) const
{
    // "pid (comm) state ppid ..."
    std::string stat = read_proc(pid, "stat");
    size_t open_paren = stat.find('('), close_paren = stat.rfind(')');
    if (open_paren == std::string::npos || close_paren == std::string::npos || close_paren < open_paren)
        return std::nullopt;
    std::string comm = stat.substr(open_paren + 1, close_paren - open_paren - 1);
    uint32_t ppid = static_cast<uint32_t>(strtoul(stat.c_str() + close_paren + 4, nullptr, 10));
    int group = decide(pid, comm, true, -1);
    if (group >= 0)
        return group;
    if (ppid <= 1 || depth >= 8)
        return other_group();
    return decide_from_proc(ppid, depth + 1).value_or(other_group());
}
