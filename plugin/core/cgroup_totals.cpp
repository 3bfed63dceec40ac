#include "core/cgroup_totals.h"

std::vector<uint64_t> CgroupTotals::credit(size_t module, const std::vector<std::string> &counter_names,
                                           const std::map<uint64_t, CounterTotals> &ids,
                                           CgroupDirectory &directory)
{
    if (ids_.size() <= module)
        ids_.resize(module + 1);
    auto &states = ids_[module];
    std::vector<uint64_t> drop;
    for (const auto &[id, totals] : ids) {
        const CgroupInfo *info = directory.find(id);
        auto state = states.find(id);
        if (info) {
            Name name{info->service, info->name};
            if (state == states.end())
                state = states.emplace(id, IdState{name, std::vector<uint64_t>(counter_names.size(), 0), 0}).first;
            state->second.name = std::move(name);  // a renamed cgroup counts for its new name from now on
            state->second.cycles_missing = 0;
        } else if (state == states.end()) {
            drop.push_back(id);  // never known: not a cgroup the directory names
            continue;
        }
        IdState &known = state->second;
        Counters &counters = totals_[known.name];
        for (size_t i = 0; i < counter_names.size(); ++i) {
            counters[counter_names[i]] += static_cast<int64_t>(totals.totals()[i] - known.credited[i]);
            known.credited[i] = totals.totals()[i];
        }
        live_.insert(known.name);
        if (!info && ++known.cycles_missing > grace_cycles) {
            drop.push_back(id);
            states.erase(state);
        }
    }
    return drop;
}

void CgroupTotals::take_live(std::map<std::string, Counters> &cgroups, std::map<std::string, Counters> &services)
{
    for (const Name &name : live_)
        (name.first ? services : cgroups)[name.second] = totals_[name];
    live_.clear();
}
