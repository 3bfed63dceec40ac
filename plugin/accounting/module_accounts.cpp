#include "accounting/module_accounts.h"

#include <algorithm>

ModuleAccounts::ModuleAccounts(CountingModule &module, const ModuleSettings &settings, size_t group_count)
    : module_(module), settings_(settings), counter_count_(module.counter_names().size()),
      counter_mask_(CounterTotals::counter_mask(module.counter_bytes())),
      system_(counter_count_ + 2, module.counter_bytes()), groups_(group_count, CounterTotals(counter_count_)),
      pid_reader_(module.pid_table_fd(), 4, static_cast<unsigned>(module.counter_bytes() * counter_count_),
                  settings.pid_table_size),
      cgroup_reader_(module.cgroup_table_fd(), 8, static_cast<unsigned>(module.counter_bytes() * counter_count_),
                     settings.cgroup_table_size)
{
    if (settings.apps && settings.process_slots_fd >= 0 && settings.slot_count)
        slots_ = std::make_unique<CounterSlots>(module.pid_slots_fd(), settings.slot_count, counter_count_,
                                                module.counter_bytes());
}

std::string ModuleAccounts::collect(ProcessCore *core, bool due)
{
    std::string error;
    if (due) {
        std::vector<uint64_t> global;
        error = read_global_table(module_.global_table_fd(), static_cast<unsigned>(counter_count_),
                                  module_.counter_bytes(), settings_.per_cpu_tables, global);
        if (error.empty())
            system_.update(global);
    }
    // the slots are taken whatever failed: the core gives them back at the cycle's end
    if (settings_.apps && core) {
        std::string processes_error = collect_processes(*core);
        if (error.empty())
            error = processes_error;
    }
    if (error.empty() && due && settings_.cgroups)
        error = collect_cgroups();
    return error;
}

// Only the processes the core saw change (active_pids), and the ones read a
// last time, are looked up, one lookup each (about 1 us); when that is most
// of the table, one batch read of everything is cheaper (about 0.4 us an
// entry, tools/bench).
std::string ModuleAccounts::read_processes(ProcessCore &core)
{
    keys_ = core.changed();
    keys_.insert(keys_.end(), late_.begin(), late_.end());
    keys_.insert(keys_.end(), waiting_.begin(), waiting_.end());
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    bool batch = core.read_everything() || keys_.size() * 5 > processes_.size() * 2 + 64;
    if (batch) {
        std::string error = pid_reader_.read(entries_);
        // entries gone from the table (removed by us) leave no state behind
        std::unordered_map<uint32_t, std::vector<uint64_t>> present;
        for (const TableEntry &entry : entries_) {
            auto found = processes_.find(static_cast<uint32_t>(entry.key));
            if (found != processes_.end())
                present.emplace(found->first, std::move(found->second));
        }
        processes_ = std::move(present);
        return error;
    }
    std::string error = pid_reader_.lookup(keys_, entries_, missing_);
    for (uint64_t pid : missing_) {
        processes_.erase(static_cast<uint32_t>(pid));
        late_.erase(static_cast<uint32_t>(pid));
        waiting_.erase(static_cast<uint32_t>(pid));
    }
    return error;
}

// A process's counts are added to its group as deltas, so a group's total
// keeps what its processes counted after they are gone. A process's entries
// are read once more in the cycle after the core saw it exit (a late reap
// lands there), then removed; an entry re-created after that is read in two
// cycles too before it goes.
std::string ModuleAccounts::collect_processes(ProcessCore &core)
{
    if (slots_)
        take_slots(core);
    std::string error = read_processes(core);
    if (!error.empty())
        return error;
    std::vector<uint64_t> finished;
    for (const TableEntry &entry : entries_) {
        uint32_t pid = static_cast<uint32_t>(entry.key);
        int group_index = core.group_of(pid);
        if (group_index < 0) {
            waiting_.insert(pid);
            continue;
        }
        waiting_.erase(pid);
        std::vector<uint64_t> &last = processes_[pid];
        if (last.empty())
            last.assign(counter_count_, 0);
        CounterTotals &group = groups_[static_cast<size_t>(group_index)];
        for (size_t i = 0; i < counter_count_; ++i) {
            uint64_t counter = counter_of(entry, i, module_.counter_bytes());
            group.add(i, (counter - last[i]) & counter_mask_);
            last[i] = counter;
        }
        if (core.finishing(pid) || late_.contains(pid))
            finished.push_back(pid);
        else if (core.gone(pid))
            late_.insert(pid);
    }
    error = pid_reader_.remove(finished);
    for (uint64_t pid : finished) {
        processes_.erase(static_cast<uint32_t>(pid));
        late_.erase(static_cast<uint32_t>(pid));
    }
    return error;
}

// What processes with a slot counted since the last take is added to their
// groups as it is: slot counters are taken (zeroed) as they are read, then
// given to the group of the name the process has after the take.
void ModuleAccounts::take_slots(ProcessCore &core)
{
    for (const SlotOwner &owner : core.slot_owners()) {
        if (core.group_of(owner.pid) < 0)
            continue; // not decided yet: the counters wait in the slot
        slots_->take(owner.index, deltas_);
        int group_index = core.group_after_take(owner);
        CounterTotals &group = groups_[static_cast<size_t>(group_index)];
        bool counted = false;
        for (size_t i = 0; i < counter_count_; ++i) {
            group.add(i, deltas_[i]);
            counted |= deltas_[i] != 0;
        }
        if (core.finishing(owner.pid) || core.gone(owner.pid))
            slotted_.erase(owner.pid);
        else if (counted)
            slotted_.insert(owner.pid);
    }
}

std::string ModuleAccounts::collect_cgroups()
{
    std::string error = cgroup_reader_.read(entries_);
    if (!error.empty())
        return error;
    for (const TableEntry &entry : entries_) {
        auto [it, inserted] = cgroups_.try_emplace(entry.key, counter_count_, module_.counter_bytes());
        reading_.resize(counter_count_);
        for (size_t i = 0; i < counter_count_; ++i)
            reading_[i] = counter_of(entry, i, module_.counter_bytes());
        it->second.update(reading_);
    }
    return "";
}

void ModuleAccounts::drop_cgroups(const std::vector<uint64_t> &ids)
{
    for (uint64_t id : ids)
        cgroups_.erase(id);
    cgroup_reader_.remove(ids);
}
