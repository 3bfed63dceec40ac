// Turns u32 counter readings, which wrap, into u64 totals that only grow.
#pragma once

#include <cstdint>
#include <vector>

class CounterTotals {
public:
    explicit CounterTotals(size_t count = 0) : last_(count, 0), totals_(count, 0) {}

    // Adds what happened since the previous reading (modulo 2^32, so exact as
    // long as fewer than 2^32 events happen between two readings).
    void update(const std::vector<uint32_t> &reading)
    {
        for (size_t i = 0; i < totals_.size() && i < reading.size(); ++i) {
            totals_[i] += static_cast<uint32_t>(reading[i] - last_[i]);
            last_[i] = reading[i];
        }
    }
    // Adds a delta computed elsewhere (e.g. one process's share of a group).
    void add(size_t index, uint64_t delta) { totals_[index] += delta; }

    const std::vector<uint64_t> &totals() const { return totals_; }
    size_t size() const { return totals_.size(); }

private:
    std::vector<uint32_t> last_;
    std::vector<uint64_t> totals_;
};
