// How large a pid table from configuration may be: a setuid plugin must not let
// its caller decide how much kernel memory root allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct MachineLimits {
    uint64_t memory_bytes;    // physical memory
    unsigned pid_max;         // kernel.pid_max: no more distinct pids (the tables' keys) can exist
    bool caller_is_root;      // real uid 0
};

MachineLimits machine_limits();

// Kernel memory one entry of a module's pid table takes: its counters of
// counter_bytes each (lib/table_value.h), once (pid tables are shared by all
// CPUs, not per-CPU, see lib/accounting.h), and the hash element around them,
// plus the same counters in its process slot (lib/process_slots.h).
uint64_t pid_entry_bytes(size_t counters, unsigned counter_bytes);
// The same for the process core: one task_identity in process_table and one task_slot.
uint64_t core_entry_bytes();

// The pid table size to use for `requested`: at most pid_max entries, and at most
// 1/8 of memory per table (1/64 when the caller is not root, who may still have
// the built-in default). `why` says what cut the value, "" when nothing did.
unsigned bound_pid_table_size(unsigned requested, uint64_t entry_bytes, const MachineLimits &limits,
                              std::string &why);
