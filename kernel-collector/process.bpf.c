/* process module: task creation, exit and release.
 * Three program sets count the same events; user space autoloads one:
 *   trampoline  fentry/fexit on kernel_clone, do_exit, release_task
 *   kprobe      kprobe/kretprobe on the same functions
 *   tracepoint  task_newtask, sched_process_exit, sched_process_free,
 *               and the clone-family syscall exits for errors
 * Creations are counted for the caller; exits and releases for the task that
 * exits or is released. */
#include "lib/common.h"
#include "lib/current_task.h"
#include "process.h"

#define ACCOUNTING_COUNTERS PROCESS_COUNTERS
typedef struct process_value table_value_t;
typedef struct process_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void count_creation(__u64 clone_flags, long result)
{
	bool thread = clone_flags & CLONE_THREAD;
	__u32 index;

	if (result < 0)
		index = thread ? PROCESS_THREAD_ERROR : PROCESS_PROCESS_ERROR;
	else
		index = thread ? PROCESS_CREATE_THREAD : PROCESS_CREATE_PROCESS;
	account(current_task(), TASK_CURRENT, index, false);
}

/* Exits and releases can come after the process core saw the thread group
 * die (a release comes after an RCU grace period on the tracepoint path):
 * user space reads such late entries once more before removing them. */
static __always_inline void count_exit(struct task_struct *task, enum task_access access)
{
	account(task, access, PROCESS_EXIT_TASK, true);
}

static __always_inline void count_release(struct task_struct *task, enum task_access access)
{
	account(task, access, PROCESS_RELEASE_TASK, true);
}

/* ---- trampoline ---- */

SEC("fentry/kernel_clone")
int BPF_PROG(fentry_kernel_clone, struct kernel_clone_args *args)
{
	count_creation(args->flags, 0);
	return 0;
}

SEC("fexit/kernel_clone")
int BPF_PROG(fexit_kernel_clone, struct kernel_clone_args *args, pid_t ret)
{
	count_creation(args->flags, ret);
	return 0;
}

SEC("fentry/do_exit")
int BPF_PROG(fentry_do_exit, long code)
{
	count_exit(current_task(), TASK_CURRENT);
	return 0;
}

SEC("fentry/release_task")
int BPF_PROG(fentry_release_task, struct task_struct *task)
{
	count_release(task, TASK_BTF);
	return 0;
}

/* ---- kprobe ---- */

/* kretprobe cannot see the arguments: the entry probe keeps the flags per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} clone_flags_in_flight SEC(".maps");

SEC("kprobe/kernel_clone")
int BPF_KPROBE(kprobe_kernel_clone, struct kernel_clone_args *args)
{
	count_creation(BPF_CORE_READ(args, flags), 0);
	return 0;
}

SEC("kprobe/kernel_clone")
int BPF_KPROBE(kprobe_kernel_clone_keep_flags, struct kernel_clone_args *args)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 flags = BPF_CORE_READ(args, flags);

	bpf_map_update_elem(&clone_flags_in_flight, &id, &flags, BPF_ANY);
	return 0;
}

SEC("kretprobe/kernel_clone")
int BPF_KRETPROBE(kretprobe_kernel_clone, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *flags = bpf_map_lookup_elem(&clone_flags_in_flight, &id);

	/* Every return here is the caller's (the child starts in
	 * ret_from_fork); kernel_clone returns a pid_t, so only the lower half
	 * of the register is the value. */
	count_creation(flags ? *flags : 0, (int)ret);
	bpf_map_delete_elem(&clone_flags_in_flight, &id);
	return 0;
}

SEC("kprobe/do_exit")
int BPF_KPROBE(kprobe_do_exit, long code)
{
	count_exit(current_task(), TASK_CURRENT);
	return 0;
}

SEC("kprobe/release_task")
int BPF_KPROBE(kprobe_release_task, struct task_struct *task)
{
	count_release(task, TASK_PROBE_READ);
	return 0;
}

/* ---- tracepoint ---- */

SEC("tp_btf/task_newtask")
int BPF_PROG(tp_task_newtask, struct task_struct *task, __u64 clone_flags)
{
	count_creation(clone_flags, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_sched_process_exit, struct task_struct *task)
{
	count_exit(task, TASK_BTF);
	return 0;
}

/* sched_process_free fires once per release_task, after an RCU grace period. */
SEC("tp_btf/sched_process_free")
int BPF_PROG(tp_sched_process_free, struct task_struct *task)
{
	count_release(task, TASK_BTF);
	return 0;
}

/* Failed creations never reach task_newtask: count them at the syscall exit,
 * with the flags kept at its entry. */
SEC("tracepoint/syscalls/sys_enter_clone")
int tp_sys_enter_clone(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 flags = ctx->args[0];

	bpf_map_update_elem(&clone_flags_in_flight, &id, &flags, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int tp_sys_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 flags = 0;

	/* struct clone_args starts with the u64 flags */
	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[0]);
	bpf_map_update_elem(&clone_flags_in_flight, &id, &flags, BPF_ANY);
	return 0;
}

static __always_inline void count_creation_error(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *flags = bpf_map_lookup_elem(&clone_flags_in_flight, &id);

	if (ret < 0)
		count_creation(flags ? *flags : 0, ret);
	if (flags)
		bpf_map_delete_elem(&clone_flags_in_flight, &id);
}

#define CREATION_ERROR_PROGRAM(syscall)                                     \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                       \
	int tp_sys_exit_##syscall(struct trace_event_raw_sys_exit *ctx)     \
	{                                                                   \
		count_creation_error(ctx->ret);                             \
		return 0;                                                   \
	}

CREATION_ERROR_PROGRAM(clone)
CREATION_ERROR_PROGRAM(clone3)
CREATION_ERROR_PROGRAM(fork)
CREATION_ERROR_PROGRAM(vfork)
