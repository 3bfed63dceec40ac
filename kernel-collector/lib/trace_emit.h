/* traces.bpf.c's maps and how an event reaches the ring: the header of an
 * event, the calls in progress saved per thread, the rate limit and the
 * counts of what became of each event. */
#ifndef EBPF_PLUGIN_TRACE_EMIT_H
#define EBPF_PLUGIN_TRACE_EMIT_H

#include "lib/common.h"
#include "traces.h"

const volatile __u64 records_per_second[TRACE_KINDS] = {}; /* 0: no limit */
const volatile __u64 only_cgroup_id = 0;                   /* 0: every cgroup */
const volatile __u32 plugin_tgid = 0;                      /* the plugin's own calls are left out */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* [traces] ring buffer size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_COUNT_ROWS * TRACE_OUTCOMES);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACE_KINDS);
	__type(key, __u32);
	__type(value, struct trace_window);
} windows SEC(".maps");

/* Syscalls in progress, by thread: bounded, the oldest goes first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct traced_event);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct traced_event);
} scratch SEC(".maps");

/* malloc's size (or calloc's product) between entry and return, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct trace_malloc);
} allocating SEC(".maps");

static __always_inline void count(__u32 row, __u32 outcome)
{
	__u32 index = row * TRACE_OUTCOMES + outcome;
	__u64 *value = bpf_map_lookup_elem(&counts, &index);

	if (value)
		*value += 1;
}

static __always_inline bool traced(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) == plugin_tgid)
		return false;
	return !only_cgroup_id || bpf_get_current_cgroup_id() == only_cgroup_id;
}

/* The rate limit: at most records_per_second[kind] per second of
 * CLOCK_MONOTONIC. Two CPUs starting a second at once may both reset it: a
 * few more pass then, each still counted once. The add's result is not used:
 * a fetching atomic needs 5.12 (5.10 refuses the object: "BPF_STX uses
 * reserved fields"); read after the add, two CPUs racing at the limit may
 * both be refused, never both let through. */
static __always_inline bool within_rate(__u32 kind, __u64 now)
{
	__u64 limit = kind < TRACE_KINDS ? records_per_second[kind] : 0;

	if (!limit)
		return true;
	struct trace_window *window = bpf_map_lookup_elem(&windows, &kind);
	if (!window)
		return true;
	__u64 second = now / 1000000000;
	if (window->second != second) {
		window->second = second;
		window->events = 0;
	}
	__sync_fetch_and_add(&window->events, 1);
	return window->events <= limit;
}

static __always_inline void fill_header(struct traced_event *event, __u32 kind)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	event->time_ns = bpf_ktime_get_ns();
	event->cgroup_id = bpf_get_current_cgroup_id();
	event->kind = kind;
	event->pid = pid_tgid >> 32;
	event->tid = (__u32)pid_tgid;
	event->uid = (__u32)uid_gid;
	event->gid = uid_gid >> 32;
	event->padding = 0;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
}

/* A zeroed event of `kind` with its header, in this CPU's scratch space. */
static __always_inline struct traced_event *begin(__u32 kind)
{
	__u32 zero = 0;
	struct traced_event *event = bpf_map_lookup_elem(&scratch, &zero);

	if (!event)
		return NULL;
	__builtin_memset(&event->exec, 0, sizeof(event->exec));
	fill_header(event, kind);
	return event;
}

/* Counted in `row` of `counts` (the trace's, or TRACE_EXEC_ENTER_ROW). */
static __always_inline void submit(struct traced_event *event, __u64 size, __u32 row)
{
	if (!within_rate(event->kind, event->time_ns))
		count(row, TRACE_RATE_LIMITED);
	else if (bpf_ringbuf_output(&events, event, size, 0))
		count(row, TRACE_RING_FULL);
	else
		count(row, TRACE_EMITTED);
}

#define SUBMIT(event, member) submit(event, TRACE_HEADER_SIZE + sizeof((event)->member), (event)->kind)

static __always_inline void save_pending(struct traced_event *event)
{
	__u32 tid = event->tid;

	bpf_map_update_elem(&pending, &tid, event, BPF_ANY);
}

/* The pending event of this thread, of `kind`, completed by its exit: time
 * and comm are the exit's (a successful exec's comm is the new program's). */
static __always_inline struct traced_event *finish_pending(__u32 kind, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct traced_event *event = bpf_map_lookup_elem(&pending, &tid);

	if (!event || event->kind != kind)
		return NULL;
	event->time_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	return event;
}

static __always_inline void forget_pending(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&pending, &tid);
}

static __always_inline __s32 error_of(long ret)
{
	return ret < 0 ? (__s32)-ret : 0;
}

#endif
