#include "accounting/table_reader.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>

#include "accounting/counter_totals.h"
#include "kernel/bpf_loader.h"

static unsigned cpu_copies(bool per_cpu)
{
    if (!per_cpu)
        return 1;
    int cpus = libbpf_num_possible_cpus();
    return cpus > 0 ? static_cast<unsigned>(cpus) : 1;
}

// One counter of `bytes` (4 or 8) bytes at `at`, widened.
static uint64_t read_counter(const uint8_t *at, unsigned bytes)
{
    if (bytes == 8) {
        uint64_t counter;
        memcpy(&counter, at, 8);
        return counter;
    }
    uint32_t counter;
    memcpy(&counter, at, 4);
    return counter;
}

TableReader::TableReader(int map_fd, unsigned key_size, unsigned counter_count, unsigned counter_bytes,
                         unsigned max_entries, bool per_cpu)
    : fd_(map_fd), key_size_(key_size), counter_count_(counter_count), counter_bytes_(counter_bytes),
      max_entries_(max_entries), copies_(cpu_copies(per_cpu))
{
    size_t value_size = sizeof(task_identity) + counter_bytes * counter_count;
    value_stride_ = per_cpu ? (value_size + 7) / 8 * 8 : value_size;
}

void TableReader::merge(const uint8_t *key, const uint8_t *values, MergedEntry &out) const
{
    out.key = 0;
    memcpy(&out.key, key, key_size_);
    out.identity = {};
    out.counters.assign(counter_count_, 0);
    for (unsigned cpu = 0; cpu < copies_; ++cpu) {
        const uint8_t *copy = values + cpu * value_stride_;
        task_identity identity;
        memcpy(&identity, copy, sizeof(identity));
        if (identity.comm[0] && identity.identity_ns >= out.identity.identity_ns) {
            memcpy(out.identity.comm, identity.comm, sizeof(identity.comm));
            out.identity.ppid = identity.ppid;
            out.identity.identity_ns = identity.identity_ns;
        }
        out.identity.exited |= identity.exited;
        for (unsigned i = 0; i < counter_count_; ++i)
            out.counters[i] += read_counter(copy + sizeof(task_identity) + counter_bytes_ * i, counter_bytes_);
    }
    // modular: per-CPU sums wrap like the counters do
    for (uint64_t &counter : out.counters)
        counter &= CounterTotals::counter_mask(counter_bytes_);
}

std::string TableReader::read(std::vector<MergedEntry> &entries)
{
    entries.clear();
    if (batches_) {
        std::string error = read_batched(entries);
        if (batches_)
            return error;
        entries.clear(); // kernel without batch operations: fall through
    }
    return read_key_by_key(entries);
}

// Entries per batch call: buffers of about 256 KiB whatever the number of
// CPUs, at least 64 entries (a hash bucket never holds more than a few).
static unsigned batch_entries(size_t bytes_per_entry, unsigned max_entries)
{
    size_t fitting = (256 * 1024) / bytes_per_entry;
    return static_cast<unsigned>(std::min<size_t>(max_entries, std::max<size_t>(64, fitting)));
}

std::string TableReader::read_batched(std::vector<MergedEntry> &entries)
{
    unsigned chunk = batch_entries(key_size_ + value_stride_ * copies_, max_entries_);
    keys_.resize(static_cast<size_t>(chunk) * key_size_);
    values_.resize(static_cast<size_t>(chunk) * value_stride_ * copies_);
    uint64_t in_batch = 0, out_batch = 0;
    bool first = true;
    LIBBPF_OPTS(bpf_map_batch_opts, options);
    for (;;) {
        __u32 count = chunk;
        int err = bpf_map_lookup_batch(fd_, first ? nullptr : &in_batch, &out_batch, keys_.data(),
                                       values_.data(), &count, &options);
        int error = err ? errno : 0;
        if (err && error == ENOSPC && count == 0 && chunk < max_entries_) {
            // one hash bucket holds more entries than the chunk: grow and retry
            chunk = std::min(chunk * 2, max_entries_);
            keys_.resize(static_cast<size_t>(chunk) * key_size_);
            values_.resize(static_cast<size_t>(chunk) * value_stride_ * copies_);
            continue;
        }
        if (err && error != ENOENT) {
            if (first && (error == EINVAL || error == ENOTSUP || error == EOPNOTSUPP)) {
                batches_ = false;
                return "";
            }
            return "batch lookup failed: " + errno_text(-error);
        }
        for (__u32 i = 0; i < count; ++i) {
            MergedEntry &entry = entries.emplace_back();
            merge(keys_.data() + i * key_size_, values_.data() + i * value_stride_ * copies_, entry);
        }
        if (error == ENOENT)
            return "";
        in_batch = out_batch;
        first = false;
    }
}

std::string TableReader::read_key_by_key(std::vector<MergedEntry> &entries)
{
    uint64_t key = 0, next = 0;
    std::vector<uint8_t> value(value_stride_ * copies_);
    const void *previous = nullptr;
    while (bpf_map_get_next_key(fd_, previous, &next) == 0) {
        if (bpf_map_lookup_elem(fd_, &next, value.data()) == 0) {
            MergedEntry &entry = entries.emplace_back();
            merge(reinterpret_cast<const uint8_t *>(&next), value.data(), entry);
        }
        key = next;
        previous = &key;
    }
    return errno == ENOENT ? "" : "key walk failed: " + errno_text(-errno);
}

std::string TableReader::lookup(const std::vector<uint64_t> &keys, std::vector<MergedEntry> &entries,
                                std::vector<uint64_t> &missing)
{
    entries.clear();
    missing.clear();
    std::vector<uint8_t> value(value_stride_ * copies_);
    for (uint64_t key : keys) {
        if (bpf_map_lookup_elem(fd_, &key, value.data()) == 0)
            merge(reinterpret_cast<const uint8_t *>(&key), value.data(), entries.emplace_back());
        else if (errno == ENOENT)
            missing.push_back(key);
        else
            return "lookup failed: " + errno_text(-errno);
    }
    return "";
}

std::string TableReader::remove(const std::vector<uint64_t> &keys)
{
    if (keys.empty())
        return "";
    std::vector<uint8_t> packed(keys.size() * key_size_);
    for (size_t i = 0; i < keys.size(); ++i)
        memcpy(packed.data() + i * key_size_, &keys[i], key_size_);
    if (batches_) {
        __u32 count = static_cast<__u32>(keys.size());
        LIBBPF_OPTS(bpf_map_batch_opts, options);
        if (bpf_map_delete_batch(fd_, packed.data(), &count, &options) == 0)
            return "";
        if (errno != ENOENT && errno != EINVAL)
            return "batch delete failed: " + errno_text(-errno);
    }
    // One by one: also the path when a key vanished meanwhile (batch stops there).
    for (size_t i = 0; i < keys.size(); ++i)
        bpf_map_delete_elem(fd_, packed.data() + i * key_size_);
    return "";
}

std::string read_global_table(int map_fd, unsigned counter_count, unsigned counter_bytes,
                              std::vector<uint64_t> &totals)
{
    unsigned copies = cpu_copies(true);
    unsigned slots = counter_count + 2; // GLOBAL_COUNTERS: plus the two table-full counters
    size_t stride = (counter_bytes * slots + 7) / 8 * 8;
    std::vector<uint8_t> values(stride * copies);
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(map_fd, &zero, values.data()))
        return "global table lookup failed: " + errno_text(-errno);
    totals.assign(slots, 0);
    for (unsigned cpu = 0; cpu < copies; ++cpu)
        for (unsigned i = 0; i < slots; ++i)
            totals[i] += read_counter(values.data() + cpu * stride + counter_bytes * i, counter_bytes);
    for (uint64_t &total : totals)
        total &= CounterTotals::counter_mask(counter_bytes);
    return "";
}
