/* softirq module: time spent in each softirq vector, in nanoseconds
 * (irq:softirq_entry/exit as tp_btf). Softirqs do not nest on a CPU: one
 * start time per CPU. Tracepoint path only, as upstream. */
#include "lib/common.h"
#include "softirq.h"

char LICENSE[] SEC("license") = "GPL";

/* vector -> ns */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOFTIRQ_VECTORS);
	__type(key, __u32);
	__type(value, __u64);
} softirq_latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} started SEC(".maps");

SEC("tp_btf/softirq_entry")
int BPF_PROG(tp_softirq_entry, unsigned int vector)
{
	__u32 zero = 0;
	__u64 *start = bpf_map_lookup_elem(&started, &zero);

	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(tp_softirq_exit, unsigned int vector)
{
	__u32 zero = 0, key = vector;
	__u64 *start = bpf_map_lookup_elem(&started, &zero), *total;

	if (!start || !*start)
		return 0;
	total = bpf_map_lookup_elem(&softirq_latency, &key);
	if (total)
		*total += bpf_ktime_get_ns() - *start;
	*start = 0;
	return 0;
}
