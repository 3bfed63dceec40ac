#include "accounting/module_accounts.h"

#include <algorithm>

ModuleAccounts::ModuleAccounts(CountingModule &module, const ModuleSettings &settings, size_t group_count)
    : module_(module), settings_(settings), counter_count_(module.counter_names().size()),
      counter_mask_(CounterTotals::counter_mask(module.counter_bytes())),
      system_(counter_count_ + 2, module.counter_bytes()), groups_(group_count, CounterTotals(counter_count_)),
      pid_reader_(module.pid_table_fd(), 4, static_cast<unsigned>(counter_count_), module.counter_bytes(),
                  settings.pid_table_size, settings.per_cpu_tables),
      cgroup_reader_(module.cgroup_table_fd(), 8, static_cast<unsigned>(counter_count_), module.counter_bytes(),
                     settings.cgroup_table_size, settings.per_cpu_tables),
      active_(module.active_pids_fd())
{
}

std::string ModuleAccounts::collect(ProcessGroups &groups)
{
    std::vector<uint64_t> global;
    std::string error = read_global_table(module_.global_table_fd(), static_cast<unsigned>(counter_count_),
                                          module_.counter_bytes(), global);
    if (error.empty())
        system_.update(global);
    if (error.empty() && settings_.apps)
        error = collect_processes(groups);
    if (error.empty() && settings_.cgroups)
        error = collect_cgroups();
    return error;
}

// Only the entries that changed since the last cycle (active_pids), and the
// ones waiting for removal, are read, one lookup each (about 1 us); when that
// is most of the table, one batch read of everything is cheaper (about 0.4 us
// an entry, tools/bench). Without the bitmap, always the batch read.
std::string ModuleAccounts::read_processes()
{
    keys_.clear();
    if (active_.usable()) {
        active_.take(keys_);
        for (const auto &[pid, state] : processes_)
            if (state.exit_seen)
                keys_.push_back(pid);
        std::sort(keys_.begin(), keys_.end());
        keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    }
    bool batch = !active_.usable() || keys_.size() * 5 > processes_.size() * 2 + 64;
    if (batch) {
        std::string error = pid_reader_.read(entries_);
        // entries gone from the table (removed by us) leave no state behind
        for (auto &item : processes_)
            item.second.seen = false;
        for (const MergedEntry &entry : entries_)
            processes_[static_cast<uint32_t>(entry.key)].seen = true;
        std::erase_if(processes_, [](auto &item) { return !item.second.seen; });
        return error;
    }
    std::string error = pid_reader_.lookup(keys_, entries_, missing_);
    for (uint64_t pid : missing_)
        processes_.erase(static_cast<uint32_t>(pid));
    return error;
}

// A process's counts are added to its group as deltas, so a group's total
// keeps what its processes counted after they are gone. An entry marked exited
// is read once more in the next cycle (a late reap lands there) and removed.
std::string ModuleAccounts::collect_processes(ProcessGroups &groups)
{
    std::string error = read_processes();
    if (!error.empty())
        return error;
    std::vector<uint64_t> finished;
    for (const MergedEntry &entry : entries_)
        account_process(entry, groups, finished);
    error = pid_reader_.remove(finished);
    for (uint64_t pid : finished)
        processes_.erase(static_cast<uint32_t>(pid));
    return error;
}

void ModuleAccounts::account_process(const MergedEntry &entry, ProcessGroups &groups,
                                     std::vector<uint64_t> &finished)
{
    uint32_t pid = static_cast<uint32_t>(entry.key);
    ProcessState &state = processes_[pid];
    if (state.last.empty())
        state.last.assign(counter_count_, 0);
    CounterTotals &group = groups_[static_cast<size_t>(groups.group_of(pid, entry.identity))];
    for (size_t i = 0; i < counter_count_; ++i) {
        group.add(i, (entry.counters[i] - state.last[i]) & counter_mask_);
        state.last[i] = entry.counters[i];
    }
    if (entry.identity.exited) {
        if (state.exit_seen)
            finished.push_back(pid);
        state.exit_seen = true;
    }
}

std::string ModuleAccounts::collect_cgroups()
{
    std::string error = cgroup_reader_.read(entries_);
    if (!error.empty())
        return error;
    for (const MergedEntry &entry : entries_) {
        auto [it, inserted] = cgroups_.try_emplace(entry.key, counter_count_, module_.counter_bytes());
        it->second.update(entry.counters);
    }
    return "";
}

void ModuleAccounts::drop_cgroups(const std::vector<uint64_t> &ids)
{
    for (uint64_t id : ids)
        cgroups_.erase(id);
    cgroup_reader_.remove(ids);
}
