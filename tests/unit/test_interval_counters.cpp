#include <doctest/doctest.h>

#include "core/collector.h"
#include "modules/interval_counters.h"

namespace {

Counters cachestat(int64_t added, int64_t accessed, int64_t dirtied, int64_t buffer_dirty)
{
    return {{"cachestat_page_added", added}, {"cachestat_page_accessed", accessed},
            {"cachestat_page_dirtied", dirtied}, {"cachestat_buffer_dirty", buffer_dirty}};
}

} // namespace

TEST_CASE("cachestat: upstream's formula per interval, hits and misses as running totals")
{
    Counters previous;
    Counters first = cachestat(319, 319, 0, 0);  // a file read after dropping it: all misses
    add_cachestat_interval_counters(first, previous);
    CHECK(first["cachestat_misses"] == 319);
    CHECK(first["cachestat_hits"] == 0);
    CHECK(first["cachestat_ratio"] == 0);

    Counters second = cachestat(319, 638, 0, 0);  // read again: all hits
    add_cachestat_interval_counters(second, first);
    CHECK(second["cachestat_misses"] == 319);
    CHECK(second["cachestat_hits"] == 319);
    CHECK(second["cachestat_ratio"] == 100);

    Counters ahead = cachestat(419, 648, 0, 0);  // read-ahead added more than was accessed
    add_cachestat_interval_counters(ahead, second);
    CHECK(ahead["cachestat_misses"] == 329);  // every access of the interval is a miss
    CHECK(ahead["cachestat_hits"] == 319);

    Counters writes = cachestat(459, 688, 30, 10);  // dirtied pages are not misses, buffer dirties not accesses
    add_cachestat_interval_counters(writes, ahead);
    CHECK(writes["cachestat_misses"] == 329 + 30);  // the 90 read ahead are accessed now: misses
    CHECK(writes["cachestat_hits"] == 319);
    CHECK(writes["cachestat_ratio"] == 0);

    // the other 60 read ahead are dropped after one interval; the 10 added last interval are misses
    Counters later = cachestat(459, 728, 30, 10);
    add_cachestat_interval_counters(later, writes);
    CHECK(later["cachestat_misses"] == 359 + 10);
    CHECK(later["cachestat_hits"] == 319 + 30);

    Counters idle = later;
    add_cachestat_interval_counters(idle, later);
    CHECK(idle["cachestat_ratio"] == 100);  // no access: upstream's 100 %
    CHECK(idle["cachestat_hits"] == later["cachestat_hits"]);
}

TEST_CASE("cachestat: a read that spans two intervals counts its pages as misses, wherever the boundary falls")
{
    // 319 pages added then accessed, read at two moments: the counts must not depend on it
    for (int64_t split = 0; split <= 319; split += 29) {
        Counters previous;
        Counters first = cachestat(319, split, 0, 0);  // all added, `split` of them accessed so far
        add_cachestat_interval_counters(first, previous);
        Counters second = cachestat(319, 319, 0, 0);
        add_cachestat_interval_counters(second, first);
        Counters third = cachestat(319, 638, 0, 0);  // read again: all hits
        add_cachestat_interval_counters(third, second);
        CHECK(second["cachestat_misses"] == 319);
        CHECK(second["cachestat_hits"] == 0);
        CHECK(third["cachestat_hits"] == 319);
        CHECK(third["cachestat_misses"] == 319);
    }
}

TEST_CASE("dcstat: hit ratio of the interval's references")
{
    Counters previous = {{"dc_reference", 100}, {"dc_slow", 10}, {"dc_miss", 5}};
    Counters now = {{"dc_reference", 300}, {"dc_slow", 60}, {"dc_miss", 55}};
    add_dcstat_interval_counters(now, previous);
    CHECK(now["dc_ratio"] == 75);
    Counters idle = now;
    add_dcstat_interval_counters(idle, now);
    CHECK(idle["dc_ratio"] == 0);  // no reference: upstream's 0
}

TEST_CASE("interval counters per entity: each keeps its own previous read, gone ones are forgotten")
{
    std::map<std::string, Counters> previous;
    std::map<std::string, Counters> scope = {{"a", cachestat(10, 10, 0, 0)}, {"b", cachestat(0, 5, 0, 0)}};
    add_interval_counters(scope, previous);
    CHECK(scope["a"]["cachestat_misses"] == 10);
    CHECK(scope["b"]["cachestat_hits"] == 5);
    scope = {{"a", cachestat(10, 30, 0, 0)}};
    add_interval_counters(scope, previous);
    CHECK(scope["a"]["cachestat_hits"] == 20);
    CHECK(scope["a"]["cachestat_misses"] == 10);
    CHECK(!previous.contains("b"));
}
