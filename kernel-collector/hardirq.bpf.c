/* hardirq module: time spent in hardware interrupt handlers, in nanoseconds,
 * per IRQ number (irq:irq_handler_entry/exit) and per x86 vector with its own
 * tracepoints (irq_vectors:*_entry/exit). Handlers run with interrupts off,
 * so one start time per CPU and kind is enough. Tracepoint path only, as
 * upstream: tp_btf programs. */
#include "lib/common.h"
#include "hardirq.h"

char LICENSE[] SEC("license") = "GPL";

/* irq number -> ns */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HARDIRQ_MAX_IRQS);
	__type(key, __u32);
	__type(value, __u64);
} irq_latency SEC(".maps");

/* enum hardirq_vector -> ns */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HARDIRQ_VECTORS);
	__type(key, __u32);
	__type(value, __u64);
} vector_latency SEC(".maps");

/* start times: one per vector, the last for device IRQ handlers */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HARDIRQ_VECTORS + 1);
	__type(key, __u32);
	__type(value, __u64);
} started SEC(".maps");

static __always_inline void mark_start(__u32 slot)
{
	__u64 *start = bpf_map_lookup_elem(&started, &slot);

	if (start)
		*start = bpf_ktime_get_ns();
}

/* Nanoseconds since mark_start(slot), 0 when it saw no start. */
static __always_inline __u64 take_elapsed(__u32 slot)
{
	__u64 *start = bpf_map_lookup_elem(&started, &slot);
	__u64 elapsed;

	if (!start || !*start)
		return 0;
	elapsed = bpf_ktime_get_ns() - *start;
	*start = 0;
	return elapsed;
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(tp_irq_handler_entry, int irq)
{
	mark_start(HARDIRQ_VECTORS);
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(tp_irq_handler_exit, int irq)
{
	__u64 elapsed = take_elapsed(HARDIRQ_VECTORS), zero = 0, *total;
	__u32 key = irq;

	if (!elapsed)
		return 0;
	total = bpf_map_lookup_elem(&irq_latency, &key);
	if (!total) {
		bpf_map_update_elem(&irq_latency, &key, &zero, BPF_NOEXIST);
		total = bpf_map_lookup_elem(&irq_latency, &key);
	}
	if (total)
		*total += elapsed;
	return 0;
}

static __always_inline void vector_exit(__u32 vector)
{
	__u64 elapsed = take_elapsed(vector), *total;

	total = bpf_map_lookup_elem(&vector_latency, &vector);
	if (total && elapsed)
		*total += elapsed;
}

#define VECTOR_PROGRAMS(event, vector)                \
	SEC("tp_btf/" #event "_entry")                \
	int BPF_PROG(tp_##event##_entry)              \
	{                                             \
		mark_start(vector);                   \
		return 0;                             \
	}                                             \
	SEC("tp_btf/" #event "_exit")                 \
	int BPF_PROG(tp_##event##_exit)               \
	{                                             \
		vector_exit(vector);                  \
		return 0;                             \
	}

VECTOR_PROGRAMS(thermal_apic, HARDIRQ_APIC_THERMAL)
VECTOR_PROGRAMS(threshold_apic, HARDIRQ_APIC_THRESHOLD)
VECTOR_PROGRAMS(error_apic, HARDIRQ_APIC_ERROR)
VECTOR_PROGRAMS(deferred_error_apic, HARDIRQ_APIC_DEFERRED_ERROR)
VECTOR_PROGRAMS(spurious_apic, HARDIRQ_APIC_SPURIOUS)
VECTOR_PROGRAMS(call_function, HARDIRQ_FUNC_CALL)
VECTOR_PROGRAMS(call_function_single, HARDIRQ_FUNC_CALL_SINGLE)
VECTOR_PROGRAMS(reschedule, HARDIRQ_RESCHEDULE)
VECTOR_PROGRAMS(local_timer, HARDIRQ_LOCAL_TIMER)
VECTOR_PROGRAMS(irq_work, HARDIRQ_IRQ_WORK)
VECTOR_PROGRAMS(x86_platform_ipi, HARDIRQ_X86_PLATFORM_IPI)
