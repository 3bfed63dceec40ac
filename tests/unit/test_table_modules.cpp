// Table modules (hardirq, softirq, disk, filesystem): upstream's histogram
// dimensions, keyed charts through the publisher, filesystem.conf's [filesystem].
#include "core/chart_data.h"
#include "core/chart_registry.h"
#include "core/config.h"
#include "core/publisher.h"
#include "modules/table_module.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdlib.h>

#include "capture.h"

namespace {

const char *keyed_conf = R"(
[disk_latency_io.KEY]
scope = keyed
title = Disk latency
units = calls/s
family = KEY
context = disk.latency_io
type = stacked
priority = 2095
dimension = KEY KEY incremental 1 1 requests
)";

std::vector<ChartDef> keyed_charts() {
    std::vector<std::string> errors;
    std::vector<ChartDef> charts = parse_chart_definitions("disk.conf", keyed_conf, errors);
    REQUIRE(errors == std::vector<std::string>{});
    REQUIRE(charts.size() == 1);
    return charts_for(charts, {{"disk", false, false, false, 5}});
}

const std::string loop0_chart =
    "CHART disk_latency_io.loop0 '' 'Disk latency' 'calls/s' 'loop0' 'disk.latency_io' stacked 2095 5 '' "
    "'ebpf.plugin' 'disk'\n";

}  // namespace

TEST_CASE("latency bins: upstream's 24 dimension names") {
    const std::vector<std::string> &names = latency_bin_names();
    REQUIRE(names.size() == 24);
    CHECK(names[0] == "0us->1us");
    CHECK(names[1] == "1us->2us");
    CHECK(names[9] == "256us->512us");
    CHECK(names[10] == "512us->1ms");
    CHECK(names[11] == "1ms->2ms");
    CHECK(names[20] == "524ms->1s");
    CHECK(names[22] == "2s->4s");
    CHECK(names[23] == "4s->+Inf");
}

TEST_CASE("keyed charts: declared per key with the module's dimensions, baselines, new dimensions, obsolete") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    Publisher publisher(registry, keyed_charts());

    Snapshot snapshot;
    snapshot.keyed_modules = {"disk"};
    snapshot.keyed = {{"disk_latency_io.KEY", "loop0", {{"0us->1us", 3}, {"1us->2us", 0}}}};
    publisher.publish(snapshot, 1'000'000);
    CHECK(out.take() == loop0_chart +
                            "DIMENSION 0us-_1us '0us->1us' incremental 1 1 ''\n"
                            "DIMENSION 1us-_2us '1us->2us' incremental 1 1 ''\n"
                            "BEGIN disk_latency_io.loop0\n"
                            "SET 0us-_1us = 0\n"
                            "SET 1us-_2us = 0\n"
                            "END\n");

    snapshot.keyed = {{"disk_latency_io.KEY", "loop0", {{"0us->1us", 5}, {"1us->2us", 1}, {"2us->4us", 7}}}};
    publisher.publish(snapshot, 2'000'000);
    CHECK(out.take() == loop0_chart +
                            "DIMENSION 2us-_4us '2us->4us' incremental 1 1 ''\n"
                            "BEGIN disk_latency_io.loop0 1000000\n"
                            "SET 0us-_1us = 5\n"
                            "SET 1us-_2us = 1\n"
                            "SET 2us-_4us = 0\n"
                            "END\n");

    // Not due (its module was not read): nothing; read without the disk: obsolete.
    publisher.publish(Snapshot{}, 3'000'000);
    CHECK(out.take().empty());
    Snapshot gone;
    gone.keyed_modules = {"disk"};
    publisher.publish(gone, 4'000'000);
    CHECK(out.take() == "CHART disk_latency_io.loop0 '' 'Disk latency' 'calls/s' 'loop0' 'disk.latency_io' stacked "
                        "2095 5 'obsolete' 'ebpf.plugin' 'disk'\n");

    // Back again: declared anew, from the last values sent.
    publisher.publish(snapshot, 5'000'000);
    std::string again = out.take();
    CHECK(again.find("SET 0us-_1us = 5\nSET 1us-_2us = 1\nSET 2us-_4us = 0\n") != std::string::npos);
}

TEST_CASE("keyed charts: a template needs exactly one dimension") {
    std::vector<std::string> errors;
    std::string text = keyed_conf;
    text += "dimension = other other incremental 1 1 requests\n";
    CHECK(parse_chart_definitions("disk.conf", text, errors).empty());
    CHECK(errors == std::vector<std::string>{
                        "disk.conf:2: [disk_latency_io.KEY]: a keyed chart has one 'dimension', the template of all"});
}

TEST_CASE("filesystem.conf [filesystem]: <name>dist = no leaves a filesystem out") {
    namespace fs = std::filesystem;
    char name[] = "/tmp/test_table_modules.XXXXXX";
    fs::path dir = mkdtemp(name);
    std::ofstream(dir / "ebpf.d.conf") << "[ebpf programs]\n filesystem = yes\n sync = no\n mount = no\n"
                                          " oomkill = no\n socket = no\n shm = no\n";
    fs::create_directories(dir / "ebpf.d");
    std::ofstream(dir / "ebpf.d/filesystem.conf") << "[filesystem]\n ext4dist = no\n xfsdist = yes\n"
                                                     " nfsdist = no\n nfsdist = yes\n foodist = no\n";
    std::vector<std::string> warnings;
    PluginConfig config = load_config({dir.string(), ""}, 1, [&](const std::string &line) { warnings.push_back(line); });
    const ModuleConfig *filesystem = config.module("filesystem");
    REQUIRE(filesystem);
    CHECK(filesystem->enabled);
    CHECK(filesystem->disabled_filesystems == std::set<std::string>{"ext4"});
    std::string file = (dir / "ebpf.d/filesystem.conf").string();
    CHECK(warnings == std::vector<std::string>{
                          "ebpf.plugin: " + file + ":5: option 'nfsdist' in [filesystem] repeats line 4; the later line wins",
                          "ebpf.plugin: " + file + ": option 'foodist' in [filesystem] is not supported; ignored",
                      });
    fs::remove_all(dir);
}
