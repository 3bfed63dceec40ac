// The small programs of kernel-collector/probe.bpf.c, loaded one at a time:
// what the running kernel really accepts, whatever its configuration says.
#pragma once

#include <string>

// Loads `program` alone and, when `attach`, attaches it. "" or why it failed.
std::string probe_program(const char *program, bool attach);

// Why a process without capabilities cannot use a BPF map it holds, "" when
// it can: before 5.19, with kernel.unprivileged_bpf_disabled set (Debian's
// default), every bpf() call needs CAP_BPF, map reads included. Probed once,
// in a child that clears its capabilities and reads a fresh map.
const std::string &capless_map_access_refusal();
