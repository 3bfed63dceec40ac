// A BPF_F_MMAPABLE array mapped shared into our memory: the kernel's values
// read and written without a system call.
#pragma once

#include <cstddef>
#include <cstdint>

class MappedArray {
public:
    // count entries of entry_bytes (rounded up to 8, as the kernel lays them out).
    MappedArray(int map_fd, uint32_t count, size_t entry_bytes);
    ~MappedArray();
    MappedArray(const MappedArray &) = delete;
    MappedArray &operator=(const MappedArray &) = delete;

    // False when the kernel cannot map BPF arrays (before 5.5).
    bool usable() const { return base_ != nullptr; }
    uint32_t count() const { return count_; }
    uint8_t *entry(uint32_t index) const { return base_ + static_cast<size_t>(index) * entry_bytes_; }

private:
    uint8_t *base_ = nullptr;
    uint32_t count_;
    size_t entry_bytes_;
    size_t bytes_;
};
