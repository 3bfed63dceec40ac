// ebpf.d/traces.conf: which of Fluent Bit's in_ebpf traces run, their rate
// limits, the ring buffer and whom they trace (docs/RECORDS.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "traces.h"

// "exec", "signal", ... by enum trace_kind; the record source's name too.
const char *trace_name(unsigned kind);
// "trace_exec" or "exec" -> TRACE_EXEC; TRACE_KINDS when unknown.
unsigned trace_kind_of(const std::string &name);

struct TraceSettings {
    bool enabled = false;             // [trace_exec] enabled = no
    unsigned records_per_second = 1000;  // records per second = 1000 (0: no limit)
};

struct TracesConfig {
    std::array<TraceSettings, TRACE_KINDS> traces;
    uint64_t ring_bytes = 4 << 20;   // [traces] ring buffer size = 4M (a power of 2 of pages)
    std::string cgroup;              // cgroup = (a cgroup v2 directory: only its processes; empty: all)
    std::vector<uint32_t> malloc_pids;  // [trace_malloc] pids = (the processes whose libc is probed)

    bool any_enabled() const;
};

// The user's traces.conf, else the stock one. Problems: one `warn` line each, default kept.
TracesConfig load_traces_config(const ConfigDirs &dirs, const Warn &warn);
TracesConfig parse_traces_config(const std::string &path, const std::string &text, const Warn &warn);
