/* filesystem module: latency of the read, write, open and sync (nfs:
 * getattr) functions of ext4, xfs, nfs, zfs and btrfs, as histograms
 * (upstream's ext4dist, xfsdist, ...). These functions have no tracepoints:
 *   trampoline  fentry + fexit on each function
 *   kprobe      kprobe + kretprobe on each function
 * User space loads the programs of the filesystems this kernel has. The
 * start time is keyed by thread: these calls do not nest within a thread. */
#include "lib/common.h"
#include "filesystem.h"

char LICENSE[] SEC("license") = "GPL";

/* (kind * FS_OPERATIONS + operation) * LATENCY_BINS + bin -> calls */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fs_latency SEC(".maps");

/* thread -> entry time */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} entered SEC(".maps");

static __always_inline void fs_enter(void)
{
	__u64 thread = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();

	bpf_map_update_elem(&entered, &thread, &now, BPF_ANY);
}

static __always_inline void fs_return(__u32 kind, __u32 operation)
{
	__u64 thread = bpf_get_current_pid_tgid(), *start, elapsed, *count;
	__u32 slot;

	start = bpf_map_lookup_elem(&entered, &thread);
	if (!start)
		return;
	elapsed = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&entered, &thread);
	slot = (kind * FS_OPERATIONS + operation) * LATENCY_BINS + latency_bin(elapsed);
	count = bpf_map_lookup_elem(&fs_latency, &slot);
	if (count)
		*count += 1;
}

#define FS_PROGRAMS(function, kind, operation)                \
	SEC("fentry/" #function)                              \
	int fentry_##function(__u64 *ctx)                     \
	{                                                     \
		fs_enter();                                   \
		return 0;                                     \
	}                                                     \
	SEC("fexit/" #function)                               \
	int fexit_##function(__u64 *ctx)                      \
	{                                                     \
		fs_return(kind, operation);                   \
		return 0;                                     \
	}                                                     \
	SEC("kprobe/" #function)                              \
	int BPF_KPROBE(kprobe_##function)                     \
	{                                                     \
		fs_enter();                                   \
		return 0;                                     \
	}                                                     \
	SEC("kretprobe/" #function)                           \
	int BPF_KRETPROBE(kretprobe_##function)               \
	{                                                     \
		fs_return(kind, operation);                   \
		return 0;                                     \
	}

FS_PROGRAMS(ext4_file_read_iter, FS_EXT4, FS_READ)
FS_PROGRAMS(ext4_file_write_iter, FS_EXT4, FS_WRITE)
FS_PROGRAMS(ext4_file_open, FS_EXT4, FS_OPEN)
FS_PROGRAMS(ext4_sync_file, FS_EXT4, FS_SYNC)
FS_PROGRAMS(xfs_file_read_iter, FS_XFS, FS_READ)
FS_PROGRAMS(xfs_file_write_iter, FS_XFS, FS_WRITE)
FS_PROGRAMS(xfs_file_open, FS_XFS, FS_OPEN)
FS_PROGRAMS(xfs_file_fsync, FS_XFS, FS_SYNC)
FS_PROGRAMS(nfs_file_read, FS_NFS, FS_READ)
FS_PROGRAMS(nfs_file_write, FS_NFS, FS_WRITE)
FS_PROGRAMS(nfs_file_open, FS_NFS, FS_OPEN)
FS_PROGRAMS(nfs_getattr, FS_NFS, FS_SYNC)
FS_PROGRAMS(zpl_iter_read, FS_ZFS, FS_READ)
FS_PROGRAMS(zpl_iter_write, FS_ZFS, FS_WRITE)
FS_PROGRAMS(zpl_open, FS_ZFS, FS_OPEN)
FS_PROGRAMS(zpl_fsync, FS_ZFS, FS_SYNC)
FS_PROGRAMS(btrfs_file_read_iter, FS_BTRFS, FS_READ)
FS_PROGRAMS(btrfs_file_write_iter, FS_BTRFS, FS_WRITE)
FS_PROGRAMS(btrfs_file_open, FS_BTRFS, FS_OPEN)
FS_PROGRAMS(btrfs_sync_file, FS_BTRFS, FS_SYNC)
