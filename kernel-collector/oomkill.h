/* oomkill module: shared between oomkill.bpf.c and plugin/modules/oomkill.cpp */
#ifndef EBPF_PLUGIN_OOMKILL_H
#define EBPF_PLUGIN_OOMKILL_H

#include "lib/table_value.h"

enum oomkill_counter {
	OOMKILL_KILLS, /* processes the OOM killer chose, counted for the victim */
	OOMKILL_COUNTERS
};

DEFINE_TABLE_VALUES(oomkill, OOMKILL_COUNTERS);

#endif
