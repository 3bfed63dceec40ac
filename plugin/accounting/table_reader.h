// Reads a shared (not per-CPU) BPF hash table: whole or by keys, in batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// One table entry: its key and its value as u32 words (a module's counters,
// or the core's struct task_identity).
struct TableEntry {
    uint64_t key = 0;
    std::vector<uint32_t> words;
};

class TableReader {
public:
    // key_size is 4 (pid tables) or 8 (cgroup tables); value_size a multiple of 4.
    TableReader(int map_fd, unsigned key_size, unsigned value_size, unsigned max_entries);

    // Reads every entry. Uses BPF_MAP_LOOKUP_BATCH, or key-by-key lookups on
    // kernels without it. Returns "" or a one-line error.
    std::string read(std::vector<TableEntry> &entries);
    // Reads the given keys only; keys not in the table go to `missing`.
    std::string lookup(const std::vector<uint64_t> &keys, std::vector<TableEntry> &entries,
                       std::vector<uint64_t> &missing);
    // Removes keys (batch delete where available).
    std::string remove(const std::vector<uint64_t> &keys);

private:
    std::string read_batched(std::vector<TableEntry> &entries);
    std::string read_key_by_key(std::vector<TableEntry> &entries);
    void unpack(const uint8_t *key, const uint8_t *value, TableEntry &out) const;

    int fd_;
    unsigned key_size_;
    unsigned value_size_;
    unsigned max_entries_;
    bool batches_ = true;
    std::vector<uint8_t> keys_, values_;
};

// Sums (modulo the counter width, like the counters) the copies of a one-entry
// global table (one per CPU when per_cpu): counter_count counters of
// counter_bytes (4 or 8) each, then the two table-full counters.
std::string read_global_table(int map_fd, unsigned counter_count, unsigned counter_bytes, bool per_cpu,
                              std::vector<uint64_t> &totals);

// Counter `index` of an entry whose value is counters of counter_bytes (4 or 8) each.
uint64_t counter_of(const TableEntry &entry, size_t index, unsigned counter_bytes);
