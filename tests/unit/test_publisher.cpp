// Publisher end to end: snapshots in, exact protocol lines out, and the
// output accepted by tools/protocol-check.py.
#include "core/chart_data.h"
#include "core/chart_registry.h"
#include "core/protocol.h"
#include "core/publisher.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "capture.h"

namespace {

const char *fixture_conf = R"(
[system.process_thread]
scope = system
title = Start process
units = calls/s
family = processes
context = system.process_thread
type = line
priority = 21002
dimension = process process incremental 1 1 create_process
dimension = thread thread incremental 1 1 create_thread

[system.task_error]
scope = system
title = Fails to create process
units = calls/s
family = processes
context = system.task_error
type = line
priority = 21005
mode = return
dimension = task task incremental 1 1 task_error

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

[apps.threads]
scope = apps
title = Threads started
units = threads
family = processes
context = apps.threads
type = stacked
priority = 20162
counter = threads
algorithm = absolute

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
)";

std::vector<ChartDef> fixture_charts() {
    std::vector<std::string> errors;
    std::vector<ChartDef> charts = parse_chart_definitions("process.conf", fixture_conf, errors);
    REQUIRE(errors == std::vector<std::string>{});
    REQUIRE(charts.size() == 6);
    return charts;
}

// The fixture's charts (all of module "process") as a process module in this mode runs them.
std::vector<ChartDef> fixture_charts_in(bool return_mode) {
    return charts_for(fixture_charts(), {{"process", true, true, return_mode, 5}});
}


struct CheckResult {
    int exit_code;
    std::string output;
};

// Runs tools/protocol-check.py on the text; nullopt when python3 is missing.
std::optional<CheckResult> protocol_check(const std::string &text) {
    if (std::system("command -v python3 >/dev/null 2>&1") != 0)
        return std::nullopt;
    namespace fs = std::filesystem;
    fs::path script = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "tools/protocol-check.py";
    if (!fs::exists(script))
        script = "tools/protocol-check.py";
    REQUIRE(fs::exists(script));

    char input[] = "/tmp/protocol-check-XXXXXX";
    int fd = mkstemp(input);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text.data(), text.size()) == ssize_t(text.size()));
    close(fd);
    std::string command = "python3 '" + script.string() + "' '" + input + "' 2>&1";
    FILE *checker = popen(command.c_str(), "r");
    REQUIRE(checker);
    std::string output;
    char chunk[4096];
    for (size_t n; (n = fread(chunk, 1, sizeof chunk, checker)) > 0;)
        output.append(chunk, n);
    int status = pclose(checker);
    unlink(input);
    return CheckResult{WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

const std::string process_thread_chart =
    "CHART system.process_thread '' 'Start process' 'calls/s' 'processes' 'system.process_thread' line 21002 5 '' "
    "'ebpf.plugin' 'process'\n"
    "DIMENSION process 'process' incremental 1 1 ''\n"
    "DIMENSION thread 'thread' incremental 1 1 ''\n";
const std::string apps_process_create_chart =
    "CHART apps.process_create '' 'Process started' 'calls/s' 'processes' 'apps.process_create' stacked 20161 5 '' "
    "'ebpf.plugin' 'process'\n";
const std::string apps_threads_chart =
    "CHART apps.threads '' 'Threads started' 'threads' 'processes' 'apps.threads' stacked 20162 5 '' 'ebpf.plugin' "
    "'process'\n";
std::string cgroup_chart(const std::string &id, const std::string &options = "") {
    return "CHART " + id + " '' 'Process started' 'calls/s' 'processes (eBPF)' 'cgroup.process_create' line 25100 5 '" +
           options + "' 'ebpf.plugin' 'process'\n";
}
const std::string services_chart =
    "CHART services.process_create '' 'Process started' 'calls/s' 'processes (eBPF)' 'services.process_create' "
    "stacked 25200 5 '' 'ebpf.plugin' 'process'\n";

}  // namespace

TEST_CASE("publisher: groups and cgroups appearing and disappearing") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    Publisher publisher(registry, fixture_charts_in(false));
    std::string everything;

    Snapshot first;
    first.system = {{"create_process", 10}, {"create_thread", 20}};
    first.apps = {{"bash", {{"create_process", 3}, {"threads", 2}}}};
    first.cgroups = {{"docker a", {{"create_process", 5}}}};
    publisher.publish(first, 10'000'000);
    std::string output = out.take();
    everything += output;
    CHECK(output == process_thread_chart +
                        "BEGIN system.process_thread\n"
                        "SET process = 0\n"
                        "SET thread = 0\n"
                        "END\n" +
                        apps_process_create_chart +
                        "DIMENSION bash 'bash' incremental 1 1 ''\n"
                        "BEGIN apps.process_create\n"
                        "SET bash = 0\n"
                        "END\n" +
                        apps_threads_chart +
                        "DIMENSION bash 'bash' absolute 1 1 ''\n"
                        "BEGIN apps.threads\n"
                        "SET bash = 2\n"
                        "END\n" +
                        cgroup_chart("cgroup_docker_a.process_create") +
                        "DIMENSION process 'process' incremental 1 1 ''\n"
                        "CLABEL 'cgroup_name' 'docker a' 1\n"
                        "CLABEL_COMMIT\n"
                        "BEGIN cgroup_docker_a.process_create\n"
                        "SET process = 0\n"
                        "END\n");

    // A counter goes missing, two groups whose ids collide appear, the cgroup
    // is replaced by another, the first service appears.
    Snapshot second;
    second.system = {{"create_process", 12}};
    second.apps = {{"a b", {{"create_process", 1}, {"threads", 1}}},
                   {"a_b", {{"create_process", 4}}},
                   {"bash", {{"create_process", 6}, {"threads", 5}}}};
    second.cgroups = {{"web", {{"create_process", 7}}}};
    second.services = {{"ssh", {{"create_process", 2}}}};
    publisher.publish(second, 15'000'000);
    output = out.take();
    everything += output;
    CHECK(output == "BEGIN system.process_thread 5000000\n"
                    "SET process = 12\n"
                    "SET thread =\n"
                    "END\n" +
                        apps_process_create_chart +
                        "DIMENSION a_b 'a b' incremental 1 1 ''\n"
                        "DIMENSION a_b_2 'a_b' incremental 1 1 ''\n"
                        "BEGIN apps.process_create 5000000\n"
                        "SET bash = 6\n"
                        "SET a_b = 0\n"
                        "SET a_b_2 = 0\n"
                        "END\n" +
                        apps_threads_chart +
                        "DIMENSION a_b 'a b' absolute 1 1 ''\n"
                        "DIMENSION a_b_2 'a_b' absolute 1 1 ''\n"
                        "BEGIN apps.threads 5000000\n"
                        "SET bash = 5\n"
                        "SET a_b = 1\n"
                        "SET a_b_2 =\n"
                        "END\n" +
                        cgroup_chart("cgroup_docker_a.process_create", "obsolete") +
                        cgroup_chart("cgroup_web.process_create") +
                        "DIMENSION process 'process' incremental 1 1 ''\n"
                        "CLABEL 'cgroup_name' 'web' 1\n"
                        "CLABEL_COMMIT\n"
                        "BEGIN cgroup_web.process_create\n"
                        "SET process = 0\n"
                        "END\n" +
                        services_chart +
                        "DIMENSION ssh 'ssh' incremental 1 1 ''\n"
                        "BEGIN services.process_create\n"
                        "SET ssh = 0\n"
                        "END\n");

    // Groups and the service vanish: their dimensions stay, cumulative values
    // stay, per-interval values drop to 0. The first cgroup comes back.
    Snapshot third;
    third.system = {{"create_process", 15}, {"create_thread", 21}};
    third.apps = {{"a b", {{"create_process", 2}, {"threads", 3}}}};
    third.cgroups = {{"docker a", {{"create_process", 9}}}, {"web", {{"create_process", 8}}}};
    publisher.publish(third, 20'000'000);
    output = out.take();
    everything += output;
    CHECK(output == "BEGIN system.process_thread 5000000\n"
                    "SET process = 15\n"
                    "SET thread = 21\n"
                    "END\n"
                    "BEGIN apps.process_create 5000000\n"
                    "SET bash = 6\n"
                    "SET a_b = 2\n"
                    "SET a_b_2 = 4\n"
                    "END\n"
                    "BEGIN apps.threads 5000000\n"
                    "SET bash = 0\n"
                    "SET a_b = 3\n"
                    "SET a_b_2 =\n"
                    "END\n" +
                        cgroup_chart("cgroup_docker_a.process_create") +
                        "DIMENSION process 'process' incremental 1 1 ''\n"
                        "CLABEL 'cgroup_name' 'docker a' 1\n"
                        "CLABEL_COMMIT\n"
                        "BEGIN cgroup_docker_a.process_create\n"
                        "SET process = 0\n"
                        "END\n"
                        "BEGIN cgroup_web.process_create 5000000\n"
                        "SET process = 8\n"
                        "END\n"
                        "BEGIN services.process_create 5000000\n"
                        "SET ssh = 2\n"
                        "END\n");

    std::optional<CheckResult> check = protocol_check(everything);
    if (!check) {
        MESSAGE("python3 not found: tools/protocol-check.py skipped");
        return;
    }
    CHECK(check->output == "protocol-check: OK: 84 lines, 6 charts, 15 updates\n");
    CHECK(check->exit_code == 0);
}

TEST_CASE("publisher: return-mode charts only in return mode") {
    Snapshot snapshot;
    snapshot.system = {{"task_error", 1}};
    const std::string task_error_chart =
        "CHART system.task_error '' 'Fails to create process' 'calls/s' 'processes' 'system.task_error' line 21005 5 "
        "'' 'ebpf.plugin' 'process'\n"
        "DIMENSION task 'task' incremental 1 1 ''\n"
        "BEGIN system.task_error\n"
        "SET task = 0\n"
        "END\n";
    const std::string process_thread_update = process_thread_chart +
                                              "BEGIN system.process_thread\n"
                                              "SET process = 0\n"
                                              "SET thread = 0\n"
                                              "END\n";
    for (bool return_mode : {false, true}) {
        Capture out;
        ChartRegistry registry(out.writer, 5);
        Publisher publisher(registry, fixture_charts_in(return_mode));
        publisher.publish(snapshot, 1'000'000);
        CHECK(out.take() == process_thread_update + (return_mode ? task_error_chart : ""));
    }
}

TEST_CASE("publisher: cgroups whose ids collide get distinct charts, obsoleted when they go") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    std::vector<ChartDef> charts = fixture_charts();
    std::erase_if(charts, [](const ChartDef &def) { return def.scope != Scope::Cgroup; });
    Publisher publisher(registry, charts);

    Snapshot both;
    both.cgroups = {{"a b", {{"create_process", 1}}}, {"a_b", {{"create_process", 2}}}};
    publisher.publish(both, 1'000'000);
    CHECK(out.take() == cgroup_chart("cgroup_a_b.process_create") +
                            "DIMENSION process 'process' incremental 1 1 ''\n"
                            "CLABEL 'cgroup_name' 'a b' 1\n"
                            "CLABEL_COMMIT\n"
                            "BEGIN cgroup_a_b.process_create\n"
                            "SET process = 0\n"
                            "END\n" +
                            cgroup_chart("cgroup_a_b_2.process_create") +
                            "DIMENSION process 'process' incremental 1 1 ''\n"
                            "CLABEL 'cgroup_name' 'a_b' 1\n"
                            "CLABEL_COMMIT\n"
                            "BEGIN cgroup_a_b_2.process_create\n"
                            "SET process = 0\n"
                            "END\n");

    Snapshot one;
    one.cgroups = {{"a_b", {{"create_process", 3}}}};
    publisher.publish(one, 2'000'000);
    CHECK(out.take() == cgroup_chart("cgroup_a_b.process_create", "obsolete") +
                            "BEGIN cgroup_a_b_2.process_create 1000000\n"
                            "SET process = 3\n"
                            "END\n");
}

TEST_CASE("publisher: a cgroup chart declared again starts from the last value sent") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    std::vector<ChartDef> charts = fixture_charts();
    std::erase_if(charts, [](const ChartDef &def) { return def.scope != Scope::Cgroup; });
    Publisher publisher(registry, charts);

    Snapshot live;
    live.cgroups = {{"web.1", {{"create_process", 5}}}};
    publisher.publish(live, 1'000'000);
    live.cgroups["web.1"]["create_process"] = 427;
    publisher.publish(live, 2'000'000);
    publisher.publish(Snapshot{}, 3'000'000);
    out.take();

    live.cgroups["web.1"]["create_process"] = 488;
    publisher.publish(live, 4'000'000);
    CHECK(out.take() == cgroup_chart("cgroup_web-1.process_create") +
                            "DIMENSION process 'process' incremental 1 1 ''\n"
                            "CLABEL 'cgroup_name' 'web.1' 1\n"
                            "CLABEL_COMMIT\n"
                            "BEGIN cgroup_web-1.process_create\n"
                            "SET process = 427\n"
                            "END\n");
}

TEST_CASE("publisher: the embedded charts, every scope, pass protocol-check") {
    Capture out;
    ChartRegistry registry(out.writer, 1);
    std::vector<ChartDef> charts = embedded_chart_definitions();
    Counters counters;
    for (const ChartDef &def : charts) {
        counters[def.counter] = 7;
        for (const DimensionDef &dim : def.dimensions)
            counters[dim.counter] = 3;
    }
    Publisher publisher(registry, charts);
    Snapshot snapshot{.system = counters,
                      .apps = {{"bash", counters}, {"my 'app'", counters}},
                      .cgroups = {{"docker/web=1", counters}},
                      .services = {{"ssh", counters}}};
    publisher.publish(snapshot, 1'000'000);
    snapshot.apps.erase("bash");
    snapshot.cgroups = {{"system.slice", counters}};
    publisher.publish(snapshot, 2'000'000);

    std::optional<CheckResult> check = protocol_check(out.take());
    if (!check) {
        MESSAGE("python3 not found: tools/protocol-check.py skipped");
        return;
    }
    INFO(check->output);
    CHECK(check->exit_code == 0);
}

TEST_CASE("protocol-check rejects what the agent would not take") {
    const std::string chart = "CHART a.b '' 't' 'u' 'f' 'a.b' line 1 1 '' 'ebpf.plugin' 'm'\n"
                              "DIMENSION d 'd' absolute 1 1 ''\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"HELLO\n", "protocol-check: line 1: unknown keyword 'HELLO': b'HELLO\\n'\n"},
        {chart + "BEGIN a.c\n",
         "protocol-check: line 3: BEGIN of undeclared chart a.c (the agent disables the plugin): b'BEGIN a.c\\n'\n"},
        {chart + "BEGIN a.b\nSET e = 1\nEND\n",
         "protocol-check: line 4: SET of undeclared dimension e in a.b (the agent disables the plugin): "
         "b'SET e = 1\\n'\n"},
        {chart + "SET d = 1\n",
         "protocol-check: line 3: SET outside BEGIN/END (the agent disables the plugin): b'SET d = 1\\n'\n"},
        {chart + "END\n", "protocol-check: line 3: END without BEGIN (the agent disables the plugin): b'END\\n'\n"},
        {chart + "CLABEL 'k' 'v'\n",
         "protocol-check: line 3: CLABEL needs exactly name value source (without the source the agent crashes): "
         "b\"CLABEL 'k' 'v'\\n\"\n"},
        {"DIMENSION d\n",
         "protocol-check: line 1: DIMENSION before any CHART (the agent disables the plugin): b'DIMENSION d\\n'\n"},
        {chart + "BEGIN a.b\nSET d = 010\nEND\n",
         "protocol-check: line 4: value '010' is not a plain decimal integer in range: b'SET d = 010\\n'\n"},
        {chart + "BEGIN a.b\nSET d = 2.5\nEND\n",
         "protocol-check: line 4: value '2.5' is not a plain decimal integer in range: b'SET d = 2.5\\n'\n"},
        {"CHART a.b" + std::string(20, ' ') + " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n",
         "protocol-check: line 1: 21 words (the agent reads 20): b'CHART a.b                     1 2 3 4 5 6 7 8 9 "
         "10 11 12 13 14 15 16 17 18 19\\n'\n"},
    };
    for (const auto &[input, expected] : cases) {
        std::optional<CheckResult> check = protocol_check(input);
        if (!check) {
            MESSAGE("python3 not found: tools/protocol-check.py skipped");
            return;
        }
        CHECK(check->output == expected);
        CHECK(check->exit_code == 1);
    }

    std::optional<CheckResult> long_line = protocol_check("CHART a.b '" + std::string(15347, 'x') + "'\n");
    REQUIRE(long_line);
    CHECK(long_line->output.starts_with("protocol-check: line 1: line of 15360 bytes (the agent keeps 15359)"));
    CHECK(long_line->exit_code == 1);
    std::optional<CheckResult> longest = protocol_check("CHART a.b '" + std::string(15346, 'x') + "'\n");
    REQUIRE(longest);
    CHECK(longest->output == "protocol-check: OK: 1 lines, 1 charts, 0 updates\n");
    CHECK(longest->exit_code == 0);
}

// ebpf.d/<module>.conf may set `ebpf load mode`, `update every`, `apps` and
// `cgroups` per module: each module's charts follow its own values.
TEST_CASE("charts_for: each module's charts follow its own mode, scopes and update every") {
    std::vector<ChartDef> all = embedded_chart_definitions();
    auto ids = [](const std::vector<ChartDef> &charts, const std::string &module) {
        std::map<std::string, int> found;  // published id -> update every
        for (const ChartDef &def : charts)
            if (def.module == module)
                found[published_chart_id(def)] = def.update_every;
        return found;
    };
    // fd in return mode every 2 s, process in entry mode every 10 s, no cgroups for process.
    std::vector<ChartDef> charts =
        charts_for(all, {{"process", true, false, false, 10}, {"fd", true, true, true, 2}});
    auto fd = ids(charts, "fd"), process = ids(charts, "process");
    CHECK(fd.contains("filesystem.file_error"));
    CHECK(fd.contains("apps.file_open_error"));
    CHECK(fd.contains("services.file_close_error"));
    CHECK(process.contains("system.process_thread"));
    CHECK(process.contains("apps.process_create"));
    CHECK_FALSE(process.contains("system.task_error"));
    CHECK_FALSE(process.contains("apps.task_error"));
    CHECK_FALSE(process.contains("services.task_error"));
    for (const auto &[id, update_every] : fd)
        CHECK(update_every == 2);
    for (const auto &[id, update_every] : process)
        CHECK(update_every == 10);
    for (const ChartDef &def : charts)
        CHECK((def.module != "process" || def.scope == Scope::System || def.scope == Scope::Apps));
    CHECK(!ids(charts, "self").empty());

    // The reverse: process in return mode, fd in entry mode.
    charts = charts_for(all, {{"process", true, true, true, 1}, {"fd", true, true, false, 1}});
    CHECK(ids(charts, "process").contains("system.task_error"));
    CHECK_FALSE(ids(charts, "fd").contains("filesystem.file_error"));
    CHECK_FALSE(ids(charts, "fd").contains("apps.file_open_error"));
    // A module that does not run has no charts.
    CHECK(ids(charts_for(all, {{"process", true, true, true, 1}}), "fd").empty());
}

// sync.conf's and shm.conf's [syscalls]: a syscall turned off loses its dimension,
// and a chart left without one is not declared (upstream's charts do the same).
TEST_CASE("charts_for: hidden counters drop their dimensions, and charts left empty") {
    std::vector<ChartDef> all = embedded_chart_definitions();
    std::vector<ChartDef> charts = charts_for(
        all, {{"sync", true, true, false, 1, {"msync_call", "fsync_call"}}, {"shm", true, true, false, 1, {"shmdt_call"}}});
    std::map<std::string, std::vector<std::string>> dimensions;  // chart -> dimension ids
    for (const ChartDef &def : charts) {
        auto &list = dimensions[published_chart_id(def)];
        for (const DimensionDef &dimension : def.dimensions)
            list.push_back(dimension.id);
    }
    CHECK_FALSE(dimensions.contains("mem.memory_map"));
    CHECK(dimensions["mem.file_sync"] == std::vector<std::string>{"fdatasync"});
    CHECK(dimensions["mem.sync"] == std::vector<std::string>{"sync", "syncfs"});
    CHECK(dimensions["mem.file_segment"] == std::vector<std::string>{"sync_file_range"});
    CHECK(dimensions["system.shared_memory_calls"] == std::vector<std::string>{"get", "at", "ctl"});
    CHECK_FALSE(dimensions.contains("apps.shmdt_call"));
    CHECK_FALSE(dimensions.contains("services.shmdt_call"));
    CHECK(dimensions.contains("apps.shmat_call"));
    CHECK(dimensions.contains("services.shmctl_call"));
}

TEST_CASE("publisher: a module's charts are declared with its update every and updated only when it is due") {
    std::vector<ChartDef> all = embedded_chart_definitions();
    std::erase_if(all, [](const ChartDef &def) { return def.scope != Scope::System; });
    Capture out;
    ChartRegistry registry(out.writer, 1);
    Publisher publisher(registry, charts_for(all, {{"process", false, false, false, 10}, {"fd", false, false, false, 1}}));
    Snapshot snapshot;
    snapshot.system = {{"create_process", 4}, {"open_call", 5}};
    publisher.publish(snapshot, 1'000'000, {"process", "fd", "self"});
    std::string first = out.take();
    CHECK(first.find("CHART system.process_thread '' 'Processes and threads started' 'calls/s' 'processes' 'system.process_thread' "
                     "line 21002 10 ") != std::string::npos);
    CHECK(first.find("CHART filesystem.file_descriptor ") != std::string::npos);
    CHECK(first.find(" 1 '' 'ebpf.plugin' 'fd'\n") != std::string::npos);
    publisher.publish(snapshot, 2'000'000, {"fd"});
    std::string second = out.take();
    CHECK(second.find("BEGIN filesystem.file_descriptor 1000000\n") != std::string::npos);
    CHECK(second.find("system.process_thread") == std::string::npos);
    CHECK(second.find("netdata.") == std::string::npos);
    publisher.publish(snapshot, 11'000'000, {"process"});
    std::string third = out.take();
    CHECK(third.find("BEGIN system.process_thread 10000000\n") != std::string::npos);
    CHECK(third.find("filesystem.") == std::string::npos);
}

TEST_CASE("publisher: a group another module saw first has 0, not an empty value, in this module's charts") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    Publisher publisher(registry, fixture_charts_in(false));
    Snapshot snapshot;
    snapshot.apps = {{"web", {{"threads", 2}}}}; // counted by another counter first
    publisher.publish(snapshot, 1'000'000);
    out.take();
    publisher.publish(snapshot, 2'000'000);
    // The agent would take a value after an empty one as a new baseline and lose it.
    CHECK(out.take().find("BEGIN apps.process_create 1000000\nSET web = 0\nEND\n") != std::string::npos);
    snapshot.apps["web"]["create_process"] = 40;
    publisher.publish(snapshot, 3'000'000);
    CHECK(out.take().find("BEGIN apps.process_create 1000000\nSET web = 40\nEND\n") != std::string::npos);
}

TEST_CASE("publisher: a cgroup another module saw first has 0, not an empty value, in this module's charts") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    Publisher publisher(registry, fixture_charts_in(false));
    Snapshot snapshot;
    snapshot.cgroups = {{"web", {{"threads", 1}}}};
    publisher.publish(snapshot, 1'000'000);
    out.take();
    publisher.publish(snapshot, 2'000'000);
    CHECK(out.take().find("BEGIN cgroup_web.process_create 1000000\nSET process = 0\nEND\n") != std::string::npos);
    snapshot.cgroups["web"]["create_process"] = 40;
    publisher.publish(snapshot, 3'000'000);
    CHECK(out.take().find("BEGIN cgroup_web.process_create 1000000\nSET process = 40\nEND\n") != std::string::npos);
}
