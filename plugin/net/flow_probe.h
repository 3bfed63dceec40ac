// Loads kernel-collector/flows.bpf.c on its tracepoints: the connection table
// that net/flow_records.h reads.
#pragma once

#include <string>
#include <vector>

#include "kernel/attach.h"
#include "kernel/bpf_loader.h"

struct flows_bpf;

class FlowProbe {
public:
    FlowProbe() = default;
    ~FlowProbe();
    FlowProbe(const FlowProbe &) = delete;
    FlowProbe &operator=(const FlowProbe &) = delete;

    // Loads and attaches; "" or a one-line reason. max_connections sizes the
    // table (LRU: the least recently used connection makes room).
    std::string start(const KernelSymbols &kernel, unsigned max_connections);
    int table_fd() const;

private:
    flows_bpf *skeleton_ = nullptr;
    LinkSet links_;
};
