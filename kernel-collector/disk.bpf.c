/* disk module: block request latency, issue to completion, as a histogram per
 * disk (block:block_rq_issue / block_rq_complete as tp_btf). Start times are
 * keyed by the request; a request is counted once, at its first completion
 * (a request completed in parts fires block_rq_complete per part).
 * Tracepoint path only, as upstream. */
#include "lib/common.h"
#include "disk.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, DISK_MAX * LATENCY_BINS);
	__type(key, struct disk_bin_key);
	__type(value, __u64);
} disk_latency SEC(".maps");

/* request -> issue time */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} issued SEC(".maps");

/* 5.17 moved rq_disk out of struct request; q->disk exists since 5.15. */
struct request___old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *request_disk(struct request *rq)
{
	struct request___old *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return BPF_CORE_READ(old, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

static __always_inline void mark_issued(struct request *rq)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();

	bpf_map_update_elem(&issued, &key, &now, BPF_ANY);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(tp_block_rq_issue, struct request *rq)
{
	mark_issued(rq);
	return 0;
}

/* before 5.11 the tracepoint also passed the queue first */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(tp_block_rq_issue_with_queue, struct request_queue *q, struct request *rq)
{
	mark_issued(rq);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(tp_block_rq_complete, struct request *rq)
{
	__u64 key = (__u64)rq, *start, elapsed, zero = 0, *count;
	struct gendisk *disk;
	struct disk_bin_key bin = {};

	start = bpf_map_lookup_elem(&issued, &key);
	if (!start)
		return 0;
	elapsed = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&issued, &key);
	disk = request_disk(rq);
	if (!disk)
		return 0;
	bin.dev = ((__u32)BPF_CORE_READ(disk, major) << 20) | (__u32)BPF_CORE_READ(disk, first_minor);
	bin.bin = latency_bin(elapsed);
	count = bpf_map_lookup_elem(&disk_latency, &bin);
	if (!count) {
		bpf_map_update_elem(&disk_latency, &bin, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&disk_latency, &bin);
	}
	if (count)
		*count += 1;
	return 0;
}
