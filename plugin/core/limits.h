// Resource limits ([global] of ebpf.d.conf) and what the plugin does when it
// goes over one: shed the module that costs the most BPF time, and exit only
// when shedding cannot bring it under (see docs/DESIGN.md, "Resource limits").
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ResourceLimits {
    std::optional<double> cpu_cores;              // "cpu limit": user+system time, averaged over the window
    int cpu_window_seconds = 60;                  // "cpu limit window"
    std::optional<uint64_t> memory_bytes;         // "memory limit": resident set size
    std::optional<uint64_t> kernel_memory_bytes;  // "kernel memory limit": locked memory of the plugin's maps
    bool any() const { return cpu_cores || memory_bytes || kernel_memory_bytes; }
};

enum class LimitKey { None, Cpu, CpuWindow, Memory, KernelMemory, RecordStream };

// Which limit option a lower-case [global] key names (None: not a limit option).
LimitKey limit_key(std::string_view key);

// Sets the option `key` from `value`. On a bad value returns false, leaves the
// option as it was and says in `kept` what stays in effect ("no limit").
bool set_limit(ResourceLimits &limits, LimitKey key, std::string_view value, std::string &kept);

// "64MiB", "64 MiB", "512 KiB", "1G", "64" (MiB): units are powers of 1024.
std::optional<uint64_t> parse_size(std::string_view value);
// "0.5" cores, or "50%" of one core.
std::optional<double> parse_cores(std::string_view value);
// "11.2 MiB", "640 KiB", "12 B": for messages.
std::string show_size(uint64_t bytes);

// What the plugin uses, measured once per cycle.
struct ModuleCost {
    std::string module;
    uint64_t bpf_time_ns = 0;  // cumulative run time of its programs
};
struct ResourceUsage {
    double now_seconds = 0;     // a monotonic clock
    double cpu_seconds = 0;     // cumulative user+system time of the plugin
    uint64_t rss_bytes = 0;
    uint64_t kernel_memory_bytes = 0;
    std::vector<ModuleCost> modules;  // the running modules
};

struct LimitAction {
    enum class Kind { None, Shed, Exit } kind = Kind::None;
    std::string module;   // Shed: the module to stop
    std::string message;  // Shed, Exit: one line for stderr, without the "ebpf.plugin: " prefix
};

// Checks each cycle's usage against the limits. Over a limit with two or more
// modules running, it names the module whose programs took the most BPF time
// over the CPU window (or since the last shed) to shed; with one module left
// it says to exit. After a shed the window starts again.
class LimitGuard {
public:
    explicit LimitGuard(ResourceLimits limits) : limits_(limits) {}
    LimitAction check(const ResourceUsage &usage);

private:
    std::string over_limit() const;  // "" or why
    const ResourceUsage *window_start() const;

    ResourceLimits limits_;
    std::deque<ResourceUsage> samples_;  // oldest first, spanning at most the CPU window
};
