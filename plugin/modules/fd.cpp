// fd module: file descriptor opens and closes (kernel-collector/fd.bpf.c).
#include "modules/module.h"
#include "modules/registry.h"
#include "fd.skel.h"

namespace {

using Kind = ProgramSpec::Kind;

// Kernel functions behind open(2)/openat(2)/openat2(2)/creat(2) and close(2),
// newest first.
const std::vector<std::string> open_functions = {"do_sys_openat2", "do_sys_open"};
const std::vector<std::string> close_functions = {"file_close_fd", "close_fd", "__close_fd"};

struct FdTraits {
    static constexpr const char *name = "fd";

    static const std::vector<std::string> &counter_names()
    {
        // order of enum fd_counter
        static const std::vector<std::string> names = {"open_call", "open_error", "close_call", "close_error"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool return_mode)
    {
        LoadPlan plan;

        std::string open = kernel.first_function(open_functions);
        std::string close = kernel.first_function(close_functions);
        switch (path) {
        case AttachPath::Trampoline:
        case AttachPath::Kprobe:
            if (open.empty() || close.empty())
                return {{}, "kernel BTF has none of do_sys_openat2/do_sys_open or file_close_fd/close_fd/__close_fd"};
            if (path == AttachPath::Kprobe) {
                Kind kind = return_mode ? Kind::Kretprobe : Kind::Kprobe;
                plan.programs.push_back({return_mode ? "kretprobe_open" : "kprobe_open", open, kind});
                plan.programs.push_back({return_mode ? "kretprobe_close" : "kprobe_close", close, kind});
            } else if (return_mode) {
                // fexit programs see the arguments, and the argument count differs per function
                plan.programs.push_back({"fexit_" + open, open});
                plan.programs.push_back({"fexit_" + close, close});
            } else {
                plan.programs.push_back({"fentry_open", open});
                plan.programs.push_back({"fentry_close", close});
            }
            break;
        case AttachPath::Tracepoint:
            if (!kernel.has_syscall_tracepoint("sys_exit_close"))
                return {{}, "no syscall tracepoints (tracefs is not mounted or CONFIG_FTRACE_SYSCALLS is off)"};
            for (const char *syscall : {"open", "openat", "openat2", "creat"})
                if (kernel.has_syscall_tracepoint(std::string("sys_exit_") + syscall))
                    plan.programs.push_back({std::string("tp_sys_exit_") + syscall});
            plan.programs.push_back({"tp_sys_exit_close"});
            break;
        case AttachPath::Auto:
            return {{}, "internal error: no attach path chosen"};
        }
        return plan;
    }

    static void set_read_only_data(fd_bpf::fd_bpf__rodata &rodata, const KernelSymbols &kernel)
    {
        rodata.close_returns_file = kernel.first_function(close_functions) == "file_close_fd";
    }
};


std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<fd_bpf, FdTraits>>(kernel);
}

const bool registered = register_module({.name = "fd", .order = 20, .make_counting = make_module});
} // namespace
