// vfs module: VFS calls and the bytes they moved (kernel-collector/vfs.bpf.c).
#include "modules/module.h"
#include "modules/registry.h"
#include "vfs.h"
#include "vfs.skel.h"

namespace {

using Kind = ProgramSpec::Kind;

// Read and write functions: their programs always run at the return, where the
// byte count is known.
const std::vector<std::string> io_functions = {"vfs_read", "vfs_readv", "vfs_write", "vfs_writev"};
// The others: at the entry in entry mode, at the return in return mode. fsync
// and fdatasync at their syscall functions: 7.2 inlines vfs_fsync and
// vfs_fsync_range into do_fsync (the build this plugin is for is x86-64).
const std::vector<std::string> call_functions = {"vfs_unlink", "vfs_rmdir", "__x64_sys_fsync",
                                                 "__x64_sys_fdatasync", "vfs_open", "vfs_create"};

// Syscalls whose exits the tracepoint path counts (those that exist on this kernel).
const std::vector<std::string> exit_syscalls = {
    "read",   "pread64", "readv",   "preadv", "preadv2", "write", "pwrite64", "writev", "pwritev", "pwritev2",
    "unlink", "unlinkat", "rmdir",  "fsync",  "fdatasync", "open", "openat",  "openat2", "creat"};

struct VfsTraits {
    static constexpr const char *name = "vfs";
    static constexpr unsigned counter_bytes = sizeof(vfs_value::counters[0]);

    static const std::vector<std::string> &counter_names()
    {
        // order of enum vfs_counter; "vfs_" keeps them apart from the fd module's open_call
        static const std::vector<std::string> names = {
            "vfs_unlink_call", "vfs_unlink_error", "vfs_read_call",  "vfs_read_error",   "vfs_read_bytes",
            "vfs_write_call",  "vfs_write_error",  "vfs_write_bytes", "vfs_fsync_call",  "vfs_fsync_error",
            "vfs_open_call",   "vfs_open_error",   "vfs_create_call", "vfs_create_error"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool return_mode)
    {
        LoadPlan plan = lifecycle_plan(kernel);
        if (!plan.not_applicable.empty())
            return plan;

        switch (path) {
        case AttachPath::Trampoline:
        case AttachPath::Kprobe:
            for (const auto *functions : {&io_functions, &call_functions})
                for (const std::string &function : *functions)
                    if (!kernel.has_function(function))
                        return {{}, "kernel BTF has no " + function + " (renamed or inlined)"};
            // fexit programs read return values with bpf_get_func_ret (its kernel side is get_func_ret)
            if (path == AttachPath::Trampoline && !kernel.has_function("get_func_ret"))
                return {{}, "kernel has no bpf_get_func_ret (5.17+)"};
            for (const std::string &function : io_functions)
                plan.programs.push_back(path == AttachPath::Kprobe
                                            ? ProgramSpec{"kretprobe_" + function, function, Kind::Kretprobe}
                                            : ProgramSpec{"fexit_" + function});
            for (const std::string &function : call_functions) {
                if (path == AttachPath::Kprobe)
                    plan.programs.push_back({(return_mode ? "kretprobe_" : "kprobe_") + function, function,
                                             return_mode ? Kind::Kretprobe : Kind::Kprobe});
                else
                    plan.programs.push_back({(return_mode ? "fexit_" : "fentry_") + function});
            }
            break;
        case AttachPath::Tracepoint:
            if (!kernel.has_syscall_tracepoint("sys_exit_read"))
                return {{}, "no syscall tracepoints (tracefs is not mounted or CONFIG_FTRACE_SYSCALLS is off)"};
            for (const std::string &syscall : exit_syscalls)
                if (kernel.has_syscall_tracepoint("sys_exit_" + syscall))
                    plan.programs.push_back({"tp_sys_exit_" + syscall});
            for (const char *syscall : {"mknod", "mknodat"})
                if (kernel.has_syscall_tracepoint(std::string("sys_enter_") + syscall) &&
                    kernel.has_syscall_tracepoint(std::string("sys_exit_") + syscall)) {
                    plan.programs.push_back({std::string("tp_sys_enter_") + syscall});
                    plan.programs.push_back({std::string("tp_sys_exit_") + syscall});
                }
            break;
        case AttachPath::Auto:
            return {{}, "internal error: no attach path chosen"};
        }
        return plan;
    }

    static void set_read_only_data(vfs_bpf::vfs_bpf__rodata &, const KernelSymbols &) {}
};

} // namespace

const std::vector<std::string> &vfs_path_differences()
{
    static const std::vector<std::string> lines = {
        "trampoline, kprobe: the VFS functions themselves, so also the kernel's own calls (the open of a "
        "program being executed, nfsd, overlayfs); not calls that fail before reaching them (bad descriptor, "
        "missing path); fsync and fdatasync at their syscalls, as on the tracepoint path",
        "kprobe: reads and writes are counted at the kretprobe, which misses calls when more are blocked "
        "in flight than its instances (the kernel counts them as missed)",
        "tracepoint: the syscalls (read, write and their p/v variants, unlink, unlinkat, rmdir, fsync, "
        "fdatasync, open, openat, openat2, creat, mknod(at) of a regular file), so also calls that fail "
        "before the VFS and O_PATH opens; not the kernel's own calls",
        "every path: not io_uring, splice, sendfile or copy_file_range (they bypass vfs_read/vfs_write), "
        "nor files created by open(O_CREAT) (the kernel creates them without vfs_create)",
    };
    return lines;
}

namespace {
std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<vfs_bpf, VfsTraits>>(kernel);
}

const bool registered = register_module({.name = "vfs", .order = 30, .make_counting = make_module});
} // namespace
