#include "modules/syscall_modules.h"

void drop_disabled_syscalls(LoadPlan &plan, const std::set<std::string> &disabled)
{
    std::erase_if(plan.programs, [&](const ProgramSpec &spec) {
        for (const std::string &syscall : disabled)
            if (spec.program.ends_with("_" + syscall))
                return true;
        return false;
    });
}

LoadPlan syscall_plan(const KernelSymbols &kernel, AttachPath path, const std::vector<SyscallHook> &hooks,
                      bool at_exit)
{
    using Kind = ProgramSpec::Kind;
    LoadPlan plan;
    for (const SyscallHook &hook : hooks) {
        switch (path) {
        case AttachPath::Trampoline:
        case AttachPath::Kprobe: {
            std::string function = kernel.first_function(hook.functions);
            if (function.empty())
                return {{}, "kernel BTF has no function for " + hook.syscall + "(2)"};
            if (path == AttachPath::Kprobe)
                plan.programs.push_back({(at_exit ? "kretprobe_" : "kprobe_") + hook.syscall, function,
                                         at_exit ? Kind::Kretprobe : Kind::Kprobe});
            else
                plan.programs.push_back({(at_exit ? "fexit_" : "fentry_") + hook.syscall, function});
            break;
        }
        case AttachPath::Tracepoint: {
            std::string event = (at_exit ? "sys_exit_" : "sys_enter_") + hook.syscall;
            if (!kernel.has_syscall_tracepoint(event))
                return {{}, "no syscall tracepoint " + event +
                                " (tracefs is not mounted or CONFIG_FTRACE_SYSCALLS is off)"};
            plan.programs.push_back({"tp_" + event});
            break;
        }
        case AttachPath::Auto:
            return {{}, "internal error: no attach path chosen"};
        }
    }
    if (path == AttachPath::Trampoline && at_exit && !kernel.has_function("get_func_ret"))
        return {{}, "kernel has no bpf_get_func_ret (5.17+)"};
    return plan;
}
