// The active_pids array (kernel-collector/lib/active_pids.h), one for the
// whole plugin, mapped into our memory: which processes changed their
// identity or a module's counters since the last look, without a system call.
#pragma once

#include <cstdint>
#include <vector>

#include "accounting/mapped_array.h"

class ActivePids {
public:
    // words: the array's entries (ACTIVE_PIDS_PER_WORD pids each).
    ActivePids(int map_fd, uint32_t words) : words_(map_fd, words, sizeof(uint64_t)) {}

    // False when the kernel cannot map BPF arrays (before 5.5): read everything then.
    bool usable() const { return words_.usable(); }
    // Appends the pids marked since the last call and clears their marks. A
    // mark set again meanwhile (after the change it follows) is seen next time.
    // Returns true when a pid beyond the array was marked: read everything.
    bool take(std::vector<uint64_t> &pids);

private:
    uint64_t *word(uint32_t index) const { return reinterpret_cast<uint64_t *>(words_.entry(index)); }
    MappedArray words_;
};

// Array entries for this system's pid_max (/proc/sys/kernel/pid_max).
uint32_t active_pid_words(const char *pid_max_file = "/proc/sys/kernel/pid_max");
