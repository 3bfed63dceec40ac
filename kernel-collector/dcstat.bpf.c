/* dcstat module: directory cache lookups, per process and cgroup.
 *   trampoline  fentry lookup_fast, fexit d_lookup
 *   kprobe      kprobe lookup_fast, kretprobe d_lookup
 * No tracepoint path: neither function has a tracepoint. */
#include "lib/common.h"
#include "dcstat.h"

#define ACCOUNTING_COUNTERS DCSTAT_COUNTERS
typedef struct dcstat_value table_value_t;
typedef struct dcstat_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void count_reference(void)
{
	account(bpf_get_current_task_btf(), true, DCSTAT_REFERENCE, false);
}

/* d_lookup returns the dentry, or NULL when the name is not in the cache */
static __always_inline void count_slow(__u64 dentry)
{
	struct counter_change changes[] = {{DCSTAT_SLOW, 1}, {DCSTAT_MISS, dentry == 0}};

	account_changes(bpf_get_current_task_btf(), true, changes, 2, false);
}

ACCOUNTING_LIFECYCLE_PROGRAMS

SEC("fentry/lookup_fast")
int fentry_lookup_fast(__u64 *ctx)
{
	count_reference();
	return 0;
}

SEC("fexit/d_lookup")
int fexit_d_lookup(__u64 *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	count_slow(ret);
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
	count_slow((__u64)dentry);
	return 0;
}
