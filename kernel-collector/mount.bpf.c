/* mount module: calls to mount(2) and umount2(2) and their failures, counted
 * at the return, where the error is known (both charts in either load mode, as
 * upstream). Three program sets count the same calls; user space autoloads one:
 *   trampoline  fexit on __x64_sys_mount, __x64_sys_umount
 *   kprobe      kretprobe on the same functions
 *   tracepoint  syscalls/sys_exit_mount, sys_exit_umount */
#include "lib/common.h"
#include "lib/current_task.h"
#include "mount.h"

#define ACCOUNTING_COUNTERS MOUNT_COUNTERS
typedef struct mount_value table_value_t;
typedef struct mount_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

/* the syscalls return 0 or -errno in a long */
static __always_inline void count_mount(__u32 call, __u32 error, long ret)
{
	struct counter_change changes[] = {{call, 1}, {error, ret < 0}};

	account_changes(current_task(), TASK_CURRENT, changes, 2, false);
}

#define MOUNT_PROGRAMS(syscall, kind)                                             \
	SEC("fexit/__x64_sys_" #syscall)                                        \
	int fexit_##syscall(__u64 *ctx)                                         \
	{                                                                       \
		__u64 ret = 0;                                                  \
		bpf_get_func_ret(ctx, &ret);                                    \
		count_mount(MOUNT_##kind##_CALL, MOUNT_##kind##_ERROR, (long)ret); \
		return 0;                                                       \
	}                                                                       \
	SEC("kretprobe/__x64_sys_" #syscall)                                    \
	int BPF_KRETPROBE(kretprobe_##syscall, long ret)                        \
	{                                                                       \
		count_mount(MOUNT_##kind##_CALL, MOUNT_##kind##_ERROR, ret);    \
		return 0;                                                       \
	}                                                                       \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                           \
	int tp_sys_exit_##syscall(struct trace_event_raw_sys_exit *ctx)         \
	{                                                                       \
		count_mount(MOUNT_##kind##_CALL, MOUNT_##kind##_ERROR, ctx->ret); \
		return 0;                                                       \
	}

MOUNT_PROGRAMS(mount, MOUNT)
MOUNT_PROGRAMS(umount, UMOUNT)
