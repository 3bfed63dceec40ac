/* oomkill module: OOM kills, counted for the victim (its process, app group
 * and cgroup), at the tracepoint upstream uses, oom/mark_victim, on every
 * kernel. The tracepoint gives the victim's thread id only (its BTF arguments
 * changed in 6.8); the victim is often not the task that ran out of memory,
 * so an OOM kill is counted either at once, when the current task is the
 * victim, or when the victim is freed. Not at its exit: a task already
 * exiting can be chosen (it still holds its memory), and since 6.16 its
 * sched_process_exit comes before it lets go of that memory, so the exit was
 * already gone by when it was marked (a kill missed now and then on 7.2). */
#include "lib/common.h"
#include "lib/current_task.h"
#include "oomkill.h"

#define ACCOUNTING_COUNTERS OOMKILL_COUNTERS
typedef struct oomkill_value table_value_t;
typedef struct oomkill_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

/* victims (thread ids) not counted yet */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} victims SEC(".maps");

SEC("tracepoint/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u32 victim = ctx->pid;
	__u8 yes = 1;

	if ((__u32)bpf_get_current_pid_tgid() == victim)
		account(current_task(), TASK_CURRENT, OOMKILL_KILLS, false);
	else
		bpf_map_update_elem(&victims, &victim, &yes, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(victim_free, struct task_struct *task)
{
	__u32 thread = BPF_CORE_READ(task, pid);

	if (bpf_map_delete_elem(&victims, &thread) == 0)
		account(task, TASK_PROBE_READ, OOMKILL_KILLS, true);
	return 0;
}
