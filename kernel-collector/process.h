/* process module: shared between process.bpf.c and plugin/modules/process.cpp */
#ifndef EBPF_PLUGIN_PROCESS_H
#define EBPF_PLUGIN_PROCESS_H

#include "lib/table_value.h"

enum process_counter {
	PROCESS_CREATE_PROCESS, /* successful or attempted fork/vfork/clone of a new process */
	PROCESS_CREATE_THREAD,  /* clone with CLONE_THREAD */
	PROCESS_EXIT_TASK,      /* do_exit: every task (thread) that exits */
	PROCESS_RELEASE_TASK,   /* release_task: the task's resources are freed */
	PROCESS_PROCESS_ERROR,  /* failed process creation (return mode) */
	PROCESS_THREAD_ERROR,   /* failed thread creation (return mode) */
	PROCESS_COUNTERS
};

DEFINE_TABLE_VALUES(process, PROCESS_COUNTERS);

#endif
