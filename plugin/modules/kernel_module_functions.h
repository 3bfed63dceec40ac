// Functions that may live in a loadable kernel module (ext4, xfs, md_mod):
// where they are, and whether a trampoline can reach them.
#pragma once

#include <map>
#include <set>
#include <string>

// Each of `wanted` that /proc/kallsyms lists -> its module ("" for vmlinux).
std::map<std::string, std::string> find_kernel_functions(const std::set<std::string> &wanted);

// libbpf finds a kernel module's BTF by id, which needs CAP_SYS_ADMIN: a run as
// root has it, --check and --verify (CAP_BPF and CAP_PERFMON only) do not.
bool may_read_module_btf();

// Whether the BTF of `module` (as find_kernel_functions names it) is in the kernel.
bool has_module_btf(const std::string &module);
