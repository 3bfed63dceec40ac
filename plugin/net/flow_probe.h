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

    // Loads and attaches on `path` (Auto: the tracepoints, else trampolines);
    // "" or a one-line reason. max_connections sizes the table (LRU: the
    // least recently used connection makes room).
    std::string start(const KernelSymbols &kernel, unsigned max_connections, AttachPath path = AttachPath::Auto);
    // Why this kernel cannot have the flows on `path` (Trampoline or Tracepoint)
    // at all, without loading anything; "" when it may.
    static std::string not_applicable(const KernelSymbols &kernel, AttachPath path);
    int table_fd() const;
    AttachPath path() const { return path_; }
    const bpf_object *object() const;

private:
    std::string start_on(const KernelSymbols &kernel, unsigned max_connections, AttachPath path);
    void stop();

    flows_bpf *skeleton_ = nullptr;
    AttachPath path_ = AttachPath::Auto;
    LinkSet links_;
};
