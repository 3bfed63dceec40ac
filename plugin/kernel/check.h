// `ebpf.plugin --check`: loads and attaches one empty program per attach path,
// probes the BPF features the modules fall back on when missing, then loads
// and attaches every module's programs per path: what really works here.
#pragma once

#include <string>

#include "kernel/attach.h"
#include "kernel/kernel.h"

// Prints one line per probe and per module and path to stdout, then what the
// vfs module sees on each path, and `conntrack` (net/conntrack.h's verdict,
// taken while CAP_NET_ADMIN was held) and `bash` (bash/bash_probe.h's line,
// its uprobe tried while CAP_SYS_ADMIN was held); returns 0 when every module
// works on at least one path.
int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols, const std::string &conntrack,
                     const std::string &bash);

// `ebpf.plugin --verify`: loads and attaches every program set of every module
// (each attach path, entry and return mode) and prints one line per set:
//   verify <module> <path> <mode> ok|n/a: <reason>|refused: <reason>|failed: <reason>
// then a count. A path the kernel refuses to every program (its --check probe
// fails) is not tried. True when no set failed and at least one loaded.
bool run_program_verification(const KernelSymbols &symbols);
