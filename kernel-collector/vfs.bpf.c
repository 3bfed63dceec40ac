/* vfs module: calls into the kernel's VFS layer and the bytes they moved.
 * Three program sets count the same calls; user space autoloads one:
 *   trampoline  fexit on vfs_read, vfs_readv, vfs_write, vfs_writev (bytes
 *               need the return value, in both modes); fentry (entry mode)
 *               or fexit (return mode) on vfs_unlink, vfs_rmdir, vfs_open,
 *               vfs_create, and the fsync and fdatasync syscalls: 7.2
 *               inlines vfs_fsync and vfs_fsync_range into do_fsync
 *   kprobe      kretprobe / kprobe on the same functions
 *   tracepoint  the exits of the syscalls that reach those functions
 * Return values come from bpf_get_func_ret (fexit) or the return register
 * (kretprobe): no program depends on a function's argument list, which
 * changed across versions (idmaps, delegated inodes). */
#include "lib/common.h"
#include "lib/current_task.h"
#include "vfs.h"

#define ACCOUNTING_COUNTERS VFS_COUNTERS
typedef struct vfs_value table_value_t;
typedef struct vfs_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT 00170000
#define S_IFREG 0100000

/* A read or write: the call, its failure, the bytes it moved. ssize_t return. */
static __always_inline void count_io(__u32 call, __u32 error, __u32 bytes, long ret)
{
	struct counter_change changes[] = {
		{call, 1},
		{error, ret < 0},
		{bytes, ret > 0 ? ret : 0},
	};

	account_changes(current_task(), TASK_CURRENT, changes, 3, false);
}

/* Any other call: 0 or -errno (in an int, or a long for the syscalls). */
static __always_inline void count_call(__u32 call, __u32 error, int ret)
{
	struct counter_change changes[] = {{call, 1}, {error, ret < 0}};

	account_changes(current_task(), TASK_CURRENT, changes, 2, false);
}

ACCOUNTING_LIFECYCLE_PROGRAMS

/* ---- trampoline ---- */

static __always_inline long function_result(void *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return (long)ret;
}

#define FEXIT_IO_PROGRAM(function, kind)                                          \
	SEC("fexit/" #function)                                                 \
	int fexit_##function(__u64 *ctx)                                        \
	{                                                                       \
		count_io(VFS_##kind##_CALL, VFS_##kind##_ERROR, VFS_##kind##_BYTES, \
			 function_result(ctx));                                 \
		return 0;                                                       \
	}

#define TRAMPOLINE_CALL_PROGRAMS(function, kind)                                  \
	SEC("fentry/" #function)                                                \
	int fentry_##function(__u64 *ctx)                                       \
	{                                                                       \
		count_call(VFS_##kind##_CALL, VFS_##kind##_ERROR, 0);           \
		return 0;                                                       \
	}                                                                       \
	SEC("fexit/" #function)                                                 \
	int fexit_##function(__u64 *ctx)                                        \
	{                                                                       \
		count_call(VFS_##kind##_CALL, VFS_##kind##_ERROR,               \
			   (int)function_result(ctx));                          \
		return 0;                                                       \
	}

FEXIT_IO_PROGRAM(vfs_read, READ)
FEXIT_IO_PROGRAM(vfs_readv, READ)
FEXIT_IO_PROGRAM(vfs_write, WRITE)
FEXIT_IO_PROGRAM(vfs_writev, WRITE)
TRAMPOLINE_CALL_PROGRAMS(vfs_unlink, UNLINK)
TRAMPOLINE_CALL_PROGRAMS(vfs_rmdir, UNLINK)
TRAMPOLINE_CALL_PROGRAMS(__x64_sys_fsync, FSYNC)
TRAMPOLINE_CALL_PROGRAMS(__x64_sys_fdatasync, FSYNC)
TRAMPOLINE_CALL_PROGRAMS(vfs_open, OPEN)
TRAMPOLINE_CALL_PROGRAMS(vfs_create, CREATE)

/* ---- kprobe ---- */

#define KRETPROBE_IO_PROGRAM(function, kind)                                      \
	SEC("kretprobe/" #function)                                             \
	int BPF_KRETPROBE(kretprobe_##function, long ret)                       \
	{                                                                       \
		count_io(VFS_##kind##_CALL, VFS_##kind##_ERROR, VFS_##kind##_BYTES, ret); \
		return 0;                                                       \
	}

/* the functions return int: the upper half of the register is not part of it */
#define KPROBE_CALL_PROGRAMS(function, kind)                                      \
	SEC("kprobe/" #function)                                                \
	int BPF_KPROBE(kprobe_##function)                                       \
	{                                                                       \
		count_call(VFS_##kind##_CALL, VFS_##kind##_ERROR, 0);           \
		return 0;                                                       \
	}                                                                       \
	SEC("kretprobe/" #function)                                             \
	int BPF_KRETPROBE(kretprobe_##function, long ret)                       \
	{                                                                       \
		count_call(VFS_##kind##_CALL, VFS_##kind##_ERROR, (int)ret);    \
		return 0;                                                       \
	}

KRETPROBE_IO_PROGRAM(vfs_read, READ)
KRETPROBE_IO_PROGRAM(vfs_readv, READ)
KRETPROBE_IO_PROGRAM(vfs_write, WRITE)
KRETPROBE_IO_PROGRAM(vfs_writev, WRITE)
KPROBE_CALL_PROGRAMS(vfs_unlink, UNLINK)
KPROBE_CALL_PROGRAMS(vfs_rmdir, UNLINK)
KPROBE_CALL_PROGRAMS(__x64_sys_fsync, FSYNC)
KPROBE_CALL_PROGRAMS(__x64_sys_fdatasync, FSYNC)
KPROBE_CALL_PROGRAMS(vfs_open, OPEN)
KPROBE_CALL_PROGRAMS(vfs_create, CREATE)

/* ---- tracepoint ---- */

#define SYSCALL_IO_PROGRAM(syscall, kind)                                         \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                           \
	int tp_sys_exit_##syscall(struct trace_event_raw_sys_exit *ctx)         \
	{                                                                       \
		count_io(VFS_##kind##_CALL, VFS_##kind##_ERROR, VFS_##kind##_BYTES, ctx->ret); \
		return 0;                                                       \
	}

#define SYSCALL_CALL_PROGRAM(syscall, kind)                                       \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                           \
	int tp_sys_exit_##syscall(struct trace_event_raw_sys_exit *ctx)         \
	{                                                                       \
		count_call(VFS_##kind##_CALL, VFS_##kind##_ERROR, ctx->ret < 0 ? -1 : 0); \
		return 0;                                                       \
	}

SYSCALL_IO_PROGRAM(read, READ)
SYSCALL_IO_PROGRAM(pread64, READ)
SYSCALL_IO_PROGRAM(readv, READ)
SYSCALL_IO_PROGRAM(preadv, READ)
SYSCALL_IO_PROGRAM(preadv2, READ)
SYSCALL_IO_PROGRAM(write, WRITE)
SYSCALL_IO_PROGRAM(pwrite64, WRITE)
SYSCALL_IO_PROGRAM(writev, WRITE)
SYSCALL_IO_PROGRAM(pwritev, WRITE)
SYSCALL_IO_PROGRAM(pwritev2, WRITE)
SYSCALL_CALL_PROGRAM(unlink, UNLINK)
SYSCALL_CALL_PROGRAM(unlinkat, UNLINK)
SYSCALL_CALL_PROGRAM(rmdir, UNLINK)
SYSCALL_CALL_PROGRAM(fsync, FSYNC)
SYSCALL_CALL_PROGRAM(fdatasync, FSYNC)
SYSCALL_CALL_PROGRAM(open, OPEN)
SYSCALL_CALL_PROGRAM(openat, OPEN)
SYSCALL_CALL_PROGRAM(openat2, OPEN)
SYSCALL_CALL_PROGRAM(creat, OPEN)

/* vfs_create is reached by mknod(at) of a regular file only (an open with
 * O_CREAT creates through the directory's inode operation directly): the
 * entry keeps, per thread, that this mknod creates a regular file. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} regular_mknod_in_flight SEC(".maps");

static __always_inline void keep_regular_mknod(__u64 mode)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u8 yes = 1;
	__u64 type = mode & S_IFMT;

	if (type == 0 || type == S_IFREG)
		bpf_map_update_elem(&regular_mknod_in_flight, &id, &yes, BPF_ANY);
}

static __always_inline void count_regular_mknod(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&regular_mknod_in_flight, &id))
		return;
	bpf_map_delete_elem(&regular_mknod_in_flight, &id);
	count_call(VFS_CREATE_CALL, VFS_CREATE_ERROR, ret < 0 ? -1 : 0);
}

SEC("tracepoint/syscalls/sys_enter_mknod")
int tp_sys_enter_mknod(struct trace_event_raw_sys_enter *ctx)
{
	keep_regular_mknod(ctx->args[1]); /* (filename, mode, dev) */
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mknodat")
int tp_sys_enter_mknodat(struct trace_event_raw_sys_enter *ctx)
{
	keep_regular_mknod(ctx->args[2]); /* (dfd, filename, mode, dev) */
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mknod")
int tp_sys_exit_mknod(struct trace_event_raw_sys_exit *ctx)
{
	count_regular_mknod(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mknodat")
int tp_sys_exit_mknodat(struct trace_event_raw_sys_exit *ctx)
{
	count_regular_mknod(ctx->ret);
	return 0;
}
