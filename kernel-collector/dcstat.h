/* dcstat module: shared between dcstat.bpf.c and plugin/modules/dcstat.cpp */
#ifndef EBPF_PLUGIN_DCSTAT_H
#define EBPF_PLUGIN_DCSTAT_H

#include "lib/table_value.h"

enum dcstat_counter {
	DCSTAT_REFERENCE, /* lookup_fast: a path component looked up in the dentry cache */
	DCSTAT_SLOW,      /* d_lookup: a lookup outside the fast path */
	DCSTAT_MISS,      /* ... that found no dentry */
	DCSTAT_COUNTERS
};

/* u64: three u32 counters would leave the value with padding (the layout check) */
DEFINE_TABLE_VALUES_OF(dcstat, DCSTAT_COUNTERS, __u64);

#endif
