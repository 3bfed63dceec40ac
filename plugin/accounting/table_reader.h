// Reads a module's pid or cgroup table in batches and sums the per-CPU copies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/table_value.h"

// One table entry with its per-CPU copies merged: counters summed, identity
// taken from the copy that has it, `exited` if any copy saw the exit.
struct MergedEntry {
    uint64_t key = 0;
    task_identity identity{};
    std::vector<uint64_t> counters;  // modulo the counter width
};

class TableReader {
public:
    // key_size is 4 (pid tables) or 8 (cgroup tables); counter_bytes 4 or 8.
    TableReader(int map_fd, unsigned key_size, unsigned counter_count, unsigned counter_bytes, unsigned max_entries,
                bool per_cpu);

    // Reads every entry. Uses BPF_MAP_LOOKUP_BATCH, or key-by-key lookups on
    // kernels without it. Returns "" or a one-line error.
    std::string read(std::vector<MergedEntry> &entries);
    // Reads the given keys only; keys not in the table go to `missing`.
    std::string lookup(const std::vector<uint64_t> &keys, std::vector<MergedEntry> &entries,
                       std::vector<uint64_t> &missing);
    // Removes keys (batch delete where available).
    std::string remove(const std::vector<uint64_t> &keys);

private:
    std::string read_batched(std::vector<MergedEntry> &entries);
    std::string read_key_by_key(std::vector<MergedEntry> &entries);
    void merge(const uint8_t *key, const uint8_t *values, MergedEntry &out) const;

    int fd_;
    unsigned key_size_;
    unsigned counter_count_;
    unsigned counter_bytes_;
    unsigned max_entries_;
    unsigned copies_;      // CPUs for per-CPU maps, else 1
    size_t value_stride_;  // per-CPU values are rounded up to 8 bytes
    bool batches_ = true;
    std::vector<uint8_t> keys_, values_;
};

// Sums (modulo the counter width, like the counters) the per-CPU copies of a
// one-entry global table: counter_count counters, then the two table-full counters.
std::string read_global_table(int map_fd, unsigned counter_count, unsigned counter_bytes,
                              std::vector<uint64_t> &totals);
