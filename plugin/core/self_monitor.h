// What the plugin costs the host, measured each cycle: the kernel's run time
// and run count of every program (BPF_ENABLE_STATS), the locked memory of its
// maps, its own CPU time and resident memory. Published as self counters
// (charts/self.conf) and checked against the resource limits, shedding a
// module when one is exceeded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/collector.h"
#include "core/limits.h"

// Keeps the kernel's run-time statistics of BPF programs on while it lives
// (the fd of BPF_ENABLE_STATS; the kernel turns them off when the last such fd
// closes), so no global sysctl is changed and none is left behind. Needs
// CAP_SYS_ADMIN: make it before dropping privileges.
class BpfRunTimeStats {
public:
    BpfRunTimeStats();
    ~BpfRunTimeStats();
    BpfRunTimeStats(const BpfRunTimeStats &) = delete;
    BpfRunTimeStats &operator=(const BpfRunTimeStats &) = delete;
    const std::string &error() const { return error_; }  // "" when on

private:
    int fd_ = -1;
    std::string error_;
};

struct ProgramCost {
    uint64_t run_time_ns = 0, run_count = 0;
};
// Summed over programs; a program whose info cannot be read adds nothing.
ProgramCost program_cost(const std::vector<int> &program_fds);
// Summed "memlock:" of /proc/self/fdinfo/<fd> (what bpftool and upstream's
// ebpf_kernel_memory show) of the maps whose id is not in `counted` yet.
uint64_t locked_memory(const std::vector<int> &fds, std::set<uint32_t> &counted);

struct ProcessCost {
    uint64_t user_usec = 0, system_usec = 0, rss_bytes = 0;
};
ProcessCost process_cost();

// The per-interval ns per run of `now` against `before` (nothing when no program ran).
std::optional<int64_t> ns_per_run(const ProgramCost &before, const ProgramCost &now);

class SelfMonitor {
public:
    SelfMonitor(Collector &collector, const ResourceLimits &limits);

    // Measures, adds the self counters to `system`, and applies the limits:
    // may shed a module. Returns false when the plugin must exit (the reason
    // is on stderr).
    bool observe(Counters &system);

    // Programs that are not a module's (the flows): their cost and kernel
    // memory are charted under `name` and count for the limits; they are
    // never shed. The object must outlive the monitor.
    void watch(std::string name, AttachPath path, const bpf_object *object);

private:
    // The cost counters of a module (or of the process core) on the path it uses.
    void add_cost(Counters &system, const std::string &name, AttachPath used, const ProgramCost &cost);
    void shed(const std::string &module);

    Collector &collector_;
    LimitGuard guard_;
    std::map<std::string, ProgramCost> previous_;  // module or "core" -> last cycle's cost
    std::set<std::string> shed_;
    struct Watched {
        std::string name;
        AttachPath path;
        const bpf_object *object;
    };
    std::vector<Watched> watched_;
};
