/* cachestat module: shared between cachestat.bpf.c and plugin/modules/cachestat.cpp */
#ifndef EBPF_PLUGIN_CACHESTAT_H
#define EBPF_PLUGIN_CACHESTAT_H

#include "lib/table_value.h"

/* Calls of the page cache functions upstream's cachestat counts (each
 * resolved from BTF: the first name this kernel has). User space turns them
 * into hits, misses and the hit ratio per interval (modules/cachestat.cpp). */
enum cachestat_counter {
	CACHESTAT_PAGE_ADDED,    /* filemap_add_folio / add_to_page_cache_lru */
	CACHESTAT_PAGE_ACCESSED, /* folio_mark_accessed / mark_page_accessed */
	CACHESTAT_PAGE_DIRTIED,  /* __folio_mark_dirty / account_page_dirtied */
	CACHESTAT_BUFFER_DIRTY,  /* mark_buffer_dirty */
	CACHESTAT_COUNTERS
};

DEFINE_TABLE_VALUES(cachestat, CACHESTAT_COUNTERS);

#endif
