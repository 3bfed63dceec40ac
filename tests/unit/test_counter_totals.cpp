#include <doctest/doctest.h>

#include "core/collector.h"
#include "accounting/counter_totals.h"

TEST_CASE("counter totals add modular differences, exact across u32 wrap-around")
{
    CounterTotals totals(2);
    totals.update({5, 0});
    CHECK(totals.totals() == std::vector<uint64_t>{5, 0});
    totals.update({4294967290u, 7});
    CHECK(totals.totals() == std::vector<uint64_t>{4294967290ull, 7});
    totals.update({3, 7}); // wrapped: 4294967290 -> 2^32 + 3 is 9 more
    CHECK(totals.totals() == std::vector<uint64_t>{4294967299ull, 7});
    totals.add(1, 100);
    CHECK(totals.totals() == std::vector<uint64_t>{4294967299ull, 107});
}

TEST_CASE("u64 counters (byte counts) are not cut to 32 bits")
{
    CounterTotals totals(1, 8);
    totals.update({5});
    totals.update({(1ull << 32) + 12}); // more than 2^32 bytes in one cycle
    CHECK(totals.totals() == std::vector<uint64_t>{(1ull << 32) + 12});
    CHECK(CounterTotals::counter_mask(4) == 0xffffffffull);
    CHECK(CounterTotals::counter_mask(8) == ~0ull);
}

TEST_CASE("derived counters: per-interval process status and the combined task error")
{
    Counters previous = {{"create_process", 10}, {"exit_task", 20}, {"release_task", 18}};
    Counters now = {{"create_process", 13}, {"exit_task", 25}, {"release_task", 25},
                    {"process_error", 2}, {"thread_error", 3}};
    add_derived_counters(now, &previous);
    CHECK(now["status_process"] == 3);
    CHECK(now["status_zombie"] == -2); // 5 exits, 7 releases in the interval
    CHECK(now["task_error"] == 5);

    Counters first = {{"create_process", 4}};
    add_derived_counters(first, nullptr);
    CHECK_FALSE(first.contains("status_process")); // nothing to compare with yet
}

TEST_CASE("derived counters: socket bytes, TCP and UDP together per group")
{
    // a cycle moving 5 GiB: more than one u32 of bytes
    Counters counters = {{"tcp_send_bytes", (5LL << 30) + 63}, {"tcp_recv_bytes", 64}, {"udp_send_bytes", 7},
                         {"udp_recv_bytes", 129}};
    add_derived_counters(counters, nullptr);
    CHECK(counters["send_bytes"] == (5LL << 30) + 70);
    CHECK(counters["recv_bytes"] == 193);

    Counters other_module = {{"open_call", 1}};
    add_derived_counters(other_module, nullptr);
    CHECK(other_module.size() == 1);
}

TEST_CASE("attach path counters: 1 for the path in use, 0 for the others")
{
    Counters counters;
    add_attach_path_counters(counters, "fd", AttachPath::Tracepoint);
    add_attach_path_counters(counters, "process", AttachPath::Trampoline);
    CHECK(counters == Counters{{"attach_fd_trampoline", 0}, {"attach_fd_kprobe", 0}, {"attach_fd_tracepoint", 1},
                               {"attach_process_trampoline", 1}, {"attach_process_kprobe", 0},
                               {"attach_process_tracepoint", 0}});
}

TEST_CASE("attach order: default, preference and forced")
{
    using P = AttachPath;
    CHECK(attach_order(P::Auto, true) == std::vector<P>{P::Trampoline, P::Kprobe, P::Tracepoint});
    CHECK(attach_order(P::Tracepoint, true) == std::vector<P>{P::Tracepoint, P::Trampoline, P::Kprobe});
    CHECK(attach_order(P::Kprobe, false) == std::vector<P>{P::Kprobe});
}
