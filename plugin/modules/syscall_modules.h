// Shared by the modules that count syscalls at their functions or tracepoints
// (sync, mount, shm): one program per syscall and path, named <kind>_<syscall>.
#pragma once

#include "modules/module.h"

struct SyscallHook {
    std::string syscall;                  // e.g. "msync"; the tracepoint is sys_<enter|exit>_<syscall>
    std::vector<std::string> functions;   // kernel functions behind it, best first (resolved from BTF)
};

// The programs of `path` for `hooks`: fentry_/fexit_, kprobe_/kretprobe_ or
// tp_sys_enter_/tp_sys_exit_<syscall> (at_exit picks the second of each pair).
LoadPlan syscall_plan(const KernelSymbols &kernel, AttachPath path, const std::vector<SyscallHook> &hooks,
                      bool at_exit);
