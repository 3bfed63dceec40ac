#include "accounting/process_slots.h"

uint32_t ProcessSlots::owner(uint32_t index) const
{
    return __atomic_load_n(&slot(index)->owner, __ATOMIC_ACQUIRE);
}

std::optional<task_identity> ProcessSlots::identity(uint32_t pid) const
{
    task_slot *entry = slot(index_of(pid));
    // an exec rewrites the name in place between two increments of seq
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (__atomic_load_n(&entry->owner, __ATOMIC_ACQUIRE) != pid)
            return std::nullopt;
        uint32_t before = __atomic_load_n(&entry->seq, __ATOMIC_ACQUIRE);
        if (before & 1)
            continue;
        task_identity identity;
        __builtin_memcpy(&identity, const_cast<const task_identity *>(&entry->identity), sizeof(identity));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&entry->seq, __ATOMIC_RELAXED) != before)
            continue;
        // a slot's identity_ns is its start: each exec makes it one newer
        identity.identity_ns = identity.start_ns + before / 2;
        return identity;
    }
    return std::nullopt;
}

void ProcessSlots::close(uint32_t index, uint32_t pid)
{
    uint32_t owned = pid;
    __atomic_compare_exchange_n(&slot(index)->owner, &owned, pid | SLOT_CLOSING, false, __ATOMIC_RELEASE,
                                __ATOMIC_RELAXED);
}

void ProcessSlots::free(uint32_t index, uint32_t pid)
{
    uint32_t closing = pid | SLOT_CLOSING;
    __atomic_compare_exchange_n(&slot(index)->owner, &closing, 0, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

void CounterSlots::take(uint32_t index, std::vector<uint64_t> &deltas)
{
    deltas.assign(counters_, 0);
    uint8_t *entry = array_.entry(index);
    for (size_t i = 0; i < counters_; ++i) {
        if (counter_bytes_ == 8) {
            auto *counter = reinterpret_cast<uint64_t *>(entry) + i;
            if (__atomic_load_n(counter, __ATOMIC_RELAXED))
                deltas[i] = __atomic_exchange_n(counter, 0, __ATOMIC_ACQ_REL);
        } else {
            auto *counter = reinterpret_cast<uint32_t *>(entry) + i;
            if (__atomic_load_n(counter, __ATOMIC_RELAXED))
                deltas[i] = __atomic_exchange_n(counter, 0, __ATOMIC_ACQ_REL);
        }
    }
}
