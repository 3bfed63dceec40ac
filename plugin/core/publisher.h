// Turns counter snapshots into charts, declaring charts and dimensions the
// first time they have something to show.
#pragma once

#include "core/chart_data.h"
#include "core/chart_registry.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

// Counter name -> cumulative value (incremental dimensions) or value of the
// last interval (absolute dimensions).
using Counters = std::unordered_map<std::string, int64_t>;

struct Snapshot {
    Counters system;                           // scopes system and self
    std::map<std::string, Counters> apps;      // visible app group -> counters
    std::map<std::string, Counters> cgroups;   // cgroup display name -> counters
    std::map<std::string, Counters> services;  // service name without .service -> counters
};

class Publisher {
public:
    // charts: the enabled modules' charts; return_only ones are kept only in
    // return mode.
    Publisher(ChartRegistry &registry, std::vector<ChartDef> charts, bool return_mode);
    void publish(const Snapshot &snapshot, uint64_t now_usec);

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

    void publish_fixed(const std::string &full_id, const ChartDef &def, const Counters &counters,
                       const ChartLabels &labels, uint64_t now_usec);
    void publish_groups(GroupChart &chart, const std::map<std::string, Counters> &groups, IdAllocator &ids,
                        uint64_t now_usec);
    void publish_cgroups(const std::map<std::string, Counters> &cgroups, uint64_t now_usec);

    ChartRegistry &registry_;
    std::vector<std::pair<std::string, ChartDef>> system_charts_;  // full id, definition
    std::vector<ChartDef> cgroup_charts_;
    std::vector<GroupChart> apps_charts_, services_charts_;
    IdAllocator app_ids_, service_ids_, cgroup_ids_{false};
    std::map<std::string, std::vector<std::string>> cgroup_chart_ids_;  // live cgroup -> its chart ids
    // chart -> incremental dimension -> last value sent; kept after a chart is obsoleted
    std::map<std::string, std::map<std::string, int64_t>> last_sent_;
};
