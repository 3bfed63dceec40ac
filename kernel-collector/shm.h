/* shm module: shared between shm.bpf.c and plugin/modules/shm.cpp */
#ifndef EBPF_PLUGIN_SHM_H
#define EBPF_PLUGIN_SHM_H

#include "lib/table_value.h"

/* calls, counted at their entry; the order of upstream's shm_counters */
enum shm_counter {
	SHM_SHMGET_CALL,
	SHM_SHMAT_CALL,
	SHM_SHMDT_CALL,
	SHM_SHMCTL_CALL,
	SHM_COUNTERS
};

DEFINE_TABLE_VALUES(shm, SHM_COUNTERS);

#endif
