/* cachestat module: calls of the page cache functions, per process and cgroup.
 * Two program sets count the same calls; user space autoloads one and points
 * each program at the function this kernel has (renamed across versions):
 *   trampoline  fentry
 *   kprobe      kprobe
 * No tracepoint path: folio_mark_accessed (the accesses every hit and miss is
 * computed from) has no tracepoint, and a chart never mixes paths. */
#include "lib/common.h"
#include "cachestat.h"

#define ACCOUNTING_COUNTERS CACHESTAT_COUNTERS
typedef struct cachestat_value table_value_t;
typedef struct cachestat_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

#include "lib/call_counter.h"

CALL_COUNTER_PROGRAMS(page_added, filemap_add_folio, CACHESTAT_PAGE_ADDED)
CALL_COUNTER_PROGRAMS(page_accessed, folio_mark_accessed, CACHESTAT_PAGE_ACCESSED)
CALL_COUNTER_PROGRAMS(page_dirtied, __folio_mark_dirty, CACHESTAT_PAGE_DIRTIED)
CALL_COUNTER_PROGRAMS(buffer_dirty, mark_buffer_dirty, CACHESTAT_BUFFER_DIRTY)
