// Attach paths: which exist on this kernel, and in which order to try them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

struct btf;

const char *attach_path_name(AttachPath path);

// Default order: trampoline, then kprobe, then tracepoint. A configured path is
// tried first; with fallback off it is the only one tried.
std::vector<AttachPath> attach_order(AttachPath configured, bool fallback);

// What the running kernel offers, read from its BTF and tracefs.
class KernelSymbols {
public:
    explicit KernelSymbols(std::string tracefs_dir);
    ~KernelSymbols();
    KernelSymbols(const KernelSymbols &) = delete;
    KernelSymbols &operator=(const KernelSymbols &) = delete;

    bool has_btf() const { return vmlinux_ != nullptr; }
    bool has_function(std::string_view name) const;
    // The first of `candidates` the kernel has, or "" when none.
    std::string first_function(const std::vector<std::string> &candidates) const;
    bool has_raw_tracepoint(std::string_view name) const;           // tp_btf: btf_trace_<name>
    // Parameters of a kernel function, or of a BTF tracepoint (its context
    // argument not counted); -1 when the kernel has none by that name.
    int function_arg_count(std::string_view name) const;
    int raw_tracepoint_arg_count(std::string_view name) const;
    bool has_syscall_tracepoint(std::string_view event) const;      // tracefs events/syscalls/<event>
    bool has_tracepoint(std::string_view category, std::string_view event) const;  // tracefs events/<category>/<event>
    // The kprobe PMU or tracefs kprobe_events: absent without CONFIG_KPROBES / CONFIG_KPROBE_EVENTS.
    bool has_kprobes() const;
    // Why `path` cannot work on this kernel whatever the programs ("" when it may).
    std::string path_unavailable(AttachPath path) const;
    // Frees the parsed kernel BTF (several MiB) once no module needs it again.
    void release_btf();

private:
    struct btf *vmlinux_ = nullptr;
    std::string tracefs_dir_;
};
