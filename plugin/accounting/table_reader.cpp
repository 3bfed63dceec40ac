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

TableReader::TableReader(int map_fd, unsigned key_size, unsigned value_size, unsigned max_entries)
    : fd_(map_fd), key_size_(key_size), value_size_(value_size), max_entries_(max_entries)
{
}

void TableReader::unpack(const uint8_t *key, const uint8_t *value, TableEntry &out) const
{
    out.key = 0;
    memcpy(&out.key, key, key_size_);
    out.words.resize(value_size_ / 4);
    memcpy(out.words.data(), value, value_size_);
}

std::string TableReader::read(std::vector<TableEntry> &entries)
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

std::string TableReader::read_batched(std::vector<TableEntry> &entries)
{
    unsigned chunk = batch_entries(key_size_ + value_size_, max_entries_);
    keys_.resize(static_cast<size_t>(chunk) * key_size_);
    values_.resize(static_cast<size_t>(chunk) * value_size_);
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
            values_.resize(static_cast<size_t>(chunk) * value_size_);
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
            TableEntry &entry = entries.emplace_back();
            unpack(keys_.data() + i * key_size_, values_.data() + i * value_size_, entry);
        }
        if (error == ENOENT)
            return "";
        in_batch = out_batch;
        first = false;
    }
}

std::string TableReader::read_key_by_key(std::vector<TableEntry> &entries)
{
    uint64_t key = 0, next = 0;
    std::vector<uint8_t> value(value_size_);
    const void *previous = nullptr;
    while (bpf_map_get_next_key(fd_, previous, &next) == 0) {
        if (bpf_map_lookup_elem(fd_, &next, value.data()) == 0) {
            TableEntry &entry = entries.emplace_back();
            unpack(reinterpret_cast<const uint8_t *>(&next), value.data(), entry);
        }
        key = next;
        previous = &key;
    }
    return errno == ENOENT ? "" : "key walk failed: " + errno_text(-errno);
}

std::string TableReader::lookup(const std::vector<uint64_t> &keys, std::vector<TableEntry> &entries,
                                std::vector<uint64_t> &missing)
{
    entries.clear();
    missing.clear();
    std::vector<uint8_t> value(value_size_);
    for (uint64_t key : keys) {
        if (bpf_map_lookup_elem(fd_, &key, value.data()) == 0)
            unpack(reinterpret_cast<const uint8_t *>(&key), value.data(), entries.emplace_back());
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

std::string read_global_table(int map_fd, unsigned counter_count, unsigned counter_bytes, bool per_cpu,
                              std::vector<uint64_t> &totals)
{
    unsigned copies = cpu_copies(per_cpu);
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

uint64_t counter_of(const TableEntry &entry, size_t index, unsigned counter_bytes)
{
    const auto *value = reinterpret_cast<const uint8_t *>(entry.words.data());
    return read_counter(value + counter_bytes * index, counter_bytes);
}
