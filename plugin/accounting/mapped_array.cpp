#include "accounting/mapped_array.h"

#include <sys/mman.h>

// A BPF array keeps its values 8-byte aligned: value sizes are rounded up.
MappedArray::MappedArray(int map_fd, uint32_t count, size_t entry_bytes)
    : count_(count), entry_bytes_((entry_bytes + 7) / 8 * 8), bytes_(static_cast<size_t>(count) * entry_bytes_)
{
    void *mapping = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
    if (mapping != MAP_FAILED)
        base_ = static_cast<uint8_t *>(mapping);
}

MappedArray::~MappedArray()
{
    if (base_)
        munmap(base_, bytes_);
}
