/* swap module: pages read from and written to swap, per process and cgroup
 * (a write is counted for the task that reclaims: kswapd, or a process in
 * direct reclaim). User space points each program at the function this
 * kernel has (renamed across versions):
 *   trampoline  fentry
 *   kprobe      kprobe
 * No tracepoint path: the kernel has no swap-in or swap-out tracepoint. */
#include "lib/common.h"
#include "swap.h"

#define ACCOUNTING_COUNTERS SWAP_COUNTERS
typedef struct swap_value table_value_t;
typedef struct swap_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

#include "lib/call_counter.h"

CALL_COUNTER_PROGRAMS(read, swap_read_folio, SWAP_READ)
CALL_COUNTER_PROGRAMS(write, swap_writepage, SWAP_WRITE)
