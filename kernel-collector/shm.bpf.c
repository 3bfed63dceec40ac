/* shm module: calls to shmget(2), shmat(2), shmdt(2) and shmctl(2), counted at
 * their entry. Three program sets count the same calls; user space autoloads
 * one and leaves out the syscalls that shm.conf's [syscalls] turns off:
 *   trampoline  fentry on the syscall functions (__x64_sys_*, else ksys_*),
 *               retargeted from user space
 *   kprobe      kprobe on the same functions
 *   tracepoint  syscalls/sys_enter_* */
#include "lib/common.h"
#include "lib/current_task.h"
#include "shm.h"

#define ACCOUNTING_COUNTERS SHM_COUNTERS
typedef struct shm_value table_value_t;
typedef struct shm_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void count_shm_call(__u32 counter)
{
	account(current_task(), TASK_CURRENT, counter, false);
}

/* The section names a placeholder target: user space sets the real one. */
#define SHM_PROGRAMS(syscall, counter)                                            \
	SEC("fentry/__x64_sys_" #syscall)                                       \
	int fentry_##syscall(__u64 *ctx)                                        \
	{                                                                       \
		count_shm_call(counter);                                        \
		return 0;                                                       \
	}                                                                       \
	SEC("kprobe/__x64_sys_" #syscall)                                       \
	int BPF_KPROBE(kprobe_##syscall)                                        \
	{                                                                       \
		count_shm_call(counter);                                        \
		return 0;                                                       \
	}                                                                       \
	SEC("tracepoint/syscalls/sys_enter_" #syscall)                          \
	int tp_sys_enter_##syscall(struct trace_event_raw_sys_enter *ctx)       \
	{                                                                       \
		count_shm_call(counter);                                        \
		return 0;                                                       \
	}

SHM_PROGRAMS(shmget, SHM_SHMGET_CALL)
SHM_PROGRAMS(shmat, SHM_SHMAT_CALL)
SHM_PROGRAMS(shmdt, SHM_SHMDT_CALL)
SHM_PROGRAMS(shmctl, SHM_SHMCTL_CALL)
