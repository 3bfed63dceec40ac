// Resource limits: the [global] options, and what the guard decides per cycle.
#include "core/config.h"
#include "core/limits.h"
#include "core/self_monitor.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdlib.h>

namespace fs = std::filesystem;

namespace {

// Loads `global` as the [global] section of a user ebpf.d.conf; the warnings
// about modules this plugin lacks (on by default upstream) are left out.
PluginConfig load_global(const std::string &global, std::vector<std::string> &warnings)
{
    char name[] = "/tmp/test_limits.XXXXXX";
    fs::path dir = mkdtemp(name);
    std::ofstream(dir / "ebpf.d.conf") << "[global]\n" << global;
    PluginConfig config = load_config({dir.string(), (dir / "none").string()}, 1,
                                      [&](const std::string &line) {
                                          if (line.find("is not implemented") == std::string::npos)
                                              warnings.push_back(line);
                                      });
    fs::remove_all(dir);
    return config;
}

ResourceUsage usage_at(double seconds, double cpu, std::vector<ModuleCost> modules, uint64_t rss = 0,
                       uint64_t kernel_memory = 0)
{
    return {seconds, cpu, rss, kernel_memory, std::move(modules)};
}

} // namespace

TEST_CASE("sizes and cores: units, and what is refused")
{
    CHECK(parse_size("64") == 64u << 20);
    CHECK(parse_size("64MiB") == 64u << 20);
    CHECK(parse_size(" 64 mib ") == 64u << 20);
    CHECK(parse_size("512 KiB") == 512u << 10);
    CHECK(parse_size("1.5G") == 3ull << 29);
    CHECK(parse_size("4096 B") == 4096u);
    for (const char *bad : {"", "MiB", "-1M", "0", "12 parsecs", "1e3", "nan", "inf", "2000000 TiB"})
        CHECK_MESSAGE(!parse_size(bad), bad);

    CHECK(parse_cores("0.5") == doctest::Approx(0.5));
    CHECK(parse_cores("150%") == doctest::Approx(1.5));
    for (const char *bad : {"", "0", "-1", "half", "1 core", "nan", "inf", "5000"})
        CHECK_MESSAGE(!parse_cores(bad), bad);
    CHECK(show_size(11744051) == "11.2 MiB");
    CHECK(show_size(640) == "640 B");
}

TEST_CASE("limit options of ebpf.d.conf [global]")
{
    std::vector<std::string> warnings;
    PluginConfig config = load_global("cpu limit = 25%\ncpu limit window = 10\nmemory limit = 32 MiB\n"
                                      "kernel memory limit = 8M\n",
                                      warnings);
    CHECK(warnings.empty());
    CHECK(config.limits.cpu_cores == doctest::Approx(0.25));
    CHECK(config.limits.cpu_window_seconds == 10);
    CHECK(config.limits.memory_bytes == 32u << 20);
    CHECK(config.limits.kernel_memory_bytes == 8u << 20);

    SUBCASE("no limits by default, and 'no' or 0 is no limit")
    {
        warnings.clear();
        config = load_global("memory limit = no\nkernel memory limit = 0\n", warnings);
        CHECK(warnings.empty());
        CHECK(!config.limits.any());
        CHECK(config.limits.cpu_window_seconds == 60);
    }
    SUBCASE("a bad value: one line, and no limit")
    {
        warnings.clear();
        config = load_global("cpu limit = lots\nmemory limit = 12 parsecs\ncpu limit window = 0\n", warnings);
        REQUIRE(warnings.size() == 3);
        CHECK(warnings[0].ends_with(":2: invalid value 'lots' for 'cpu limit'; using no limit"));
        CHECK(warnings[1].ends_with(":3: invalid value '12 parsecs' for 'memory limit'; using no limit"));
        CHECK(warnings[2].ends_with(":4: invalid value '0' for 'cpu limit window'; using 60 s"));
        CHECK(!config.limits.any());
    }
    SUBCASE("the record stream limit is named as not applicable")
    {
        warnings.clear();
        config = load_global("record stream limit = 1 MiB\n", warnings);
        REQUIRE(warnings.size() == 1);
        CHECK(warnings[0].ends_with(":2: option 'record stream limit' does not apply yet: no module emits records; "
                                    "ignored"));
    }
}

TEST_CASE("the guard sheds the module with the most BPF time, then exits when one is left")
{
    ResourceLimits limits;
    limits.kernel_memory_bytes = 1000;
    LimitGuard guard(limits);
    CHECK(guard.check(usage_at(0, 0, {{"process", 5}, {"fd", 9}}, 0, 999)).kind == LimitAction::Kind::None);
    // Over the window fd ran 9 -> 10 ns, process 5 -> 50 ns: process costs more now.
    LimitAction action = guard.check(usage_at(1, 0, {{"process", 50}, {"fd", 10}}, 0, 1500));
    CHECK(action.kind == LimitAction::Kind::Shed);
    CHECK(action.module == "process");
    CHECK(action.message == "kernel memory limit 1000 B exceeded (its maps lock 1.5 KiB): shedding module "
                            "'process', the most expensive (0.0 ms of BPF time over the last 1 s); its programs "
                            "are detached");
    CHECK(guard.check(usage_at(2, 0, {{"fd", 11}}, 0, 800)).kind == LimitAction::Kind::None);
    action = guard.check(usage_at(3, 0, {{"fd", 12}}, 0, 1001));
    CHECK(action.kind == LimitAction::Kind::Exit);
    CHECK(action.message == "kernel memory limit 1000 B exceeded (its maps lock 1001 B) and shedding cannot bring "
                            "it under: 'fd' is the last module running; exiting");
}

TEST_CASE("the cpu limit is an average over a full window")
{
    ResourceLimits limits;
    limits.cpu_cores = 0.5;
    limits.cpu_window_seconds = 4;
    LimitGuard guard(limits);
    std::vector<ModuleCost> modules = {{"process", 0}, {"fd", 0}};
    // A burst of 1.5 s of CPU in the first second is not judged before the window is full...
    CHECK(guard.check(usage_at(10, 0, modules)).kind == LimitAction::Kind::None);
    CHECK(guard.check(usage_at(11, 1.5, modules)).kind == LimitAction::Kind::None);
    CHECK(guard.check(usage_at(12, 1.5, modules)).kind == LimitAction::Kind::None);
    CHECK(guard.check(usage_at(13, 1.6, modules)).kind == LimitAction::Kind::None);
    // ... and 1.7 s over 4 s is 0.425 cores: under.
    CHECK(guard.check(usage_at(14, 1.7, modules)).kind == LimitAction::Kind::None);
    // From 11 to 15: 2.2 s over 4 s = 0.55 cores: over; equal BPF time sheds the first.
    LimitAction action = guard.check(usage_at(15, 3.7, modules));
    CHECK(action.kind == LimitAction::Kind::Shed);
    CHECK(action.module == "process");
    CHECK(action.message.starts_with("cpu limit 0.5 cores exceeded (0.55 cores over the last 4 s)"));
    // A new window starts after the shed.
    CHECK(guard.check(usage_at(16, 10, {{"fd", 0}})).kind == LimitAction::Kind::None);
    CHECK(guard.check(usage_at(19, 10.1, {{"fd", 0}})).kind == LimitAction::Kind::None);
    CHECK(guard.check(usage_at(20, 12.1, {{"fd", 0}})).kind == LimitAction::Kind::Exit);
}

TEST_CASE("a long window keeps few samples and still judges the average over it")
{
    ResourceLimits limits;
    limits.cpu_cores = 0.5;
    limits.cpu_window_seconds = 3200;  // samples kept 100 s apart
    LimitGuard guard(limits);
    std::vector<ModuleCost> modules = {{"process", 0}, {"fd", 0}};
    double cpu = 0;
    for (int second = 0; second <= 10000; ++second, cpu += 0.45)
        REQUIRE(guard.check(usage_at(second, cpu, modules)).kind == LimitAction::Kind::None);
    // 0.45 cores for 3,200 s, then 400 s of CPU in one second: 0.575 cores over the window.
    LimitAction action = guard.check(usage_at(10001, cpu + 400, modules));
    CHECK(action.kind == LimitAction::Kind::Shed);
    CHECK(action.message.starts_with("cpu limit 0.5 cores exceeded (0.57"));
}

TEST_CASE("memory over the limit is judged at once; no limit means no action")
{
    ResourceLimits limits;
    limits.memory_bytes = 10 << 20;
    LimitGuard guard(limits);
    LimitAction action = guard.check(usage_at(0, 0, {{"process", 1}, {"fd", 2}}, 11 << 20));
    CHECK(action.kind == LimitAction::Kind::Shed);
    CHECK(action.module == "fd");
    CHECK(action.message.starts_with("memory limit 10.0 MiB exceeded (resident 11.0 MiB): shedding module 'fd', "
                                     "the most expensive (0.0 ms of BPF time since it was loaded)"));

    LimitGuard none{ResourceLimits{}};
    CHECK(none.check(usage_at(0, 100, {{"fd", 1}}, 1ull << 40, 1ull << 40)).kind == LimitAction::Kind::None);
}

TEST_CASE("ns per run over an interval")
{
    CHECK(ns_per_run({1000, 10}, {3000, 20}) == 200);
    CHECK(ns_per_run({1000, 10}, {1001, 13}) == 0);
    CHECK(!ns_per_run({1000, 10}, {1000, 10}));  // nothing ran
    CHECK(ns_per_run({0, 0}, {250, 2}) == 125);
}
