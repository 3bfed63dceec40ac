// `ebpf.plugin --check`: loads and attaches one empty program per attach path
// and says what the running kernel really allows.
#pragma once

#include "attach.h"
#include "kernel.h"

// Prints one line per path to stdout; returns 0 when at least one path works.
int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols);
