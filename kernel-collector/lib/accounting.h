/* The tables every counting module keeps, and the one function that updates
 * them. Before including, a module defines:
 *   ACCOUNTING_COUNTERS       number of counters
 *   table_value_t             its <module>_value struct (counters only)
 *   global_value_t            its <module>_global_value struct
 * Who a process is (name, parent, exit) is the process core's business
 * (core.bpf.c): a module keeps only its counters and loads no program on the
 * process life-cycle hooks. User space sets the const volatile switches before
 * load, sizes the tables, and reuses the core's active_pids array. */
#ifndef EBPF_PLUGIN_ACCOUNTING_H
#define EBPF_PLUGIN_ACCOUNTING_H

#include "lib/common.h"
#include "lib/active_pids.h"
#include "lib/process_slots.h"

const volatile bool apps_enabled = true;
const volatile bool cgroups_enabled = true;
const volatile bool per_cpu_tables = true;
/* The plugin's own process: its calls (a read of /proc/self/fdinfo each second,
 * its sink threads) are not the host's, in any table. 0: none. */
const volatile __u32 plugin_tgid = 0;

/* System-wide counters: every event touches them, so one copy per CPU (a
 * plain ARRAY with atomic adds when `maps per core = no`). A few bytes per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, global_value_t);
} global_table SEC(".maps");

/* Keyed by the tgid of the process that made the call. Shared by all CPUs
 * (atomic adds): a per-CPU copy of every process costs pid table size x
 * possible CPUs, and two CPUs rarely count for the same process at once.
 * Preallocated: inserts from a free list cost half of allocated ones (one
 * per process; docs/BENCHMARKS.md), and memory does not depend on CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, table_value_t);
} pid_table SEC(".maps");

/* The counters of processes that own a slot of the core's process_slots, at
 * the same index: found without a hash lookup, never inserted. User space
 * takes them with atomic exchanges through mmap (deltas), so nothing is lost
 * between its read and its reset. One entry when slots are off. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, table_value_t);
} pid_slots SEC(".maps");

/* keyed by the cgroup v2 id of the task (its directory's inode number) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, table_value_t);
} cgroup_table SEC(".maps");

/* __u32, or __u64 for modules that count bytes (DEFINE_TABLE_VALUES_OF) */
typedef __typeof__(((table_value_t *)0)->counters[0]) counter_t;

static __always_inline void add_to_global(counter_t *counter, __u64 amount)
{
	if (per_cpu_tables)
		*counter += amount;
	else
		__sync_fetch_and_add(counter, amount);
}

/* result unused: BPF_XADD (32 or 64 bits), which 5.10 accepts */
static __always_inline void add_to_shared(counter_t *counter, __u64 amount)
{
	__sync_fetch_and_add(counter, amount);
}

static __always_inline void count_table_full(global_value_t *global, __u32 index)
{
	if (global)
		add_to_global(&global->counters[index], 1);
}

/* One change to one counter; account_changes applies several at once, with
 * one lookup per table. */
struct counter_change {
	__u32 index;
	__u64 amount;
};

static __always_inline void add_changes_to_global(counter_t *counters, const struct counter_change *changes,
						  int count)
{
#pragma unroll
	for (int i = 0; i < count; i++)
		add_to_global(&counters[changes[i].index], changes[i].amount);
}

static __always_inline void add_changes_to_shared(table_value_t *value, const struct counter_change *changes,
						  int count)
{
#pragma unroll
	for (int c = 0; c < count; c++)
		if (changes[c].index < ACCOUNTING_COUNTERS && changes[c].amount)
			add_to_shared(&value->counters[changes[c].index], changes[c].amount);
}

/* Applies `changes` to the entry for key. A missing entry is created with the
 * changes already in it (no second lookup); a failed insert other than a lost
 * race means the table is full. Returns false only then. */
static __always_inline bool change_in(void *table, const void *key, const struct counter_change *changes,
				      int count, global_value_t *global, __u32 full_index)
{
	table_value_t *value = bpf_map_lookup_elem(table, key);
	if (!value) {
		table_value_t initial;
		/* constant offsets only: 5.10 refuses a variable-offset stack write */
#pragma unroll
		for (__u32 i = 0; i < ACCOUNTING_COUNTERS; i++) {
			initial.counters[i] = 0;
#pragma unroll
			for (int c = 0; c < count; c++)
				if (changes[c].index == i)
					initial.counters[i] += changes[c].amount;
		}
		long err = bpf_map_update_elem(table, key, &initial, BPF_NOEXIST);
		if (!err)
			return true;
		if (err != -EEXIST) {
			count_table_full(global, full_index);
			return false;
		}
		value = bpf_map_lookup_elem(table, key);
		if (!value)
			return false;
	}
	add_changes_to_shared(value, changes, count);
	return true;
}

/* How a task is read: it is the caller (helpers), a pointer only probe reads
 * may follow (kprobe arguments, bpf_get_current_task), or one the verifier
 * typed from BTF (tp_btf and fentry arguments): plain loads, no helper call.
 * Call sites pass a constant, so only that branch is compiled in. */
enum task_access { TASK_PROBE_READ = 0, TASK_CURRENT = 1, TASK_BTF = 2 };

static __always_inline __u64 task_cgroup_id(struct task_struct *task, enum task_access access)
{
	if (access == TASK_CURRENT)
		return bpf_get_current_cgroup_id();
	if (access == TASK_BTF)
		return task->cgroups->dfl_cgrp->kn->id;
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

static __always_inline __u32 task_tgid(struct task_struct *task, enum task_access access)
{
	if (access == TASK_CURRENT)
		return bpf_get_current_pid_tgid() >> 32;
	if (access == TASK_BTF)
		return task->tgid;
	return BPF_CORE_READ(task, tgid);
}

/* Applies `changes` for `task` in every enabled table: for its process, in
 * its slot when it owns one, else in pid_table. may_be_dead (events that can
 * come after the exit, a reap) needs nothing here any more: user space finds
 * an entry re-created after its process was removed and removes it again
 * after one more read. */
static __always_inline void account_changes(struct task_struct *task, enum task_access access,
					    const struct counter_change *changes, int count,
					    bool may_be_dead)
{
	__u32 zero = 0;
	__u32 tgid = task_tgid(task, access);
	if (plugin_tgid && tgid == plugin_tgid)
		return;
	global_value_t *global = bpf_map_lookup_elem(&global_table, &zero);

	if (global)
		add_changes_to_global(global->counters, changes, count);

	if (apps_enabled) {
		__u32 index;
		table_value_t *value = owned_slot(tgid, &index) ? bpf_map_lookup_elem(&pid_slots, &index) : 0;
		if (value) {
			add_changes_to_shared(value, changes, count);
			mark_active(tgid);
		} else if (change_in(&pid_table, &tgid, changes, count, global,
				     GLOBAL_PID_TABLE_FULL(ACCOUNTING_COUNTERS))) {
			mark_active(tgid); /* after the change: see active_pids */
		}
	}

	/* the root cgroup (id 1) is the whole system: the global table has it */
	__u64 cgroup = cgroups_enabled ? task_cgroup_id(task, access) : 0;
	if (cgroup > 1)
		change_in(&cgroup_table, &cgroup, changes, count, global,
			  GLOBAL_CGROUP_TABLE_FULL(ACCOUNTING_COUNTERS));
}

/* Counts one event of kind `index` for `task` in every enabled table. */
static __always_inline void account(struct task_struct *task, enum task_access access, __u32 index,
				    bool may_be_dead)
{
	struct counter_change change = {index, 1};

	account_changes(task, access, &change, 1, may_be_dead);
}

/* Modules written before the process core placed this in their object; the
 * core's programs (core.bpf.c) do that work once for all. Expands to nothing. */
#define ACCOUNTING_LIFECYCLE_PROGRAMS

#endif
