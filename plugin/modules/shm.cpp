// shm module: System V shared memory calls (kernel-collector/shm.bpf.c).
#include "modules/syscall_modules.h"
#include "modules/registry.h"
#include "shm.h"
#include "shm.skel.h"

namespace {

// Order of enum shm_counter. shmat(2) has no ksys_ function (do_shmat is shared
// with the compat and ipc(2) paths).
const std::vector<SyscallHook> hooks = {
    {"shmget", {"__x64_sys_shmget", "ksys_shmget"}},
    {"shmat", {"__x64_sys_shmat"}},
    {"shmdt", {"__x64_sys_shmdt", "ksys_shmdt"}},
    {"shmctl", {"__x64_sys_shmctl", "ksys_shmctl"}},
};

struct ShmTraits {
    static constexpr const char *name = "shm";

    static const std::vector<std::string> &counter_names()
    {
        // <syscall>_call: a syscall turned off in [syscalls] hides this counter's dimension
        static const std::vector<std::string> names = {"shmget_call", "shmat_call", "shmdt_call", "shmctl_call"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        return syscall_plan(kernel, path, hooks, false);
    }

    static void set_read_only_data(shm_bpf::shm_bpf__rodata &, const KernelSymbols &) {}
};


std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<shm_bpf, ShmTraits>>(kernel);
}

const bool registered = register_module({.name = "shm", .order = 100, .make_counting = make_module});
} // namespace
