#include "kernel/table_budget.h"

#include <algorithm>
#include <fstream>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "lib/table_value.h"

namespace {
constexpr unsigned kDefaultPidTableSize = 32768;   // config.h's default
constexpr uint64_t kHashElementBytes = 64;          // struct htab_elem and the key, rounded up
constexpr unsigned kPidMaxLimit = 4194304;          // PID_MAX_LIMIT on 64-bit kernels

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }
} // namespace

MachineLimits machine_limits()
{
    MachineLimits limits{0, kPidMaxLimit, getuid() == 0};
    struct sysinfo info {};
    if (sysinfo(&info) == 0)
        limits.memory_bytes = static_cast<uint64_t>(info.totalram) * info.mem_unit;
    unsigned pid_max = 0;
    if (std::ifstream("/proc/sys/kernel/pid_max") >> pid_max && pid_max > 0)
        limits.pid_max = pid_max;
    return limits;
}

// An entry is a hash element and a process slot (lib/process_slots.h) of the same value.
uint64_t pid_entry_bytes(size_t counters, unsigned counter_bytes)
{
    uint64_t value = (counter_bytes * counters + 7) / 8 * 8; // BPF keeps values 8-byte aligned
    return kHashElementBytes + 2 * value;
}

uint64_t core_entry_bytes()
{
    return kHashElementBytes + (sizeof(task_identity) + 7) / 8 * 8 + sizeof(task_slot);
}

unsigned bound_pid_table_size(unsigned requested, uint64_t entry_bytes, const MachineLimits &limits,
                              std::string &why)
{
    why.clear();
    unsigned size = requested;
    if (size > limits.pid_max) {
        size = limits.pid_max;
        why = "kernel.pid_max is " + std::to_string(limits.pid_max) + ": no more processes can exist";
    }
    uint64_t budget = limits.memory_bytes / (limits.caller_is_root ? 8 : 64);
    uint64_t affordable = std::max<uint64_t>(budget / std::max<uint64_t>(entry_bytes, 1), 1);
    if (!limits.caller_is_root)
        affordable = std::max<uint64_t>(affordable, kDefaultPidTableSize);
    if (size > affordable) {
        size = static_cast<unsigned>(affordable);
        why = "a pid table may take " + std::string(limits.caller_is_root ? "1/8" : "1/64") + " of memory (" +
              mib(budget) + ", " + std::to_string(entry_bytes) + " bytes an entry)" +
              (limits.caller_is_root ? "" : " when the caller is not root");
    }
    return size;
}
