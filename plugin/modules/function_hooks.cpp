#include "modules/function_hooks.h"

LoadPlan function_hooks_plan(const KernelSymbols &kernel, AttachPath path, const std::vector<FunctionHook> &hooks,
                             const std::string &no_tracepoint)
{
    LoadPlan plan;
    switch (path) {
    case AttachPath::Trampoline:
    case AttachPath::Kprobe:
        for (const FunctionHook &hook : hooks) {
            std::string function = kernel.first_function(hook.candidates);
            if (function.empty()) {
                std::string names;
                for (const std::string &candidate : hook.candidates)
                    names += (names.empty() ? "" : "/") + candidate;
                return {{}, "kernel BTF has none of " + names};
            }
            if (path == AttachPath::Kprobe)
                plan.programs.push_back({"kprobe_" + hook.program, function, ProgramSpec::Kind::Kprobe});
            else
                plan.programs.push_back({"fentry_" + hook.program, function});
        }
        return plan;
    case AttachPath::Tracepoint:
        return {{}, no_tracepoint};
    case AttachPath::Auto:
        break;
    }
    return {{}, "internal error: no attach path chosen"};
}
