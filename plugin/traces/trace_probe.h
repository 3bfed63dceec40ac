// Loads kernel-collector/traces.bpf.c with the programs of the enabled
// traces: syscall tracepoints, and for malloc uprobes on the libc of the
// configured processes only (a uprobe on every process's malloc would slow
// the whole host).
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>

#include "kernel/attach.h"
#include "kernel/bpf_loader.h"
#include "traces/traces_config.h"

struct traces_bpf;
// The `counts` map summed over CPUs: [row][enum trace_outcome], a row per
// trace and TRACE_EXEC_ENTER_ROW.
using TraceCounts = std::array<std::array<uint64_t, TRACE_OUTCOMES>, TRACE_COUNT_ROWS>;
struct bpf_map;

class TraceProbe {
public:
    TraceProbe() = default;
    ~TraceProbe();
    TraceProbe(const TraceProbe &) = delete;
    TraceProbe &operator=(const TraceProbe &) = delete;

    // Why a trace cannot run on this kernel ("" when it can): for --check and start().
    static std::string unavailable(const KernelSymbols &kernel, unsigned kind);
    // Whether the malloc programs load and the kernel has uprobes ("" or
    // why not), without attaching: attaching to another process needs the
    // privileges the plugin holds only until its start is done.
    static std::string uprobes_load();

    // Loads and attaches the traces in `kinds` that can run here, with the
    // config's ring size, rate limits and cgroup. Returns "" or a one-line
    // reason nothing runs; a trace that cannot run has its reason in
    // problems() and the others run.
    std::string start(const KernelSymbols &kernel, const TracesConfig &config, const std::set<unsigned> &kinds);

    const std::set<unsigned> &running() const { return running_; }
    const std::array<std::string, TRACE_KINDS> &problems() const { return problems_; }
    int ring_fd() const;
    bool read_counts(TraceCounts &counts) const;
    const bpf_object *object() const;

private:
    void stop();
    std::string attach_malloc(const std::vector<uint32_t> &pids);

    traces_bpf *skeleton_ = nullptr;
    LinkSet links_;
    std::set<unsigned> running_;
    std::array<std::string, TRACE_KINDS> problems_;
};

// The libc a process maps (from /proc/PID/maps, as seen through
// /proc/PID/root), or "" when none.
std::string libc_of_process(uint32_t pid);
