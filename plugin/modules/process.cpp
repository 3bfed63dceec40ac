// process module: task creation, exit and release (kernel-collector/process.bpf.c).
#include "modules/module.h"
#include "modules/registry.h"
#include "process.skel.h"

namespace {

using Kind = ProgramSpec::Kind;

struct ProcessTraits {
    static constexpr const char *name = "process";

    static const std::vector<std::string> &counter_names()
    {
        // order of enum process_counter
        static const std::vector<std::string> names = {"create_process", "create_thread", "exit_task",
                                                       "release_task",   "process_error", "thread_error"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool return_mode)
    {
        LoadPlan plan;

        // kernel_clone since 5.10, _do_fork before; both take struct kernel_clone_args *
        std::string clone = kernel.first_function({"kernel_clone", "_do_fork"});
        switch (path) {
        case AttachPath::Trampoline:
            if (clone.empty() || !kernel.has_function("do_exit") || !kernel.has_function("release_task"))
                return {{}, "kernel BTF lacks kernel_clone/_do_fork, do_exit or release_task"};
            plan.programs.push_back({return_mode ? "fexit_kernel_clone" : "fentry_kernel_clone", clone});
            plan.programs.push_back({"fentry_do_exit"});
            plan.programs.push_back({"fentry_release_task"});
            break;
        case AttachPath::Kprobe:
            if (clone.empty())
                return {{}, "kernel has neither kernel_clone nor _do_fork"};
            if (return_mode) {
                plan.programs.push_back({"kprobe_kernel_clone_keep_flags", clone, Kind::Kprobe});
                plan.programs.push_back({"kretprobe_kernel_clone", clone, Kind::Kretprobe});
            } else {
                plan.programs.push_back({"kprobe_kernel_clone", clone, Kind::Kprobe});
            }
            plan.programs.push_back({"kprobe_do_exit", "do_exit", Kind::Kprobe});
            plan.programs.push_back({"kprobe_release_task", "release_task", Kind::Kprobe});
            break;
        case AttachPath::Tracepoint:
            for (const char *tracepoint : {"task_newtask", "sched_process_free"})
                if (!kernel.has_raw_tracepoint(tracepoint))
                    return {{}, std::string("kernel has no BTF tracepoint ") + tracepoint};
            plan.programs.push_back({"tp_task_newtask"});
            plan.programs.push_back({"tp_sched_process_exit"});
            plan.programs.push_back({"tp_sched_process_free"});
            if (return_mode)
                add_creation_error_programs(kernel, plan);
            break;
        case AttachPath::Auto:
            return {{}, "internal error: no attach path chosen"};
        }
        return plan;
    }

    static void set_read_only_data(process_bpf::process_bpf__rodata &, const KernelSymbols &) {}

private:
    // Failed creations are seen at the clone-family syscall exits (fork and
    // vfork do not exist on every architecture).
    static void add_creation_error_programs(const KernelSymbols &kernel, LoadPlan &plan)
    {
        for (const char *syscall : {"clone", "clone3"})
            if (kernel.has_syscall_tracepoint(std::string("sys_enter_") + syscall))
                plan.programs.push_back({std::string("tp_sys_enter_") + syscall});
        for (const char *syscall : {"clone", "clone3", "fork", "vfork"})
            if (kernel.has_syscall_tracepoint(std::string("sys_exit_") + syscall))
                plan.programs.push_back({std::string("tp_sys_exit_") + syscall});
    }
};

// The per-group charts' combined task_error, and the system's per-interval
// process_status values (processes started, zombies left).
void add_status_counters(Counters &counters, const Counters *previous)
{
    auto value = counter_value;
    if (!counters.contains("create_process"))  // the scope has no process counters
        return;
    counters["task_error"] = value(counters, "process_error") + value(counters, "thread_error");
    if (!previous)
        return;
    counters["status_process"] = value(counters, "create_process") - value(*previous, "create_process");
    counters["status_zombie"] = (value(counters, "exit_task") - value(*previous, "exit_task")) -
                                (value(counters, "release_task") - value(*previous, "release_task"));
}

std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<process_bpf, ProcessTraits>>(kernel);
}

const bool registered = register_module({.name = "process", .order = 10, .make_counting = make_module,
                                         .derive = add_status_counters});
} // namespace
