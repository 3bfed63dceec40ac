#include "core/publisher.h"

#include "core/protocol.h"

#include <algorithm>
#include <set>

const std::string &Publisher::IdAllocator::id_for(const std::string &name) {
    if (auto found = by_name_.find(name); found != by_name_.end())
        return found->second;
    std::string base = ProtocolWriter::id(name);
    if (!dots_)
        std::replace(base.begin(), base.end(), '.', '-');
    std::string id = base;
    for (int n = 2; by_id_.contains(id); n++) {
        std::string suffix = "_" + std::to_string(n);
        id = base.substr(0, ProtocolWriter::max_id_bytes - suffix.size()) + suffix;
    }
    by_id_[id] = name;
    return by_name_[name] = id;
}

std::vector<ChartDef> charts_for(const std::vector<ChartDef> &all, const std::vector<ModuleCharts> &running) {
    std::vector<ChartDef> charts;
    for (const ChartDef &chart : all) {
        if (chart.module == "self") {
            charts.push_back(chart);
            continue;
        }
        for (const ModuleCharts &module : running) {
            bool scope_on = chart.scope == Scope::Apps     ? module.apps
                            : chart.scope == Scope::System || chart.scope == Scope::Keyed ? true
                                                           : module.cgroups;  // cgroup and services charts
            if (chart.module != module.module || !scope_on || (chart.return_only && !module.return_mode) ||
                module.hidden_counters.contains(chart.counter))
                continue;
            ChartDef shown = chart;
            std::erase_if(shown.dimensions, [&](const DimensionDef &dimension) {
                return module.hidden_counters.contains(dimension.counter);
            });
            if (!chart.dimensions.empty() && shown.dimensions.empty())
                continue;
            shown.update_every = module.update_every;
            charts.push_back(std::move(shown));
        }
    }
    return charts;
}

Publisher::Publisher(ChartRegistry &registry, std::vector<ChartDef> charts) : registry_(registry) {
    for (ChartDef &def : charts) {
        modules_.insert(def.module);
        switch (def.scope) {
        case Scope::System:
        case Scope::Self: {
            std::string full_id = published_chart_id(def);
            system_charts_.emplace_back(std::move(full_id), std::move(def));
            break;
        }
        case Scope::Cgroup:
            cgroup_charts_.push_back(std::move(def));
            break;
        case Scope::Keyed: {
            std::string template_id = def.type + "." + def.id;
            keyed_templates_.emplace(std::move(template_id), std::move(def));
            break;
        }
        case Scope::Apps:
        case Scope::Services: {
            std::string full_id = published_chart_id(def);
            auto &group_charts = def.scope == Scope::Apps ? apps_charts_ : services_charts_;
            group_charts.push_back({.def = std::move(def), .full_id = std::move(full_id), .dimensions = {}, .last_value = {}});
            break;
        }
        }
    }
}

void Publisher::publish(const Snapshot &snapshot, uint64_t now_usec) { publish(snapshot, now_usec, modules_); }

void Publisher::publish(const Snapshot &snapshot, uint64_t now_usec, const std::set<std::string> &due_modules) {
    due_ = &due_modules;
    for (const auto &[full_id, def] : system_charts_)
        if (due_->contains(def.module))
            publish_fixed(full_id, def, snapshot.system, {}, now_usec);
    for (GroupChart &chart : apps_charts_)
        if (due_->contains(chart.def.module))
            publish_groups(chart, snapshot.apps, app_ids_, now_usec);
    publish_cgroups(snapshot.cgroups, now_usec);
    for (GroupChart &chart : services_charts_)
        if (due_->contains(chart.def.module))
            publish_groups(chart, snapshot.services, service_ids_, now_usec);
    publish_keyed(snapshot, now_usec);
    due_ = &modules_;
}

// The agent takes the first value of an incremental dimension as its baseline
// and charts only what comes after. Every total starts at 0 when the plugin
// (or a group, or a cgroup) starts, so that is the baseline sent; the counts
// arrive with the next update instead of being swallowed. A chart declared
// again after it was obsoleted (a cgroup re-created under the same name)
// starts from the last value sent, which the agent may still hold: its
// counters never go backwards.
static bool is_incremental(const std::string &algorithm) {
    return algorithm.find("incremental") != std::string::npos;
}

void Publisher::publish_fixed(const std::string &full_id, const ChartDef &def, const Counters &counters,
                              const ChartLabels &labels, uint64_t now_usec, bool absent_is_unchanged) {
    bool first_update = !registry_.declared(full_id);
    if (first_update)
        registry_.declare(full_id, def, def.dimensions, labels);
    if (!registry_.begin(full_id, now_usec))
        return;
    std::map<std::string, int64_t> &sent = last_sent_[full_id];
    for (const DimensionDef &dim : def.dimensions) {
        bool incremental = is_incremental(dim.algorithm);
        auto value = counters.find(dim.counter);
        if (first_update && incremental) {
            registry_.set(dim.id, sent[dim.id]);
        } else if (value != counters.end()) {
            registry_.set(dim.id, value->second);
            if (incremental)
                sent[dim.id] = value->second;
        } else if (incremental && absent_is_unchanged) {
            registry_.set(dim.id, sent[dim.id]); // nothing counted yet: an empty value would re-baseline
        } else {
            registry_.set_empty(dim.id);
        }
    }
    registry_.end();
}

void Publisher::publish_groups(GroupChart &chart, const std::map<std::string, Counters> &groups, IdAllocator &ids,
                               uint64_t now_usec) {
    std::set<std::string> new_groups;
    for (const auto &[group, counters] : groups) {
        if (chart.last_value.contains(group))
            continue;
        chart.dimensions.push_back({.id = ids.id_for(group),
                                    .name = group,
                                    .algorithm = chart.def.algorithm,
                                    .multiplier = chart.def.multiplier,
                                    .divisor = chart.def.divisor,
                                    .counter = chart.def.counter});
        chart.last_value[group];  // known from now on, value not yet collected
        new_groups.insert(group);
    }
    if (chart.dimensions.empty())
        return;  // a chart without dimensions would show nothing
    if (!new_groups.empty() || !registry_.declared(chart.full_id))
        registry_.declare(chart.full_id, chart.def, chart.dimensions);
    if (!registry_.begin(chart.full_id, now_usec))
        return;

    // A vanished group made no calls: a cumulative value stays where it was,
    // a per-interval value is 0.
    bool cumulative = is_incremental(chart.def.algorithm);
    for (const DimensionDef &dim : chart.dimensions) {
        std::optional<int64_t> &last = chart.last_value[dim.name];
        auto group = groups.find(dim.name);
        if (group != groups.end()) {
            auto value = group->second.find(chart.def.counter);
            if (value != group->second.end())
                last = value->second;
            else if (cumulative)
                last = last.value_or(0); // nothing counted yet for this module: its total is 0, not unknown
            else
                last.reset();
        } else if (!cumulative && last) {
            last = 0;
        }
        if (cumulative && new_groups.contains(dim.name))
            registry_.set(dim.id, 0); // the baseline (see publish_fixed); the value follows next update
        else if (last)
            registry_.set(dim.id, *last);
        else
            registry_.set_empty(dim.id);
    }
    registry_.end();
}

void Publisher::publish_cgroups(const std::map<std::string, Counters> &cgroups, uint64_t now_usec) {
    for (auto live = cgroup_chart_ids_.begin(); live != cgroup_chart_ids_.end();) {
        if (cgroups.contains(live->first)) {
            ++live;
            continue;
        }
        for (const std::string &full_id : live->second)
            if (registry_.declared(full_id))  // not when it went before its module was due
                registry_.obsolete(full_id);
        live = cgroup_chart_ids_.erase(live);
    }
    if (cgroup_charts_.empty())
        return;
    for (const auto &[name, counters] : cgroups) {
        auto [live, is_new] = cgroup_chart_ids_.try_emplace(name);
        if (is_new) {
            const std::string &cgroup_id = cgroup_ids_.id_for(name);
            for (const ChartDef &def : cgroup_charts_)
                live->second.push_back(published_chart_id(def, cgroup_id));
        }
        const ChartLabels labels = {{"cgroup_name", name}};
        for (size_t i = 0; i < cgroup_charts_.size(); i++)
            if (due_->contains(cgroup_charts_[i].module))
                publish_fixed(live->second[i], cgroup_charts_[i], counters, labels, now_usec, true);
    }
}

static std::string replace_key(std::string text, const std::string &key) {
    for (size_t at = text.find("KEY"); at != std::string::npos; at = text.find("KEY", at + key.size()))
        text.replace(at, 3, key);
    return text;
}

// New dimensions are declared with their last value sent (0 at first) as the
// baseline, as in publish_fixed: the counts since the start arrive next update.
void Publisher::publish_keyed(const Snapshot &snapshot, uint64_t now_usec) {
    std::set<std::string> shown;
    for (const KeyedChartValues &values : snapshot.keyed) {
        auto found = keyed_templates_.find(values.chart);
        if (found == keyed_templates_.end())
            continue;  // its module's charts are not published
        const ChartDef &pattern = found->second;
        std::string full_id = replace_key(pattern.type, values.key) + "." + replace_key(pattern.id, values.key);
        shown.insert(full_id);
        auto [entry, is_new] = keyed_charts_.try_emplace(full_id);
        KeyedChart &chart = entry->second;
        if (is_new) {
            chart.def = pattern;
            chart.def.type = replace_key(pattern.type, values.key);
            chart.def.id = replace_key(pattern.id, values.key);
            chart.def.family = replace_key(pattern.family, values.key);
            chart.def.title = replace_key(pattern.title, values.key);
        }
        std::map<std::string, int64_t> now;
        std::set<std::string> baseline;
        bool declared = registry_.declared(full_id);
        for (const auto &[name, value] : values.dimensions) {
            std::string id = ProtocolWriter::id(name);
            now[id] = static_cast<int64_t>(value);
            if (chart.last_sent.try_emplace(id, 0).second) {
                DimensionDef dim = pattern.dimensions.front();
                chart.dimensions.push_back({.id = id, .name = name, .algorithm = dim.algorithm,
                                            .multiplier = dim.multiplier, .divisor = dim.divisor, .counter = ""});
                baseline.insert(id);
            }
        }
        if (!declared)
            for (const DimensionDef &dim : chart.dimensions)
                baseline.insert(dim.id);
        if (!declared || !baseline.empty())
            registry_.declare(full_id, chart.def, chart.dimensions);
        if (!registry_.begin(full_id, now_usec))
            continue;
        for (const DimensionDef &dim : chart.dimensions) {
            auto value = now.find(dim.id);
            if (baseline.contains(dim.id) && is_incremental(dim.algorithm)) {
                registry_.set(dim.id, chart.last_sent[dim.id]);
            } else if (value != now.end()) {
                registry_.set(dim.id, value->second);
                chart.last_sent[dim.id] = value->second;
            } else {
                registry_.set_empty(dim.id);
            }
        }
        registry_.end();
    }
    for (const auto &[full_id, chart] : keyed_charts_)
        if (snapshot.keyed_modules.contains(chart.def.module) && !shown.contains(full_id) &&
            registry_.declared(full_id))
            registry_.obsolete(full_id);
}
