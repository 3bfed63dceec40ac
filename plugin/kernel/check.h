// `ebpf.plugin --check`: loads and attaches one empty program per attach path
// and says what the running kernel really allows.
#pragma once

#include "kernel/attach.h"
#include "kernel/kernel.h"

// Prints one line per path to stdout, then what the vfs module sees on each;
// returns 0 when at least one path works.
int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols);

// `ebpf.plugin --verify`: loads and attaches every program set of every module
// (each attach path, entry and return mode) and prints one line per set:
//   verify <module> <path> <mode> ok|n/a: <reason>|refused: <reason>|failed: <reason>
// then a count. A path the kernel refuses to every program (its --check probe
// fails) is not tried. True when no set failed and at least one loaded.
bool run_program_verification(const KernelSymbols &symbols);
