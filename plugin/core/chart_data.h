// Chart definitions as data: charts/<module>.conf (INI), embedded in the
// binary at build time (tools/embed-charts.sh) and parsed at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// One embedded charts/*.conf: file name ("process.conf") and its text.
struct ChartSource {
    const char *file;
    const char *text;
};
// Defined in the generated build/charts_data.cpp.
const std::vector<ChartSource> &embedded_chart_sources();

// system: one chart; apps: one chart, a dimension per app group; cgroup: one
// chart per cgroup; services: one chart, a dimension per service; self: the
// plugin's own charts (published like system); keyed: a template, one chart
// per key its table module reports (KEY in type, id, family and title stands
// for the key), whose dimensions the module names and which take the
// algorithm, multiplier and divisor of the template's one dimension.
enum class Scope { System, Apps, Cgroup, Services, Self, Keyed };

struct DimensionDef {
    std::string id, name, algorithm;
    long multiplier = 1, divisor = 1;
    std::string counter;  // the module counter this dimension shows
};

struct ChartDef {
    std::string module;  // file name without .conf
    std::string type, id;  // section [type.id]
    std::string title, units, family, context, chart_type;
    int priority = 0;
    Scope scope = Scope::System;
    bool return_only = false;  // mode = return
    int update_every = 0;  // seconds between updates: its module's (charts_for), 0 for the registry's
    std::vector<DimensionDef> dimensions;  // system, self, cgroup
    std::string counter, algorithm;  // apps, services: the per-group dimension
    long multiplier = 1, divisor = 1;  // apps, services: of the per-group dimension
};

// The cumulative values of one chart made from a keyed template.
struct KeyedChartValues {
    std::string chart;  // the template's [type.id], e.g. "disk_latency_io.KEY"
    std::string key;    // replaces KEY in the template's type, id, family and title
    std::vector<std::pair<std::string, uint64_t>> dimensions;  // name -> value since start
};

// Every problem (unknown key, malformed line, bad value, missing key) is
// appended to errors as "file:line: message"; a chart with a bad or missing
// key is left out. `dimension per module = <dimension with MODULE>` stands for
// one dimension per name in `modules` (the self charts: one per module).
std::vector<ChartDef> parse_chart_definitions(std::string_view file, std::string_view text,
                                              std::vector<std::string> &errors,
                                              const std::vector<std::string> &modules = {});

// The chart id as published: [type.id] for system, self and apps charts,
// services.<id>, and cgroup_<cgroup_id>.<id> for each cgroup.
std::string published_chart_id(const ChartDef &def, std::string_view cgroup_id = "*");

// All embedded definitions. An error here (including two definitions that
// publish the same chart id) is a build bug: it is printed and the process aborts.
std::vector<ChartDef> embedded_chart_definitions();
