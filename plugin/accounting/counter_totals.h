// Turns counter readings (u32, or u64 for byte counts), which wrap, into u64
// totals that only grow.
#pragma once

#include <cstdint>
#include <vector>

class CounterTotals {
public:
    explicit CounterTotals(size_t count = 0, unsigned counter_bytes = 4)
        : mask_(counter_mask(counter_bytes)), last_(count, 0), totals_(count, 0)
    {
    }

    // Adds what happened since the previous reading (modulo the counter width,
    // so exact as long as fewer than 2^32 events happen between two u32 readings).
    void update(const std::vector<uint64_t> &reading)
    {
        for (size_t i = 0; i < totals_.size() && i < reading.size(); ++i) {
            totals_[i] += (reading[i] - last_[i]) & mask_;
            last_[i] = reading[i];
        }
    }
    // Adds a delta computed elsewhere (e.g. one process's share of a group).
    void add(size_t index, uint64_t delta) { totals_[index] += delta; }

    const std::vector<uint64_t> &totals() const { return totals_; }
    size_t size() const { return totals_.size(); }

    // All bits of a counter of that many bytes (4 or 8).
    static uint64_t counter_mask(unsigned counter_bytes)
    {
        return counter_bytes >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * counter_bytes)) - 1;
    }

private:
    uint64_t mask_;
    std::vector<uint64_t> last_;
    std::vector<uint64_t> totals_;
};
