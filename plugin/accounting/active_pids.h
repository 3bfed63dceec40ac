// The active_pids bitmap of a module (kernel-collector/lib/accounting.h),
// mapped into our memory: which processes changed their pid_table entry since
// the last look, without a system call.
#pragma once

#include <cstdint>
#include <vector>

class ActivePids {
public:
    explicit ActivePids(int map_fd);
    ~ActivePids();
    ActivePids(const ActivePids &) = delete;
    ActivePids &operator=(const ActivePids &) = delete;

    // False when the module keeps no bitmap (map_fd -1: kernels before 5.12) or
    // the kernel cannot map BPF arrays (before 5.5): read everything then.
    bool usable() const { return words_ != nullptr; }
    // Appends the pids whose bit is set and clears those bits. A bit set again
    // meanwhile (the program sets it after changing the entry) is seen next time.
    void take(std::vector<uint64_t> &pids);

private:
    uint64_t *words_ = nullptr;
};
