/* swap module: shared between swap.bpf.c and plugin/modules/swap.cpp */
#ifndef EBPF_PLUGIN_SWAP_H
#define EBPF_PLUGIN_SWAP_H

#include "lib/table_value.h"

enum swap_counter {
	SWAP_READ,  /* swap_read_folio / swap_readpage: a page read in from swap */
	SWAP_WRITE, /* swap_writeout / swap_writepage: a page written out to swap */
	SWAP_COUNTERS
};

DEFINE_TABLE_VALUES(swap, SWAP_COUNTERS);

#endif
