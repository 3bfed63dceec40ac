#include "accounting/active_pids.h"

#include <sys/mman.h>

#include "lib/table_value.h"

static constexpr size_t mapping_bytes = ACTIVE_PID_WORDS * sizeof(uint64_t);

ActivePids::ActivePids(int map_fd)
{
    if (map_fd < 0)
        return;
    void *mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
    if (mapping != MAP_FAILED)
        words_ = static_cast<uint64_t *>(mapping);
}

ActivePids::~ActivePids()
{
    if (words_)
        munmap(words_, mapping_bytes);
}

void ActivePids::take(std::vector<uint64_t> &pids)
{
    for (uint32_t word = 0; word < ACTIVE_PID_WORDS; ++word) {
        if (!__atomic_load_n(&words_[word], __ATOMIC_RELAXED))
            continue;
        // acquire: the entry changes made before the bit was set are visible to our lookups
        uint64_t bits = __atomic_exchange_n(&words_[word], 0, __ATOMIC_ACQUIRE);
        while (bits) {
            pids.push_back(static_cast<uint64_t>(word) * 64 + static_cast<unsigned>(__builtin_ctzll(bits)));
            bits &= bits - 1;
        }
    }
}
