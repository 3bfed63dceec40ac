/* fd module: shared between fd.bpf.c and plugin/modules/fd.cpp */
#ifndef EBPF_PLUGIN_FD_H
#define EBPF_PLUGIN_FD_H

#include "lib/table_value.h"

enum fd_counter {
	FD_OPEN_CALL,   /* open, openat, openat2, creat */
	FD_OPEN_ERROR,  /* ... that failed (return mode) */
	FD_CLOSE_CALL,  /* close */
	FD_CLOSE_ERROR, /* ... that failed (return mode) */
	FD_COUNTERS
};

DEFINE_TABLE_VALUES(fd, FD_COUNTERS);

#endif
