/* mdflush module: flush requests per md (software RAID) device, counted at
 * md_flush_request(mddev, bio), keyed by the md device's minor as upstream.
 * md_flush_request is in md_mod and has no tracepoint:
 *   trampoline  fentry (needs md_mod's BTF)
 *   kprobe      kprobe
 * The device is read from the bio (vmlinux types only), not from struct
 * mddev, which only md_mod's BTF describes: the kprobe path works where
 * md_mod has no BTF. */
#include "lib/common.h"
#include "mdflush.h"

char LICENSE[] SEC("license") = "GPL";

/* md minor -> flush requests */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MDFLUSH_MAX_DEVICES);
	__type(key, __u32);
	__type(value, __u64);
} md_flushes SEC(".maps");

/* before 5.12 a bio named its disk directly */
struct bio___old {
	struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *bio_disk(struct bio *bio)
{
	struct bio___old *old = (void *)bio;

	if (bpf_core_field_exists(old->bi_disk))
		return BPF_CORE_READ(old, bi_disk);
	return BPF_CORE_READ(bio, bi_bdev, bd_disk);
}

static __always_inline void count_flush(struct bio *bio)
{
	struct gendisk *disk = bio_disk(bio);
	__u64 zero = 0, *count;
	__u32 minor;

	if (!disk)
		return;
	minor = BPF_CORE_READ(disk, first_minor);
	count = bpf_map_lookup_elem(&md_flushes, &minor);
	if (!count) {
		bpf_map_update_elem(&md_flushes, &minor, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&md_flushes, &minor);
	}
	if (count)
		*count += 1;
}

SEC("fentry/md_flush_request")
int BPF_PROG(fentry_md_flush_request, void *mddev, struct bio *bio)
{
	count_flush(bio);
	return 0;
}

SEC("kprobe/md_flush_request")
int BPF_KPROBE(kprobe_md_flush_request, void *mddev, struct bio *bio)
{
	count_flush(bio);
	return 0;
}
