// sync module: calls to the sync family of syscalls (kernel-collector/sync.bpf.c).
#include "modules/syscall_modules.h"
#include "modules/registry.h"
#include "sync.h"
#include "sync.skel.h"

namespace {

// Order of enum sync_counter. BTF of some kernels (6.18) has no __x64_sys_sync:
// sync(2) is then counted at ksys_sync, which only it calls.
const std::vector<SyscallHook> hooks = {
    {"sync", {"__x64_sys_sync", "ksys_sync"}},
    {"syncfs", {"__x64_sys_syncfs"}},
    {"msync", {"__x64_sys_msync"}},
    {"fsync", {"__x64_sys_fsync"}},
    {"fdatasync", {"__x64_sys_fdatasync"}},
    {"sync_file_range", {"__x64_sys_sync_file_range"}},
};

struct SyncTraits {
    static constexpr const char *name = "sync";

    static const std::vector<std::string> &counter_names()
    {
        // <syscall>_call: a syscall turned off in [syscalls] hides this counter's dimension
        static const std::vector<std::string> names = {"sync_call",  "syncfs_call",    "msync_call",
                                                       "fsync_call", "fdatasync_call", "sync_file_range_call"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        return syscall_plan(kernel, path, hooks, false);
    }

    static void set_read_only_data(sync_bpf::sync_bpf__rodata &, const KernelSymbols &) {}
};


std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<sync_bpf, SyncTraits>>(kernel);
}

const bool registered = register_module({.name = "sync", .order = 80, .make_counting = make_module});
} // namespace
