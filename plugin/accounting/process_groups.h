// Decides which app group a process belongs to, as apps.plugin does: its name
// (or command line) against apps_groups.conf, else its parent's group, else
// "other". The parent's group comes from the process core (what the kernel
// saw at fork); /proc is read only for processes that started before the plugin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounting/apps_groups.h"

class ProcessGroups {
public:
    // proc_dir is where live processes are looked up ("/proc").
    ProcessGroups(AppsGroups groups, std::string proc_dir);

    // The group of a process the core recorded: by its name (and its command
    // line while it is alive, when a pattern needs one), else `inherited`.
    int decide(uint32_t pid, std::string_view comm, bool alive, int inherited) const;
    // The group of a process known only from /proc, walking up its parents
    // there; nullopt when /proc has no such process.
    std::optional<int> decide_from_proc(uint32_t pid, int depth = 0) const;

    int other_group() const { return other_group_; }
    // Group names by index, each once: "other" last unless configured; hidden groups keep their leading '-'.
    const std::vector<std::string> &names() const { return names_; }
    bool hidden(int group) const;

private:
    std::string read_proc(uint32_t pid, const char *file) const;
    std::string command_line(uint32_t pid) const;

    AppsGroups groups_;
    std::string proc_dir_;
    std::vector<std::string> names_;
    int other_group_;
};
