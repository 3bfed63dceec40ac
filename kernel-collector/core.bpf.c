/* The process core: one set of life-cycle programs for the whole plugin,
 * however many modules run. Who a process is (struct task_identity) is kept
 * once: in its slot (lib/process_slots.h) when it took one at fork, else in
 * process_table; created at fork with the real parent, rewritten at exec,
 * marked at exit once the whole thread group is gone. User space reads
 * new entries in creation order (start_ns), so a process is grouped by its
 * lineage even when its parent is gone before the plugin looks, and removes
 * an entry with the modules' entries of that process one cycle after its exit.
 * Only BTF tracepoints: the same programs on every kernel from 5.10 on, and
 * nothing beyond 5.10's helpers (no task_btf helper); the slots' one atomic
 * compare-and-swap (5.12) is in core_fork_slots only. */
#include "lib/common.h"
#include "lib/table_value.h"
#include "lib/active_pids.h"
#include "lib/process_slots.h"

char LICENSE[] SEC("license") = "GPL";

/* Shared by all CPUs: only the life-cycle programs write it, once per fork,
 * exec and exit. Preallocated, like the modules' pid tables. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct task_identity);
} process_table SEC(".maps");

/* inserts into process_table refused because it was full */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} core_table_full SEC(".maps");

/* The tracepoints hand over trusted task pointers (BTF): fields are loaded
 * directly, without a probe-read helper call each. The comm array too, as two
 * 8-byte loads: the kernel keeps its NUL within the 16 bytes. */
static __always_inline void copy_comm(char *to, struct task_struct *task)
{
	const __u64 *from = (const __u64 *)task->comm;
	__u64 *words = (__u64 *)to;

	words[0] = from[0];
	words[1] = from[1];
}

static __always_inline void read_identity(struct task_identity *id, struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;

	bpf_probe_read_kernel_str(&id->comm, sizeof(id->comm), leader->comm);
	id->ppid = task->real_parent->tgid;
	id->start_ns = leader->start_time;
	id->identity_ns = bpf_ktime_get_ns();
}

/* A whole new value: readers see the old identity or the new one, never half. */
static __always_inline void store_identity(__u32 tgid, const struct task_identity *id)
{
	if (bpf_map_update_elem(&process_table, &tgid, id, BPF_ANY)) {
		__u32 zero = 0;
		__u64 *full = bpf_map_lookup_elem(&core_table_full, &zero);
		if (full)
			__sync_fetch_and_add(full, 1);
		return;
	}
	mark_active(tgid);
}

/* A slot is a hash insert saved at fork, and a lookup saved at every later
 * event of the process in every module. Claimed hidden (SLOT_TAKING), written,
 * then published: user space and the modules see it only whole. */
static __always_inline bool record_in_slot(struct task_struct *task, __u32 tgid)
{
	__u32 index;

	if (!slot_count)
		return false;
	index = tgid % slot_count;
	struct task_slot *slot = bpf_map_lookup_elem(&process_slots, &index);
	if (!slot || __sync_val_compare_and_swap(&slot->owner, 0, tgid | SLOT_TAKING) != 0)
		return false;
	struct task_struct *leader = task->group_leader;
	copy_comm(slot->identity.comm, leader);
	slot->identity.ppid = task->real_parent->tgid;
	slot->identity.exited = 0;
	slot->identity.start_ns = leader->start_time;
	slot->identity.identity_ns = leader->start_time; /* see core_exec */
	/* x86: stores are seen in program order, so the identity before the owner */
	WRITE_ONCE(slot->owner, tgid);
	mark_active(tgid);
	return true;
}

static __always_inline void record_process(struct task_struct *task, __u32 exited)
{
	struct task_identity id = {};

	read_identity(&id, task);
	id.exited = exited;
	store_identity(task->tgid, &id);
}

/* A new process (not a thread): its comm is its parent's until it execs. */
static __always_inline void on_fork(struct task_struct *child, bool slots)
{
	if (child->pid == child->tgid && !(slots && record_in_slot(child, child->tgid)))
		record_process(child, 0);
}

/* Two variants: 5.10 refuses the compare-and-swap of a slot claim even where
 * it cannot be reached, so user space loads core_fork_slots where the kernel
 * takes it and core_fork (process_table only) elsewhere. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(core_fork_slots, struct task_struct *parent, struct task_struct *child)
{
	on_fork(child, true);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(core_fork, struct task_struct *parent, struct task_struct *child)
{
	on_fork(child, false);
	return 0;
}

/* A new name; the parent stays the one seen at fork: by now the process may
 * have been handed to a reaper, and its group comes from who started it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(core_exec, struct task_struct *task)
{
	__u32 tgid = task->tgid, index;
	struct task_slot *slot = owned_slot(tgid, &index);
	if (slot) {
		/* In place, between two increments of seq: user space retries
		 * a read that saw seq odd or changed, and counts the execs from
		 * it (identity_ns stays the start: no clock read here). One
		 * exec at a time per process (cred_guard_mutex): plain
		 * increments; x86 keeps the stores in program order. */
		WRITE_ONCE(slot->seq, slot->seq + 1);
		copy_comm(slot->identity.comm, task->group_leader);
		WRITE_ONCE(slot->seq, slot->seq + 1);
		mark_active(tgid);
		return 0;
	}
	struct task_identity *entry = bpf_map_lookup_elem(&process_table, &tgid);
	if (!entry) {
		record_process(task, 0);
		return 0;
	}
	struct task_identity id = *entry;
	bpf_probe_read_kernel_str(&id.comm, sizeof(id.comm), task->group_leader->comm);
	id.identity_ns = bpf_ktime_get_ns();
	store_identity(tgid, &id);
	return 0;
}

/* Runs after the thread group's live count dropped: the last thread out marks
 * the process. One that started before the plugin has no entry yet: it gets
 * one, already exited, so user space learns who it was and that it is gone. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(core_exit, struct task_struct *task)
{
	if (task->signal->live.counter != 0)
		return 0;
	__u32 tgid = task->tgid, index;
	struct task_slot *slot = owned_slot(tgid, &index);
	if (slot) {
		WRITE_ONCE(slot->identity.exited, 1);
		mark_active(tgid);
		return 0;
	}
	struct task_identity *entry = bpf_map_lookup_elem(&process_table, &tgid);
	if (entry) {
		entry->exited = 1;
		mark_active(tgid);
	} else {
		record_process(task, 1);
	}
	return 0;
}
