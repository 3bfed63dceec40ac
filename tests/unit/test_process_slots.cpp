// The process slots as user space maps them, over real BPF_F_MMAPABLE arrays
// (needs root): owners, identities, the two-step give-back, counters taken as deltas.
#include <bpf/bpf.h>
#include <cstring>
#include <string>
#include <vector>
#include <doctest/doctest.h>
#include <unistd.h>

#include "accounting/process_slots.h"

namespace {
int mmapable_array(const char *name, uint32_t value_size, uint32_t entries)
{
    LIBBPF_OPTS(bpf_map_create_opts, options, .map_flags = BPF_F_MMAPABLE);
    return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), value_size, entries, &options);
}

void put_slot(int fd, uint32_t index, const task_slot &slot)
{
    REQUIRE(bpf_map_update_elem(fd, &index, &slot, BPF_ANY) == 0);
}

task_slot read_slot(int fd, uint32_t index)
{
    task_slot slot{};
    REQUIRE(bpf_map_lookup_elem(fd, &index, &slot) == 0);
    return slot;
}
} // namespace

TEST_CASE("process slots: a slot is its owner's only while published; identity versions count execs; "
          "given back in two steps")
{
    int fd = mmapable_array("slots_test", sizeof(task_slot), 16);
    if (fd < 0) {
        MESSAGE("cannot create a BPF map (not root?): process slots test skipped");
        return;
    }
    ProcessSlots slots(fd, 16);
    REQUIRE(slots.usable());
    CHECK(slots.index_of(37) == 5);

    task_slot slot{};
    slot.owner = 37 | SLOT_TAKING; // claimed at fork, identity not written yet
    strcpy(slot.identity.comm, "bash");
    slot.identity.ppid = 1;
    slot.identity.start_ns = slot.identity.identity_ns = 1000;
    put_slot(fd, 5, slot);
    CHECK(slots.owner(5) == (37 | SLOT_TAKING));
    CHECK_FALSE(slots.identity(37));

    slot.owner = 37;
    slot.seq = 4; // two execs of earlier owners of the slot
    put_slot(fd, 5, slot);
    auto identity = slots.identity(37);
    REQUIRE(identity);
    CHECK(std::string(identity->comm) == "bash");
    CHECK(identity->start_ns == 1000);
    CHECK(identity->identity_ns == 1002);
    CHECK_FALSE(slots.identity(21)); // same index, another pid

    // an exec: odd while rewritten (never read so), newer after
    slot.seq = 5;
    put_slot(fd, 5, slot);
    CHECK_FALSE(slots.identity(37));
    slot.seq = 6;
    strcpy(slot.identity.comm, "ls");
    put_slot(fd, 5, slot);
    identity = slots.identity(37);
    REQUIRE(identity);
    CHECK(std::string(identity->comm) == "ls");
    CHECK(identity->identity_ns == 1003);

    slots.free(5, 37); // not closing: stays owned
    CHECK(slots.owner(5) == 37);
    slots.close(5, 21); // not its owner: nothing
    CHECK(slots.owner(5) == 37);
    slots.close(5, 37);
    CHECK(read_slot(fd, 5).owner == (37 | SLOT_CLOSING));
    CHECK_FALSE(slots.identity(37));
    slots.free(5, 37);
    CHECK(read_slot(fd, 5).owner == 0);
    close(fd);
}

TEST_CASE("counter slots: taken as deltas and zeroed, for values the kernel pads to 8 bytes")
{
    // one u32 counter (oomkill): 4-byte values sit 8 bytes apart in the array
    int fd = mmapable_array("counters_test", sizeof(uint32_t), 16);
    if (fd < 0) {
        MESSAGE("cannot create a BPF map (not root?): counter slots test skipped");
        return;
    }
    CounterSlots counters(fd, 16, 1, 4);
    REQUIRE(counters.usable());
    for (uint32_t index : {3u, 4u}) {
        uint32_t value = index * 10;
        REQUIRE(bpf_map_update_elem(fd, &index, &value, BPF_ANY) == 0);
    }
    std::vector<uint64_t> deltas;
    counters.take(3, deltas);
    CHECK(deltas == std::vector<uint64_t>{30});
    counters.take(3, deltas);
    CHECK(deltas == std::vector<uint64_t>{0});
    counters.take(4, deltas);
    CHECK(deltas == std::vector<uint64_t>{40});
    uint32_t index = 4, value = 1;
    REQUIRE(bpf_map_lookup_elem(fd, &index, &value) == 0);
    CHECK(value == 0);
    close(fd);

    // three u64 counters (a byte-counting module)
    fd = mmapable_array("counters_test", 3 * sizeof(uint64_t), 8);
    REQUIRE(fd >= 0);
    CounterSlots wide(fd, 8, 3, 8);
    uint64_t values[3] = {1, 1ull << 40, 0};
    index = 7;
    REQUIRE(bpf_map_update_elem(fd, &index, values, BPF_ANY) == 0);
    wide.take(7, deltas);
    CHECK(deltas == std::vector<uint64_t>{1, 1ull << 40, 0});
    close(fd);
}
