/* sync module: calls to sync(2), syncfs(2), msync(2), fsync(2), fdatasync(2)
 * and sync_file_range(2), counted at their entry. Three program sets count the
 * same calls; user space autoloads one and leaves out the syscalls that
 * sync.conf's [syscalls] turns off:
 *   trampoline  fentry on the syscall functions (__x64_sys_*; ksys_sync where
 *               BTF has no __x64_sys_sync), retargeted from user space
 *   kprobe      kprobe on the same functions
 *   tracepoint  syscalls/sys_enter_* */
#include "lib/common.h"
#include "lib/current_task.h"
#include "sync.h"

#define ACCOUNTING_COUNTERS SYNC_COUNTERS
typedef struct sync_value table_value_t;
typedef struct sync_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void count_sync_call(__u32 counter)
{
	account(current_task(), TASK_CURRENT, counter, false);
}

/* The section names a placeholder target: user space sets the real one. */
#define SYNC_PROGRAMS(syscall, counter)                                           \
	SEC("fentry/__x64_sys_" #syscall)                                       \
	int fentry_##syscall(__u64 *ctx)                                        \
	{                                                                       \
		count_sync_call(counter);                                       \
		return 0;                                                       \
	}                                                                       \
	SEC("kprobe/__x64_sys_" #syscall)                                       \
	int BPF_KPROBE(kprobe_##syscall)                                        \
	{                                                                       \
		count_sync_call(counter);                                       \
		return 0;                                                       \
	}                                                                       \
	SEC("tracepoint/syscalls/sys_enter_" #syscall)                          \
	int tp_sys_enter_##syscall(struct trace_event_raw_sys_enter *ctx)       \
	{                                                                       \
		count_sync_call(counter);                                       \
		return 0;                                                       \
	}

SYNC_PROGRAMS(sync, SYNC_SYNC_CALL)
SYNC_PROGRAMS(syncfs, SYNC_SYNCFS_CALL)
SYNC_PROGRAMS(msync, SYNC_MSYNC_CALL)
SYNC_PROGRAMS(fsync, SYNC_FSYNC_CALL)
SYNC_PROGRAMS(fdatasync, SYNC_FDATASYNC_CALL)
SYNC_PROGRAMS(sync_file_range, SYNC_SYNC_FILE_RANGE_CALL)
