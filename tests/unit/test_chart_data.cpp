// charts/*.conf parsing: every field, every kind of mistake, and the files
// embedded in the binary.
#include "modules/registry.h"
#include "core/chart_data.h"

#include <doctest/doctest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace {

const char *valid_file = R"(# charts of the process module
[system.process_thread]
scope = system               ; system | apps | cgroup | services | self
title = Start process
units = calls/s
family = processes
context = system.process_thread
type = line
priority = 21002
mode = entry
dimension = process process incremental 1 1 create_process
dimension = thread thread incremental -1 1000 create_thread

[system.task_error]
scope = system
title = Fails to create process
units = calls/s
family = processes
context = system.task_error
type = line
priority = 21005
mode = return
dimension = task task absolute 1 1 task_error

[apps.process_create]
scope = apps
title = Process started
units = calls/s
family = processes
context = apps.process_create
type = stacked
priority = 20161
counter = create_process
algorithm = incremental

[cgroup.process_create]
scope = cgroup
title = Process started
units = calls/s
family = processes (eBPF)
context = cgroup.process_create
type = line
priority = 25100
dimension = process process incremental 1 1 create_process

[services.process_create]
scope = services
title = Process started
units = calls/s
family = processes (eBPF)
context = services.process_create
type = stacked
priority = 25200
counter = create_process
algorithm = incremental

[netdata.ebpf_threads]
scope = self
title = Threads info
units = threads
family = ebpf
context = netdata.ebpf_threads
type = line
priority = 140000
dimension = total total absolute 1 1 threads_total
)";

// A complete chart section with one line replaced or added.
std::string chart_with(const std::string &extra, const std::string &scope = "system") {
    std::string body = "[system.exit]\n"  // line 1
                       "scope = " + scope + "\n"
                       "title = Exit process\n"
                       "units = calls/s\n"
                       "family = processes\n"  // line 5
                       "context = system.exit\n"
                       "type = line\n"
                       "priority = 21003\n";
    if (scope == "apps" || scope == "services")
        body += "counter = exit_process\nalgorithm = incremental\n";  // lines 9, 10
    else
        body += "dimension = process process incremental 1 1 exit_process\n";  // line 9
    return body + extra;
}

std::vector<std::string> errors_of(const std::string &text) {
    std::vector<std::string> errors;
    parse_chart_definitions("test.conf", text, errors);
    return errors;
}

}  // namespace

TEST_CASE("a valid file gives every field") {
    std::vector<std::string> errors;
    std::vector<ChartDef> charts = parse_chart_definitions("process.conf", valid_file, errors);
    CHECK(errors == std::vector<std::string>{});
    REQUIRE(charts.size() == 6);

    const ChartDef &system = charts[0];
    CHECK(system.module == "process");
    CHECK(system.type == "system");
    CHECK(system.id == "process_thread");
    CHECK(system.title == "Start process");
    CHECK(system.units == "calls/s");
    CHECK(system.family == "processes");
    CHECK(system.context == "system.process_thread");
    CHECK(system.chart_type == "line");
    CHECK(system.priority == 21002);
    CHECK(system.scope == Scope::System);
    CHECK_FALSE(system.return_only);
    REQUIRE(system.dimensions.size() == 2);
    CHECK(system.dimensions[0].id == "process");
    CHECK(system.dimensions[0].name == "process");
    CHECK(system.dimensions[0].algorithm == "incremental");
    CHECK(system.dimensions[0].multiplier == 1);
    CHECK(system.dimensions[0].divisor == 1);
    CHECK(system.dimensions[0].counter == "create_process");
    CHECK(system.dimensions[1].id == "thread");
    CHECK(system.dimensions[1].multiplier == -1);
    CHECK(system.dimensions[1].divisor == 1000);
    CHECK(system.dimensions[1].counter == "create_thread");
    CHECK(system.counter == "");
    CHECK(system.algorithm == "");

    CHECK(charts[1].id == "task_error");
    CHECK(charts[1].return_only);
    CHECK(charts[1].dimensions[0].algorithm == "absolute");

    const ChartDef &apps = charts[2];
    CHECK(apps.type == "apps");
    CHECK(apps.id == "process_create");
    CHECK(apps.scope == Scope::Apps);
    CHECK(apps.chart_type == "stacked");
    CHECK(apps.counter == "create_process");
    CHECK(apps.algorithm == "incremental");
    CHECK(apps.dimensions.size() == 0);

    CHECK(charts[3].scope == Scope::Cgroup);
    CHECK(charts[3].family == "processes (eBPF)");
    CHECK(charts[4].scope == Scope::Services);
    CHECK(charts[5].scope == Scope::Self);
    CHECK(charts[5].type == "netdata");
    CHECK(charts[5].id == "ebpf_threads");
}

TEST_CASE("the module is the file name without .conf") {
    std::vector<std::string> errors;
    CHECK(parse_chart_definitions("fd.conf", chart_with(""), errors)[0].module == "fd");
    CHECK(parse_chart_definitions("fd", chart_with(""), errors)[0].module == "fd");
    CHECK(errors == std::vector<std::string>{});
}

TEST_CASE("mistakes are reported with file:line and the chart is left out") {
    std::vector<std::string> errors;
    CHECK(parse_chart_definitions("test.conf", chart_with("colour = red\n"), errors).size() == 0);
    CHECK(errors == std::vector<std::string>{"test.conf:10: unknown key 'colour'"});

    CHECK(errors_of(chart_with("just words\n")) ==
          std::vector<std::string>{"test.conf:10: malformed line (expected [type.id] or key = value)"});
    CHECK(errors_of(chart_with("[system.broken\n")) ==
          std::vector<std::string>{"test.conf:10: malformed line (expected [type.id] or key = value)"});
    CHECK(errors_of(chart_with("title = again\n")) == std::vector<std::string>{"test.conf:10: key 'title' is given twice"});
}

TEST_CASE("bad values") {
    auto replaced = [](const std::string &from, const std::string &to) {
        std::string text = chart_with("");
        text.replace(text.find(from), from.size(), to);
        return errors_of(text);
    };
    CHECK(replaced("scope = system", "scope = everywhere") ==
          std::vector<std::string>{"test.conf:2: unknown scope 'everywhere' (system, apps, cgroup, services, self or keyed)"});
    CHECK(replaced("type = line", "type = pie") ==
          std::vector<std::string>{"test.conf:7: unknown chart type 'pie' (line, area or stacked)"});
    CHECK(replaced("priority = 21003", "priority = 0x10") ==
          std::vector<std::string>{"test.conf:8: priority '0x10' is not a positive integer"});
    CHECK(replaced("priority = 21003", "priority = -5") ==
          std::vector<std::string>{"test.conf:8: priority '-5' is not a positive integer"});
    CHECK(replaced("title = Exit process", "title =") == std::vector<std::string>{"test.conf:3: 'title' is empty"});
    CHECK(errors_of(chart_with("mode = always\n")) ==
          std::vector<std::string>{"test.conf:10: unknown mode 'always' (entry or return)"});
}

TEST_CASE("bad dimensions") {
    auto dimension_errors = [](const std::string &dimension) {
        return errors_of(chart_with("dimension = " + dimension + "\n"));
    };
    CHECK(dimension_errors("a a absolute 1 1") ==
          std::vector<std::string>{"test.conf:10: dimension needs 6 words: id name algorithm multiplier divisor counter"});
    CHECK(dimension_errors("a a absolute 1 1 c extra") ==
          std::vector<std::string>{"test.conf:10: dimension needs 6 words: id name algorithm multiplier divisor counter"});
    CHECK(dimension_errors("a/b a absolute 1 1 c") ==
          std::vector<std::string>{"test.conf:10: dimension id 'a/b' is not made of [A-Za-z0-9_.-]"});
    CHECK(dimension_errors("a a average 1 1 c") == std::vector<std::string>{"test.conf:10: unknown algorithm 'average'"});
    CHECK(dimension_errors("a a absolute one 1 c") ==
          std::vector<std::string>{"test.conf:10: multiplier 'one' is not a non-zero integer"});
    CHECK(dimension_errors("a a absolute 1 0 c") ==
          std::vector<std::string>{"test.conf:10: divisor '0' is not a non-zero integer"});
    CHECK(dimension_errors("a a absolute 1 1 c-d") == std::vector<std::string>{});
    CHECK(dimension_errors("a a absolute 1 1 c=d") ==
          std::vector<std::string>{"test.conf:10: counter 'c=d' is not a counter name"});
    CHECK(dimension_errors("process p absolute 1 1 c") ==
          std::vector<std::string>{"test.conf:10: dimension id 'process' is used twice"});
}

TEST_CASE("keys a chart needs for its scope") {
    CHECK(errors_of("[system.exit]\nscope = system\n") ==
          std::vector<std::string>{"test.conf:1: [system.exit]: missing 'title'", "test.conf:1: [system.exit]: missing 'units'",
                                   "test.conf:1: [system.exit]: missing 'family'", "test.conf:1: [system.exit]: missing 'context'",
                                   "test.conf:1: [system.exit]: missing 'type'", "test.conf:1: [system.exit]: missing 'priority'",
                                   "test.conf:1: [system.exit]: needs at least one 'dimension'"});
    const std::string only_per_group =
        "test.conf:1: [system.exit]: 'counter', 'algorithm', 'multiplier' and 'divisor' are only for apps and "
        "services charts";
    CHECK(errors_of(chart_with("counter = exit_process\n")) == std::vector<std::string>{only_per_group});
    CHECK(errors_of(chart_with("divisor = 1000\n", "cgroup")) == std::vector<std::string>{only_per_group});
    CHECK(errors_of(chart_with("dimension = a a absolute 1 1 c\n", "apps")) ==
          std::vector<std::string>{"test.conf:1: [system.exit]: apps and services charts take 'counter', not 'dimension'"});
    std::string no_algorithm = chart_with("", "services");
    no_algorithm.erase(no_algorithm.find("algorithm = incremental\n"));
    CHECK(errors_of(no_algorithm) ==
          std::vector<std::string>{"test.conf:1: [system.exit]: apps and services charts need 'counter' and 'algorithm'"});
}

TEST_CASE("apps and services charts scale their per-group dimensions") {
    std::vector<std::string> errors;
    auto charts = parse_chart_definitions("test.conf", chart_with("multiplier = 8\ndivisor = 1000\n", "apps"), errors);
    CHECK(errors.empty());
    REQUIRE(charts.size() == 1);
    CHECK(charts[0].multiplier == 8);
    CHECK(charts[0].divisor == 1000);
    charts = parse_chart_definitions("test.conf", chart_with("", "services"), errors);
    REQUIRE(charts.size() == 1);
    CHECK(charts[0].multiplier == 1);
    CHECK(charts[0].divisor == 1);
    CHECK(errors_of(chart_with("divisor = 0\n", "apps")) ==
          std::vector<std::string>{"test.conf:11: divisor '0' is not a non-zero integer"});
}

TEST_CASE("sections") {
    CHECK(errors_of("title = orphan\n") == std::vector<std::string>{"test.conf:1: key 'title' is outside any [type.id] section"});
    CHECK(errors_of("\n[noDot]\ntitle = x\n") ==
          std::vector<std::string>{"test.conf:2: section [noDot] is not a chart id type.id made of [A-Za-z0-9_.-]"});
    CHECK(errors_of("[system.a b]\ntitle = x\n") ==
          std::vector<std::string>{"test.conf:1: section [system.a b] is not a chart id type.id made of [A-Za-z0-9_.-]"});
    CHECK(errors_of(chart_with("[system.other]\ntitle = x\n[system.exit]\ntitle = y\n")) ==
          std::vector<std::string>{"test.conf:12: [system.exit] is defined twice",
                                   "test.conf:10: [system.other]: missing 'scope'",
                                   "test.conf:10: [system.other]: missing 'units'",
                                   "test.conf:10: [system.other]: missing 'family'",
                                   "test.conf:10: [system.other]: missing 'context'",
                                   "test.conf:10: [system.other]: missing 'type'",
                                   "test.conf:10: [system.other]: missing 'priority'",
                                   "test.conf:10: [system.other]: needs at least one 'dimension'"});
    // A header without keys in between still makes the next [system.exit] a second definition.
    CHECK(errors_of(chart_with("[system.empty]\n[system.exit]\ntitle = y\n")) ==
          std::vector<std::string>{"test.conf:11: [system.exit] is defined twice"});
    std::string long_name = "[system." + std::string(50, 'x') + "]\n";
    CHECK(errors_of(long_name + "title = x\n").front() == "test.conf:1: section name longer than 49 characters");
}

TEST_CASE("a line too long for inih is reported, not split") {
    std::string long_title = "title = " + std::string(300, 't') + "\n";
    std::vector<std::string> errors = errors_of(chart_with(long_title));
    CHECK(errors == std::vector<std::string>{"test.conf:10: line longer than 198 bytes",
                                             "test.conf:10: key 'title' is given twice"});
}

TEST_CASE("an indented line is an error: inih would glue it to the previous value") {
    CHECK(errors_of(chart_with("  dimension = a a absolute 1 1 c\n")) ==
          std::vector<std::string>{
              "test.conf:10: indented line (inih reads it as the continuation of the previous value)",
              "test.conf:10: dimension needs 6 words: id name algorithm multiplier divisor counter"});
    CHECK(errors_of(chart_with("  ; an indented comment is fine\n")) == std::vector<std::string>{});
}

TEST_CASE("published chart ids") {
    std::vector<std::string> errors;
    std::vector<ChartDef> charts = parse_chart_definitions("process.conf", valid_file, errors);
    REQUIRE(charts.size() == 6);
    CHECK(published_chart_id(charts[0]) == "system.process_thread");
    CHECK(published_chart_id(charts[2]) == "apps.process_create");
    CHECK(published_chart_id(charts[3], "docker_web") == "cgroup_docker_web.process_create");
    CHECK(published_chart_id(charts[3]) == "cgroup_*.process_create");
    CHECK(published_chart_id(charts[4]) == "services.process_create");
    CHECK(published_chart_id(charts[5]) == "netdata.ebpf_threads");
}

TEST_CASE("the embedded charts/*.conf parse without errors") {
    for (const ChartSource &source : embedded_chart_sources()) {
        std::vector<std::string> errors;
        parse_chart_definitions(source.file, source.text, errors, registered_module_names());
        INFO(source.file);
        CHECK(errors == std::vector<std::string>{});
    }
}

// A title is read on the dashboard: a capitalised phrase, no stray punctuation
// ("Tasks starts exit process." in 1.37.1).
TEST_CASE("embedded chart titles read as plain phrases") {
    for (const ChartDef &chart : embedded_chart_definitions()) {
        INFO(chart.type << "." << chart.id << ": '" << chart.title << "'");
        REQUIRE_FALSE(chart.title.empty());
        CHECK((std::isupper(static_cast<unsigned char>(chart.title.front())) || chart.title.starts_with("eBPF")));
        CHECK(std::string(".,;: ").find(chart.title.back()) == std::string::npos);
        CHECK(chart.title.find("  ") == std::string::npos);
        CHECK(chart.title.find("Fails to") == std::string::npos);
        CHECK(chart.title.find("starts exit") == std::string::npos);
    }
}

TEST_CASE("embedded charts a person reads without a legend") {
    std::vector<ChartDef> charts = embedded_chart_definitions();
    auto find = [&](const std::string &type, const std::string &id) -> const ChartDef * {
        for (const ChartDef &chart : charts)
            if (chart.type == type && chart.id == id)
                return &chart;
        return nullptr;
    };
    // task_exit counts threads as well: its dimension says task
    const ChartDef *task_exit = find("cgroup", "task_exit");
    REQUIRE(task_exit);
    REQUIRE(task_exit->dimensions.size() == 1);
    CHECK(task_exit->dimensions[0].name == "task");
    CHECK(task_exit->dimensions[0].id == "do_exit"); // 1.37.1's id stays

    // one 0/1 dimension per module and attach path, not a code
    const ChartDef *attach = find("netdata", "ebpf_attach_path");
    REQUIRE(attach);
    std::vector<std::string> names;
    for (const DimensionDef &dimension : attach->dimensions) {
        names.push_back(dimension.name);
        CHECK(dimension.counter == "attach_" + dimension.name);
    }
    // every module that has charts, times every path, and the process core
    // (not the record sources nor the network viewer the flows feed: no modules)
    static const std::set<std::string> not_modules = {"self", "flows", "network_viewer", "httpflow", "bash", "dns", "traces"};
    std::set<std::string> modules;
    for (const ChartDef &chart : embedded_chart_definitions())
        if (!not_modules.contains(chart.module))
            modules.insert(chart.module);
    std::set<std::string> expected;
    for (const std::string &module : modules)
        for (const char *path : {"trampoline", "kprobe", "tracepoint"})
            expected.insert(module + "_" + path);
    expected.insert("core_tracepoint"); // the process core has one path
    CHECK(std::set<std::string>(names.begin(), names.end()) == expected);
    CHECK(names.size() == expected.size());
}

TEST_CASE("dimension per module stands for one dimension per module") {
    std::vector<std::string> errors;
    auto charts = parse_chart_definitions("self.conf",
                                          "[netdata.ebpf_x]\nscope = self\ntitle = X\nunits = u\nfamily = ebpf\n"
                                          "context = netdata.ebpf_x\ntype = line\npriority = 1\n"
                                          "dimension per module = MODULE_kprobe MODULE_kprobe absolute 1 1 runs_MODULE\n"
                                          "dimension = core core absolute 1 1 runs_core\n",
                                          errors, {"fd", "vfs"});
    CHECK(errors == std::vector<std::string>{});
    REQUIRE(charts.size() == 1);
    REQUIRE(charts[0].dimensions.size() == 3);
    CHECK(charts[0].dimensions[0].id == "fd_kprobe");
    CHECK(charts[0].dimensions[0].counter == "runs_fd");
    CHECK(charts[0].dimensions[1].id == "vfs_kprobe");
    CHECK(charts[0].dimensions[2].id == "core");
}
