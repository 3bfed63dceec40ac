/* sync module: shared between sync.bpf.c and plugin/modules/sync.cpp */
#ifndef EBPF_PLUGIN_SYNC_H
#define EBPF_PLUGIN_SYNC_H

#include "lib/table_value.h"

/* Calls, counted at their entry; the order of upstream's sync_syscalls_index. */
enum sync_counter {
	SYNC_SYNC_CALL,
	SYNC_SYNCFS_CALL,
	SYNC_MSYNC_CALL,
	SYNC_FSYNC_CALL,
	SYNC_FDATASYNC_CALL,
	SYNC_SYNC_FILE_RANGE_CALL,
	SYNC_COUNTERS
};

DEFINE_TABLE_VALUES(sync, SYNC_COUNTERS);

#endif
