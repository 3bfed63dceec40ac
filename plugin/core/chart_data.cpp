#include "core/chart_data.h"
#include "modules/registry.h"
#include "core/log.h"

#include "core/protocol.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <ini.h>

namespace {

// inih keeps at most 49 characters of a section name and cuts silently.
constexpr size_t max_section_name = 49;

const std::set<std::string_view> algorithms = {"absolute", "incremental", "percentage-of-absolute-row",
                                               "percentage-of-incremental-row"};
const std::set<std::string_view> chart_types = {"line", "area", "stacked"};
const std::map<std::string_view, Scope> scopes = {{"system", Scope::System},   {"apps", Scope::Apps},
                                                  {"cgroup", Scope::Cgroup},   {"services", Scope::Services},
                                                  {"self", Scope::Self},       {"keyed", Scope::Keyed}};

std::string_view trim(std::string_view s) {
    const char *space = " \t\r\n";
    size_t first = s.find_first_not_of(space);
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

template <typename Number>
bool parse_number(std::string_view s, Number &out) {
    auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), out);
    return error == std::errc() && end == s.data() + s.size();
}

const std::map<std::string_view, std::string ChartDef::*> text_keys = {
    {"title", &ChartDef::title}, {"units", &ChartDef::units}, {"family", &ChartDef::family},
    {"context", &ChartDef::context}};

struct PendingChart {
    ChartDef def;
    int line = 0;  // of the [section] header
    std::set<std::string> keys_seen;
    bool rejected = false;
};

// State shared by the line reader and the key handler; inih calls the
// handler right after reading the line, so `line` is the handler's line.
struct Parser {
    std::string file, module;
    std::string_view rest;
    int line = 0, section_line = 0;  // being read, of the last [section] header
    std::vector<std::string> &errors;
    const std::vector<std::string> &modules;  // what MODULE stands for in `dimension per module`
    std::vector<PendingChart> charts{};
    std::map<std::string, size_t, std::less<>> chart_index{};  // section -> charts
    std::set<std::string, std::less<>> unusable_sections{};  // bad name or defined twice

    void error(int at_line, const std::string &message) {
        errors.push_back(file + ":" + std::to_string(at_line) + ": " + message);
    }
};

// fgets()-like reader over the text: counts lines, cuts a line that does
// not fit inih's buffer (reporting it) so inih never sees half a line.
char *read_line(char *buffer, int size, void *stream) {
    auto &parser = *static_cast<Parser *>(stream);
    if (parser.rest.empty() || size < 3)
        return nullptr;
    size_t newline = parser.rest.find('\n');
    std::string_view line = parser.rest.substr(0, newline);
    parser.rest.remove_prefix(newline == std::string_view::npos ? parser.rest.size() : newline + 1);
    parser.line++;

    size_t room = size_t(size) - 2;  // for '\n' and '\0'
    if (line.size() > room) {
        parser.error(parser.line, "line longer than " + std::to_string(room) + " bytes");
        line = line.substr(0, room);
    }
    std::string_view content = trim(line);
    if (!content.empty() && (line.front() == ' ' || line.front() == '\t') && !content.starts_with(';') &&
        !content.starts_with('#'))
        parser.error(parser.line, "indented line (inih reads it as the continuation of the previous value)");
    if (size_t close = content.find(']'); content.starts_with('[') && close != std::string_view::npos) {
        parser.section_line = parser.line;
        if (close - 1 > max_section_name)
            parser.error(parser.line, "section name longer than " + std::to_string(max_section_name) + " characters");
    }
    memcpy(buffer, line.data(), line.size());
    buffer[line.size()] = '\n';
    buffer[line.size() + 1] = '\0';
    return buffer;
}

// The chart of a [type.id] section, started at its first key; nullptr when
// the section is unusable.
PendingChart *open_section(Parser &parser, const std::string &section) {
    if (parser.unusable_sections.contains(section))
        return nullptr;
    if (auto found = parser.chart_index.find(section); found != parser.chart_index.end()) {
        PendingChart &chart = parser.charts[found->second];
        if (chart.line == parser.section_line)
            return &chart;
        parser.error(parser.section_line, "[" + section + "] is defined twice");
        chart.rejected = true;
        parser.unusable_sections.insert(section);
        return nullptr;
    }
    size_t dot = section.find('.');
    if (!ProtocolWriter::is_id(section) || dot == 0 || dot == std::string::npos || dot + 1 == section.size()) {
        parser.error(parser.section_line, "section [" + section + "] is not a chart id type.id made of [A-Za-z0-9_.-]");
        parser.unusable_sections.insert(section);
        return nullptr;
    }
    PendingChart chart;
    chart.line = parser.section_line;
    chart.def.module = parser.module;
    chart.def.type = section.substr(0, dot);
    chart.def.id = section.substr(dot + 1);
    parser.chart_index[section] = parser.charts.size();
    parser.charts.push_back(std::move(chart));
    return &parser.charts.back();
}

// "<id> <name> <algorithm> <multiplier> <divisor> <counter>"; "" when valid.
std::string parse_dimension(const std::string &value, DimensionDef &dim) {
    std::istringstream words(value);
    std::vector<std::string> word;
    for (std::string w; words >> w;)
        word.push_back(w);
    if (word.size() != 6)
        return "dimension needs 6 words: id name algorithm multiplier divisor counter";
    dim.id = word[0];
    dim.name = word[1];
    dim.algorithm = word[2];
    dim.counter = word[5];
    if (!ProtocolWriter::is_id(dim.id) || dim.id.size() > ProtocolWriter::max_id_bytes)
        return "dimension id '" + dim.id + "' is not made of [A-Za-z0-9_.-]";
    if (!algorithms.contains(dim.algorithm))
        return "unknown algorithm '" + dim.algorithm + "'";
    if (!parse_number(word[3], dim.multiplier) || dim.multiplier == 0)
        return "multiplier '" + word[3] + "' is not a non-zero integer";
    if (!parse_number(word[4], dim.divisor) || dim.divisor == 0)
        return "divisor '" + word[4] + "' is not a non-zero integer";
    if (!ProtocolWriter::is_id(dim.counter))
        return "counter '" + dim.counter + "' is not a counter name";
    return "";
}

// Applies one key to the chart; "" when valid, else the problem.
std::string apply_key(PendingChart &chart, const std::string &key, const std::string &value) {
    ChartDef &def = chart.def;
    if (key == "dimension") {
        DimensionDef dim;
        std::string problem = parse_dimension(value, dim);
        if (!problem.empty())
            return problem;
        for (const DimensionDef &existing : def.dimensions)
            if (existing.id == dim.id)
                return "dimension id '" + dim.id + "' is used twice";
        def.dimensions.push_back(std::move(dim));
        return "";
    }
    if (!chart.keys_seen.insert(key).second)
        return "key '" + key + "' is given twice";
    if (auto text_key = text_keys.find(key); text_key != text_keys.end()) {
        if (value.empty())
            return "'" + key + "' is empty";
        def.*(text_key->second) = value;
    } else if (key == "scope") {
        auto found = scopes.find(value);
        if (found == scopes.end())
            return "unknown scope '" + value + "' (system, apps, cgroup, services, self or keyed)";
        def.scope = found->second;
    } else if (key == "type") {
        if (!chart_types.contains(value))
            return "unknown chart type '" + value + "' (line, area or stacked)";
        def.chart_type = value;
    } else if (key == "priority") {
        if (!parse_number(value, def.priority) || def.priority <= 0)
            return "priority '" + value + "' is not a positive integer";
    } else if (key == "mode") {
        if (value != "entry" && value != "return")
            return "unknown mode '" + value + "' (entry or return)";
        def.return_only = value == "return";
    } else if (key == "counter") {
        if (!ProtocolWriter::is_id(value))
            return "counter '" + value + "' is not a counter name";
        def.counter = value;
    } else if (key == "multiplier" || key == "divisor") {
        long &number = key == "multiplier" ? def.multiplier : def.divisor;
        if (!parse_number(value, number) || number == 0)
            return key + " '" + value + "' is not a non-zero integer";
    } else if (key == "algorithm") {
        if (!algorithms.contains(value))
            return "unknown algorithm '" + value + "'";
        def.algorithm = value;
    } else {
        return "unknown key '" + key + "'";
    }
    return "";
}

int handle_key(void *user, const char *section, const char *name, const char *value) {
    auto &parser = *static_cast<Parser *>(user);
    if (!*section) {
        parser.error(parser.line, "key '" + std::string(name) + "' is outside any [type.id] section");
        return 1;
    }
    PendingChart *chart = open_section(parser, section);
    if (!chart)
        return 1;
    std::string problem;
    if (std::string_view(name) == "dimension per module") {
        // one dimension per module the plugin has: a module added later needs no line here
        for (const std::string &module : parser.modules) {
            std::string dimension = value;
            for (size_t at; (at = dimension.find("MODULE")) != std::string::npos;)
                dimension.replace(at, 6, module);
            if (problem.empty())
                problem = apply_key(*chart, "dimension", dimension);
        }
    } else {
        problem = apply_key(*chart, name, value);
    }
    if (!problem.empty()) {
        parser.error(parser.line, problem);
        chart->rejected = true;
    }
    return 1;  // problems are collected here, so inih's own errors are only syntax errors
}

// Keys every chart needs, and the ones that depend on the scope.
void check_complete(Parser &parser, const PendingChart &chart) {
    const ChartDef &def = chart.def;
    std::string section = "[" + def.type + "." + def.id + "]: ";
    for (const char *key : {"scope", "title", "units", "family", "context", "type", "priority"})
        if (!chart.keys_seen.contains(key))
            parser.error(chart.line, section + "missing '" + key + "'");
    bool per_group = def.scope == Scope::Apps || def.scope == Scope::Services;
    if (per_group) {
        if (def.counter.empty() || def.algorithm.empty())
            parser.error(chart.line, section + "apps and services charts need 'counter' and 'algorithm'");
        if (!def.dimensions.empty())
            parser.error(chart.line, section + "apps and services charts take 'counter', not 'dimension'");
    } else {
        if (def.dimensions.empty())
            parser.error(chart.line, section + "needs at least one 'dimension'");
        if (!def.counter.empty() || !def.algorithm.empty() || chart.keys_seen.contains("multiplier") ||
            chart.keys_seen.contains("divisor"))
            parser.error(chart.line, section + "'counter', 'algorithm', 'multiplier' and 'divisor' are only for "
                                               "apps and services charts");
        if (def.scope == Scope::Keyed && def.dimensions.size() != 1)
            parser.error(chart.line, section + "a keyed chart has one 'dimension', the template of all");
    }
}

}  // namespace

std::vector<ChartDef> parse_chart_definitions(std::string_view file, std::string_view text,
                                              std::vector<std::string> &errors,
                                              const std::vector<std::string> &modules) {
    Parser parser{.file = std::string(file), .module = std::string(file), .rest = text, .errors = errors,
                  .modules = modules};
    if (parser.module.ends_with(".conf"))
        parser.module.resize(parser.module.size() - 5);

    // inih's defaults, which the errors above assume: its options are globals
    // that the configuration readers (core/ini_text.cpp, core/config.cpp) change
    ini_allow_multiline = true;
    ini_allow_inline_comments = true;
    ini_allow_no_value = false;
    ini_stop_on_first_error = false;
    int syntax_error_line = ini_parse_stream(read_line, &parser, handle_key, &parser);
    if (syntax_error_line > 0)
        parser.error(syntax_error_line, "malformed line (expected [type.id] or key = value)");

    std::vector<ChartDef> charts;
    for (PendingChart &chart : parser.charts) {
        size_t errors_before = errors.size();
        check_complete(parser, chart);
        if (errors.size() == errors_before && !chart.rejected)
            charts.push_back(std::move(chart.def));
    }
    return charts;
}

std::string published_chart_id(const ChartDef &def, std::string_view cgroup_id) {
    switch (def.scope) {
    case Scope::Cgroup:
        return "cgroup_" + std::string(cgroup_id) + "." + def.id;
    case Scope::Services:
        return "services." + def.id;
    default:
        return def.type + "." + def.id;
    }
}

std::vector<ChartDef> embedded_chart_definitions() {
    std::vector<std::string> errors;
    std::vector<ChartDef> all;
    std::map<std::string, std::string> defined_in;  // published id -> file
    std::vector<std::string> modules = registered_module_names();
    for (const ChartSource &source : embedded_chart_sources()) {
        for (ChartDef &def : parse_chart_definitions(source.file, source.text, errors, modules)) {
            auto [previous, inserted] = defined_in.emplace(published_chart_id(def), source.file);
            if (!inserted)
                errors.push_back(std::string(source.file) + ": [" + def.type + "." + def.id + "] publishes " +
                                 previous->first + ", as a chart of " + previous->second + " does");
            all.push_back(std::move(def));
        }
    }
    if (!errors.empty()) {
        for (const std::string &error : errors)
            log_error("embedded chart definitions: %s", error.c_str());
        abort();
    }
    return all;
}
