// mount module: mount(2) and umount2(2) calls and failures (kernel-collector/mount.bpf.c).
#include "modules/syscall_modules.h"
#include "modules/registry.h"
#include "mount.h"
#include "mount.skel.h"

namespace {

// umount2(2) is the kernel's sys_umount (x86-64 has no umount(2)).
const std::vector<SyscallHook> hooks = {
    {"mount", {"__x64_sys_mount"}},
    {"umount", {"__x64_sys_umount"}},
};

struct MountTraits {
    static constexpr const char *name = "mount";

    static const std::vector<std::string> &counter_names()
    {
        // order of enum mount_counter
        static const std::vector<std::string> names = {"mount_call", "umount_call", "mount_error", "umount_error"};
        return names;
    }

    // at the return in both load modes: the error chart is shown in both, as upstream
    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        return syscall_plan(kernel, path, hooks, true);
    }

    static void set_read_only_data(mount_bpf::mount_bpf__rodata &, const KernelSymbols &) {}
};


std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<mount_bpf, MountTraits>>(kernel);
}

const bool registered = register_module({.name = "mount", .order = 90, .make_counting = make_module});
} // namespace
