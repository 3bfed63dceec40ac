// Plans for modules that count calls of kernel functions at their entry, one
// program per counter (cachestat, swap): fentry_<name> or kprobe_<name>, each
// pointed at the first function of its candidates this kernel has.
#pragma once

#include <string>
#include <vector>

#include "modules/module.h"

struct FunctionHook {
    std::string program;                  // <name> of fentry_<name> / kprobe_<name>
    std::vector<std::string> candidates;  // newest name first
};

// The plan for `path`. These modules have no tracepoint path: `no_tracepoint`
// says why (which counter has no tracepoint).
LoadPlan function_hooks_plan(const KernelSymbols &kernel, AttachPath path, const std::vector<FunctionHook> &hooks,
                             const std::string &no_tracepoint);
