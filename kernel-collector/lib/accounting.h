/* The three tables every counting module keeps, and the one function that
 * updates them. Before including, a module defines:
 *   ACCOUNTING_COUNTERS       number of counters
 *   table_value_t             its <module>_value struct
 *   global_value_t            its <module>_global_value struct
 * User space sets the const volatile switches before load, resizes the tables
 * and, with `maps per core = no`, turns the per-CPU hashes into plain hashes. */
#ifndef EBPF_PLUGIN_ACCOUNTING_H
#define EBPF_PLUGIN_ACCOUNTING_H

#include "lib/common.h"
#include "lib/bpf_atomics.h"

const volatile bool apps_enabled = true;
const volatile bool cgroups_enabled = true;
const volatile bool per_cpu_tables = true;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, global_value_t);
} global_table SEC(".maps");

/* keyed by the tgid of the process that made the call */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, table_value_t);
} pid_table SEC(".maps");

/* keyed by the cgroup v2 id of the task (its directory's inode number) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, table_value_t);
} cgroup_table SEC(".maps");

/* One bit per tgid, set after every change to its pid_table entry. User space
 * swaps the words to zero through mmap and reads only those entries, so idle
 * processes cost nothing per cycle. 65536 words cover PID_MAX_LIMIT (2^22). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ACTIVE_PID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} active_pids SEC(".maps");

/* Without atomic or (before 5.12) the bitmap stays unused and user space reads
 * the whole pid table every cycle: as exact, slower per cycle. */
static __always_inline void mark_active(__u32 tgid)
{
#if HAVE_BPF_ATOMICS
	__u32 word = tgid / 64;
	__u64 *bits = bpf_map_lookup_elem(&active_pids, &word);

	if (bits)
		__sync_fetch_and_or(bits, 1ULL << (tgid % 64));
#endif
}

/* __u32, or __u64 for modules that count bytes (DEFINE_TABLE_VALUES_OF) */
typedef __typeof__(((table_value_t *)0)->counters[0]) counter_t;

static __always_inline void add_to(counter_t *counter, __u64 amount)
{
	if (per_cpu_tables)
		*counter += amount;
	else
		__sync_fetch_and_add(counter, amount);
}

static __always_inline void bump(counter_t *counter)
{
	add_to(counter, 1);
}

static __always_inline void count_table_full(global_value_t *global, __u32 index)
{
	if (global)
		bump(&global->counters[index]);
}

/* Returns the entry for key, creating it from `initial` when missing. A failed
 * insert other than a lost race means the table is full. */
static __always_inline table_value_t *table_entry(void *table, const void *key,
						  const table_value_t *initial,
						  global_value_t *global, __u32 full_index)
{
	table_value_t *value = bpf_map_lookup_elem(table, key);
	if (value)
		return value;
	long err = bpf_map_update_elem(table, key, initial, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_table_full(global, full_index);
		return 0;
	}
	return bpf_map_lookup_elem(table, key);
}

static __always_inline __u64 task_cgroup_id(struct task_struct *task, bool is_current)
{
	if (is_current)
		return bpf_get_current_cgroup_id();
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

static __always_inline bool thread_group_dead(struct task_struct *task)
{
	return BPF_CORE_READ(task, signal, live.counter) == 0;
}

static __always_inline void write_identity(struct task_identity *id, struct task_struct *task)
{
	BPF_CORE_READ_STR_INTO(&id->comm, task, group_leader, comm);
	id->ppid = BPF_CORE_READ(task, real_parent, tgid);
	id->identity_ns = bpf_ktime_get_ns();
}

static __always_inline __u32 task_tgid(struct task_struct *task, bool is_current)
{
	if (is_current)
		return bpf_get_current_pid_tgid() >> 32;
	return BPF_CORE_READ(task, tgid);
}

static __always_inline table_value_t *pid_entry(struct task_struct *task, __u32 tgid,
						global_value_t *global)
{
	table_value_t *entry = bpf_map_lookup_elem(&pid_table, &tgid);
	if (entry)
		return entry;
	/* the identity is written only when the entry is created (and on exec) */
	table_value_t initial = {};

	write_identity(&initial.id, task);
	return table_entry(&pid_table, &tgid, &initial, global,
			   GLOBAL_PID_TABLE_FULL(ACCOUNTING_COUNTERS));
}

/* One change to one counter; account_changes applies several at once, with
 * one lookup per table. */
struct counter_change {
	__u32 index;
	__u64 amount;
};

static __always_inline void add_changes(counter_t *counters, const struct counter_change *changes, int count)
{
#pragma unroll
	for (int i = 0; i < count; i++)
		add_to(&counters[changes[i].index], changes[i].amount);
}

/* Applies `changes` for `task` in every enabled table. Events that can come
 * after the task's exit (a reap) pass may_be_dead, so an entry re-created for
 * a dead process is marked and removed again by user space. */
static __always_inline void account_changes(struct task_struct *task, bool is_current,
					    const struct counter_change *changes, int count,
					    bool may_be_dead)
{
	__u32 zero = 0;
	global_value_t *global = bpf_map_lookup_elem(&global_table, &zero);

	if (global)
		add_changes(global->counters, changes, count);

	if (apps_enabled) {
		__u32 tgid = task_tgid(task, is_current);
		table_value_t *entry = pid_entry(task, tgid, global);
		if (entry) {
			add_changes(entry->counters, changes, count);
			if (may_be_dead && thread_group_dead(task))
				entry->id.exited = 1;
			mark_active(tgid); /* after the change: see active_pids */
		}
	}

	/* the root cgroup (id 1) is the whole system: the global table has it */
	__u64 cgroup = cgroups_enabled ? task_cgroup_id(task, is_current) : 0;
	if (cgroup > 1) {
		table_value_t initial = {};
		table_value_t *entry = table_entry(&cgroup_table, &cgroup, &initial, global,
						   GLOBAL_CGROUP_TABLE_FULL(ACCOUNTING_COUNTERS));
		if (entry)
			add_changes(entry->counters, changes, count);
	}
}

/* Counts one event of kind `index` for `task` in every enabled table. */
static __always_inline void account(struct task_struct *task, bool is_current, __u32 index,
				    bool may_be_dead)
{
	struct counter_change change = {index, 1};

	account_changes(task, is_current, &change, 1, may_be_dead);
}

/* Marks the task's pid entry once its whole thread group has exited, so user
 * space can remove it after one more read. Runs on every attach path, after
 * the thread group's live count dropped; a process without an entry in this
 * module has nothing to remove. (An exit counted at this same tracepoint marks
 * its entry itself, through account(..., may_be_dead), whatever the order.) */
static __always_inline void mark_exited(struct task_struct *task)
{
	if (!apps_enabled || !thread_group_dead(task))
		return;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	table_value_t *entry = bpf_map_lookup_elem(&pid_table, &tgid);
	if (entry) {
		entry->id.exited = 1;
		mark_active(tgid);
	}
}

/* exec changes the process name: refresh the identity of an existing entry */
static __always_inline void refresh_identity(struct task_struct *task)
{
	if (!apps_enabled)
		return;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	table_value_t *entry = bpf_map_lookup_elem(&pid_table, &tgid);
	if (entry)
		write_identity(&entry->id, task);
}

/* Life-cycle programs every module loads on every attach path. */
#define ACCOUNTING_LIFECYCLE_PROGRAMS                                       \
	SEC("tp_btf/sched_process_exit")                                    \
	int BPF_PROG(lifecycle_exit, struct task_struct *task)              \
	{                                                                   \
		mark_exited(task);                                          \
		return 0;                                                   \
	}                                                                   \
	SEC("tp_btf/sched_process_exec")                                    \
	int BPF_PROG(lifecycle_exec, struct task_struct *task)              \
	{                                                                   \
		refresh_identity(task);                                     \
		return 0;                                                   \
	}

#endif
