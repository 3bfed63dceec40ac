#include "kernel/attach.h"

#include <algorithm>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

const char *attach_path_name(AttachPath path)
{
    switch (path) {
    case AttachPath::Trampoline: return "trampoline";
    case AttachPath::Kprobe: return "kprobe";
    case AttachPath::Tracepoint: return "tracepoint";
    case AttachPath::Auto: break;
    }
    return "auto";
}

std::vector<AttachPath> attach_order(AttachPath configured, bool fallback)
{
    std::vector<AttachPath> order = {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint};
    if (configured == AttachPath::Auto)
        return order;
    if (!fallback)
        return {configured};
    std::erase(order, configured);
    order.insert(order.begin(), configured);
    return order;
}

KernelSymbols::KernelSymbols(std::string tracefs_dir) : tracefs_dir_(std::move(tracefs_dir))
{
    struct btf *btf = btf__load_vmlinux_btf();
    if (!libbpf_get_error(btf))
        vmlinux_ = btf;
}

KernelSymbols::~KernelSymbols() { release_btf(); }

void KernelSymbols::release_btf()
{
    btf__free(vmlinux_);
    vmlinux_ = nullptr;
}

bool KernelSymbols::has_function(std::string_view name) const
{
    return vmlinux_ && btf__find_by_name_kind(vmlinux_, std::string(name).c_str(), BTF_KIND_FUNC) > 0;
}

std::string KernelSymbols::first_function(const std::vector<std::string> &candidates) const
{
    auto found = std::find_if(candidates.begin(), candidates.end(),
                              [this](const std::string &name) { return has_function(name); });
    return found == candidates.end() ? std::string() : *found;
}

bool KernelSymbols::has_raw_tracepoint(std::string_view name) const
{
    std::string typedef_name = "btf_trace_" + std::string(name);
    return vmlinux_ && btf__find_by_name_kind(vmlinux_, typedef_name.c_str(), BTF_KIND_TYPEDEF) > 0;
}

int KernelSymbols::function_arg_count(std::string_view name) const
{
    int id = vmlinux_ ? btf__find_by_name_kind(vmlinux_, std::string(name).c_str(), BTF_KIND_FUNC) : -1;
    if (id <= 0)
        return -1;
    const struct btf_type *proto = btf__type_by_id(vmlinux_, btf__type_by_id(vmlinux_, id)->type);
    return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
}

int KernelSymbols::raw_tracepoint_arg_count(std::string_view name) const
{
    std::string typedef_name = "btf_trace_" + std::string(name);
    int id = vmlinux_ ? btf__find_by_name_kind(vmlinux_, typedef_name.c_str(), BTF_KIND_TYPEDEF) : -1;
    if (id <= 0)
        return -1;
    // typedef -> pointer -> prototype (void *ctx, the tracepoint's arguments...)
    const struct btf_type *pointer = btf__type_by_id(vmlinux_, btf__type_by_id(vmlinux_, id)->type);
    const struct btf_type *proto = pointer && btf_is_ptr(pointer) ? btf__type_by_id(vmlinux_, pointer->type) : nullptr;
    return proto && btf_is_func_proto(proto) && btf_vlen(proto) > 0 ? btf_vlen(proto) - 1 : -1;
}

bool KernelSymbols::has_syscall_tracepoint(std::string_view event) const
{
    return has_tracepoint("syscalls", event);
}

bool KernelSymbols::has_tracepoint(std::string_view category, std::string_view event) const
{
    if (tracefs_dir_.empty())
        return false;
    std::string id_file = tracefs_dir_ + "/events/" + std::string(category) + "/" + std::string(event) + "/id";
    // effective ids: a setuid start has a real uid that cannot see tracefs
    return faccessat(AT_FDCWD, id_file.c_str(), R_OK, AT_EACCESS) == 0;
}

bool KernelSymbols::has_kprobes() const
{
    auto exists = [](const std::string &path) { return faccessat(AT_FDCWD, path.c_str(), F_OK, AT_EACCESS) == 0; };
    return exists("/sys/bus/event_source/devices/kprobe/type") ||
           (!tracefs_dir_.empty() && exists(tracefs_dir_ + "/kprobe_events"));
}

std::string KernelSymbols::path_unavailable(AttachPath path) const
{
    if (path == AttachPath::Kprobe && !has_kprobes())
        return "this kernel has no kprobes (CONFIG_KPROBES or CONFIG_KPROBE_EVENTS is not set)";
    return "";
}
