/* Modules that only count calls of kernel functions without a tracepoint
 * (cachestat, swap): one fentry and one kprobe program per function, each
 * counting one call for the caller. User space autoloads one set and points
 * each program at the function this kernel has (ProgramSpec::target).
 * Include after lib/accounting.h. */
#ifndef EBPF_PLUGIN_CALL_COUNTER_H
#define EBPF_PLUGIN_CALL_COUNTER_H

#include "lib/current_task.h"

static __always_inline void count_call(__u32 index)
{
	account(current_task(), true, index, false);
}

/* SEC names the newest function; user space retargets it. */
#define CALL_COUNTER_PROGRAMS(name, function, index)                          \
	SEC("fentry/" #function)                                            \
	int fentry_##name(__u64 *ctx)                                       \
	{                                                                   \
		count_call(index);                                          \
		return 0;                                                   \
	}                                                                   \
	SEC("kprobe/" #function)                                            \
	int BPF_KPROBE(kprobe_##name)                                       \
	{                                                                   \
		count_call(index);                                          \
		return 0;                                                   \
	}

#endif
