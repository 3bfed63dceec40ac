// Counters computed per interval from a module's cumulative counters and
// their values at the previous read (cachestat hits, misses and hit ratio;
// dcstat hit ratio), for the absolute dimensions of upstream's charts.
#pragma once

#include <algorithm>

#include "core/publisher.h"

void add_cachestat_interval_counters(Counters &counters, const Counters &previous);
void add_dcstat_interval_counters(Counters &counters, const Counters &previous);
