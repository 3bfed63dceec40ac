/* dcstat module: directory cache lookups, per process and cgroup.
 *   trampoline  fentry lookup_fast, fexit d_lookup
 *   kprobe      kprobe lookup_fast, kretprobe d_lookup
 * No tracepoint path: neither function has a tracepoint. */
#include "lib/common.h"
#include "lib/current_task.h"
#include "dcstat.h"

#define ACCOUNTING_COUNTERS DCSTAT_COUNTERS
typedef struct dcstat_value table_value_t;
typedef struct dcstat_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void count_reference(void)
{
	account(current_task(), TASK_CURRENT, DCSTAT_REFERENCE, false);
}

/* d_lookup returns the dentry, or NULL when the name is not in the cache */
static __always_inline void count_slow(bool miss)
{
	struct counter_change changes[] = {{DCSTAT_SLOW, 1}, {DCSTAT_MISS, miss}};

	account_changes(current_task(), TASK_CURRENT, changes, 2, false);
}

SEC("fentry/lookup_fast")
int fentry_lookup_fast(__u64 *ctx)
{
	count_reference();
	return 0;
}

/* the result as the argument after d_lookup's two: 5.10-safe, unlike bpf_get_func_ret (5.17+) */
SEC("fexit/d_lookup")
int BPF_PROG(fexit_d_lookup, const void *parent, const void *name, const void *dentry)
{
	/* a pointer: only compare it with NULL (the verifier refuses arithmetic on it) */
	count_slow(dentry == NULL);
	return 0;
}

SEC("kprobe/lookup_fast")
int BPF_KPROBE(kprobe_lookup_fast)
{
	count_reference();
	return 0;
}

SEC("kretprobe/d_lookup")
int BPF_KRETPROBE(kretprobe_d_lookup, void *dentry)
{
	count_slow(dentry == NULL);
	return 0;
}
