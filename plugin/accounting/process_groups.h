// Decides which app group a process belongs to, as apps.plugin does: its name
// (or command line) against apps_groups.conf, else its parent's group, else
// "other". Decisions are cached per pid and identity.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "accounting/apps_groups.h"
#include "lib/table_value.h"

class ProcessGroups {
public:
    // proc_dir is where live processes are looked up ("/proc").
    ProcessGroups(AppsGroups groups, std::string proc_dir);

    // Group index for a process; index other_group() when nothing matches.
    int group_of(uint32_t pid, const task_identity &identity);
    int other_group() const { return other_group_; }
    // Group names by index, each once: "other" last unless configured; hidden groups keep their leading '-'.
    const std::vector<std::string> &names() const { return names_; }
    bool hidden(int group) const;
    // Drops cached decisions not used for a while (their process is gone, or idle).
    void end_cycle();

private:
    struct Decision {
        uint64_t identity_ns;
        int group;
        unsigned idle_cycles;
    };
    static constexpr unsigned forget_after_cycles = 60;
    int decide(uint32_t pid, const std::string &comm, uint32_t ppid, int depth);
    std::string read_proc(uint32_t pid, const char *file) const;

    AppsGroups groups_;
    std::string proc_dir_;
    std::vector<std::string> names_;
    int other_group_;
    std::unordered_map<uint32_t, Decision> cache_;
};
