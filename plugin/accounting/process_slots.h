// The process slots (kernel-collector/lib/process_slots.h) mapped into our
// memory: the core's array of task_slot, and each module's array of counters
// at the same indexes. Reads need no system call; a module's counters are
// taken with atomic exchanges, so an event between our read and our reset is
// never lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "accounting/mapped_array.h"
#include "lib/table_value.h"

// The core's side: who owns a slot, its identity, giving it back.
class ProcessSlots {
public:
    ProcessSlots(int map_fd, uint32_t count) : array_(map_fd, count, sizeof(task_slot)) {}
    bool usable() const { return array_.usable(); }
    uint32_t count() const { return array_.count(); }
    uint32_t index_of(uint32_t pid) const { return pid % array_.count(); }
    uint32_t owner(uint32_t index) const;
    // The identity in `pid`'s slot, when pid owns it (a read that raced an exec is retried).
    std::optional<task_identity> identity(uint32_t pid) const;
    // Last read done: new events of the process go to the hash tables.
    void close(uint32_t index, uint32_t pid);
    // A cycle later: the slot is free for the next process.
    void free(uint32_t index, uint32_t pid);

private:
    task_slot *slot(uint32_t index) const { return reinterpret_cast<task_slot *>(array_.entry(index)); }
    MappedArray array_;
};

// A module's side: counters of counter_bytes (4 or 8) each, taken as deltas.
class CounterSlots {
public:
    CounterSlots(int map_fd, uint32_t count, size_t counters, unsigned counter_bytes)
        : array_(map_fd, count, counters * counter_bytes), counters_(counters), counter_bytes_(counter_bytes)
    {
    }
    bool usable() const { return array_.usable(); }
    // What was counted at `index` since the last take, and zeroes it.
    void take(uint32_t index, std::vector<uint64_t> &deltas);

private:
    MappedArray array_;
    size_t counters_;
    unsigned counter_bytes_;
};
