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

TEST_CASE("derived counters: socket bytes from their two parts, TCP and UDP together per group")
{
    // a cycle moving 5 GiB: more than one u32 of bytes, exact in units of 64 plus the rest
    const int64_t units = (5LL << 30) / 64;
    Counters counters = {{"tcp_send_units", units}, {"tcp_send_rest", 63}, {"tcp_recv_units", 1},
                         {"tcp_recv_rest", 0},      {"udp_send_units", 0},  {"udp_send_rest", 7},
                         {"udp_recv_units", 2},     {"udp_recv_rest", 1}};
    add_derived_counters(counters, nullptr);
    CHECK(counters["tcp_send_bytes"] == (5LL << 30) + 63);
    CHECK(counters["tcp_recv_bytes"] == 64);
    CHECK(counters["udp_send_bytes"] == 7);
    CHECK(counters["udp_recv_bytes"] == 129);
    CHECK(counters["send_bytes"] == (5LL << 30) + 70);
    CHECK(counters["recv_bytes"] == 193);

    Counters other_module = {{"open_call", 1}};
    add_derived_counters(other_module, nullptr);
    CHECK(other_module.size() == 1);
}

TEST_CASE("attach path codes match charts/self.conf")
{
    CHECK(attach_path_code(AttachPath::Trampoline) == 1);
    CHECK(attach_path_code(AttachPath::Kprobe) == 2);
    CHECK(attach_path_code(AttachPath::Tracepoint) == 3);
    CHECK(attach_path_code(AttachPath::Auto) == 0);
}

TEST_CASE("attach order: default, preference and forced")
{
    using P = AttachPath;
    CHECK(attach_order(P::Auto, true) == std::vector<P>{P::Trampoline, P::Kprobe, P::Tracepoint});
    CHECK(attach_order(P::Tracepoint, true) == std::vector<P>{P::Tracepoint, P::Trampoline, P::Kprobe});
    CHECK(attach_order(P::Kprobe, false) == std::vector<P>{P::Kprobe});
}
