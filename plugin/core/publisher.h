// Turns counter snapshots into charts, declaring charts and dimensions the
// first time they have something to show.
#pragma once

#include "core/chart_data.h"
#include "core/chart_registry.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

// Counter name -> cumulative value (incremental dimensions) or value of the
// last interval (absolute dimensions).
using Counters = std::unordered_map<std::string, int64_t>;

// What one running module shows: its charts are kept for the scopes it
// collects, return-mode ones only in its own return mode, updated every
// update_every seconds.
struct ModuleCharts {
    std::string module;
    bool apps, cgroups, return_mode;
    int update_every;
    std::set<std::string> hidden_counters = {};  // their dimensions are left out, and charts left with none
};

// The charts of `all` that the running modules (and the plugin itself, module
// "self") publish, each with its module's update_every.
std::vector<ChartDef> charts_for(const std::vector<ChartDef> &all, const std::vector<ModuleCharts> &running);

struct Snapshot {
    Counters system;                           // scopes system and self
    std::map<std::string, Counters> apps;      // visible app group -> counters
    std::map<std::string, Counters> cgroups;   // cgroup display name -> counters
    std::map<std::string, Counters> services;  // service name without .service -> counters
    std::vector<KeyedChartValues> keyed;       // charts of the table modules read this time
    std::set<std::string> keyed_modules;       // the table modules read this time
};

class Publisher {
public:
    // charts: those to publish (charts_for).
    Publisher(ChartRegistry &registry, std::vector<ChartDef> charts);
    // Updates the charts of every module, or only of the modules due this time.
    void publish(const Snapshot &snapshot, uint64_t now_usec);
    void publish(const Snapshot &snapshot, uint64_t now_usec, const std::set<std::string> &due_modules);

private:
    // Stable, distinct ids for names (app groups, services, cgroups) whose
    // sanitized forms may collide: the second "a b" / "a_b" gets "a_b_2". A
    // name keeps its id for good, so a chart id always shows the same name.
    class IdAllocator {
    public:
        // dots = false: '.' becomes '-' (a chart's type part ends at its first dot).
        explicit IdAllocator(bool dots = true) : dots_(dots) {}
        const std::string &id_for(const std::string &name);

    private:
        bool dots_;
        std::map<std::string, std::string> by_name_;
        std::map<std::string, std::string> by_id_;  // id -> name
    };

    // An apps or services chart: one dimension per group ever seen.
    struct GroupChart {
        ChartDef def;
        std::string full_id;
        std::vector<DimensionDef> dimensions;
        std::map<std::string, std::optional<int64_t>> last_value;  // group -> last value sent, none = not collected
    };

    // absent_is_unchanged: a counter missing from `counters` has counted nothing
    // yet (a cgroup another module saw first), so its total is sent unchanged.
    void publish_fixed(const std::string &full_id, const ChartDef &def, const Counters &counters,
                       const ChartLabels &labels, uint64_t now_usec, bool absent_is_unchanged = false);
    void publish_groups(GroupChart &chart, const std::map<std::string, Counters> &groups, IdAllocator &ids,
                        uint64_t now_usec);
    void publish_cgroups(const std::map<std::string, Counters> &cgroups, uint64_t now_usec);
    void publish_keyed(const Snapshot &snapshot, uint64_t now_usec);

    // A chart made from a keyed template: its dimensions so far and the last
    // value sent of each (the baseline when it is declared again).
    struct KeyedChart {
        ChartDef def;  // the template with KEY replaced
        std::vector<DimensionDef> dimensions;
        std::map<std::string, int64_t> last_sent;  // dimension id -> value
    };

    ChartRegistry &registry_;
    std::set<std::string> modules_;  // of every chart
    const std::set<std::string> *due_ = &modules_;  // during publish()
    std::vector<std::pair<std::string, ChartDef>> system_charts_;  // full id, definition
    std::vector<ChartDef> cgroup_charts_;
    std::vector<GroupChart> apps_charts_, services_charts_;
    IdAllocator app_ids_, service_ids_, cgroup_ids_{false};
    std::map<std::string, std::vector<std::string>> cgroup_chart_ids_;  // live cgroup -> its chart ids
    // chart -> incremental dimension -> last value sent; kept after a chart is obsoleted
    std::map<std::string, std::map<std::string, int64_t>> last_sent_;
    std::map<std::string, ChartDef> keyed_templates_;  // [type.id] -> template
    std::map<std::string, KeyedChart> keyed_charts_;   // full id -> chart
};
