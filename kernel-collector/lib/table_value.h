/* Layout shared by BPF programs and the plugin: the process core's identity
 * entries, one value type per module for the pid and cgroup tables, a
 * counters-only array for the global table.
 * Only fixed-width fields, no implicit padding; the asserts are the layout check
 * both compilers (clang -target bpf and g++) run on every build. */
#ifndef EBPF_PLUGIN_TABLE_VALUE_H
#define EBPF_PLUGIN_TABLE_VALUE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_BYTES 16
/* active_pids: one byte per tgid, eight to an array element (see lib/active_pids.h) */
#define ACTIVE_PIDS_PER_WORD 8

#ifdef __cplusplus
#define LAYOUT_CHECK static_assert
#else
#define LAYOUT_CHECK _Static_assert
#endif

/* Who a process is, kept once for the whole plugin by the process core
 * (core.bpf.c): written at fork and exec, marked at exit, so user space can
 * group a process by what the kernel saw even after it is gone. */
struct task_identity {
	char comm[TASK_COMM_BYTES]; /* the thread-group leader's comm */
	__u32 ppid;                 /* real parent's tgid when written */
	__u32 exited;               /* 1 once the whole thread group has exited */
	__u64 start_ns;             /* the process's start (task->start_time): creation order, pid reuse */
	__u64 identity_ns;          /* when comm and ppid were written (monotonic clock); in a
	                               slot, user space makes it start_ns + execs: newer per exec */
};

LAYOUT_CHECK(sizeof(struct task_identity) == 40, "task_identity layout");

/* One entry of the process core's slot array (lib/process_slots.h): a process
 * forked while the plugin runs takes slot tgid % slots when it is free, so its
 * identity and every module's counters for it are found by index, without a
 * hash insert. */
struct task_slot {
	__u32 owner;                 /* tgid; 0 free; with a SLOT_ flag while taken or given back */
	__u32 seq;                   /* odd while the identity is rewritten; + 2 per exec */
	struct task_identity identity;
};

#define SLOT_TAKING 0x40000000u  /* claimed at fork, identity not written yet */
#define SLOT_CLOSING 0x80000000u /* read a last time: new events go to the hash tables */

LAYOUT_CHECK(sizeof(struct task_slot) == 48, "task_slot layout");

/* Global table: one entry of counters, plus two more counters for inserts
 * that failed because the pid or cgroup table was full. */
#define GLOBAL_PID_TABLE_FULL(n) (n)
#define GLOBAL_CGROUP_TABLE_FULL(n) ((n) + 1)
#define GLOBAL_COUNTERS(n) ((n) + 2)

/* Counters are u32 unless a module asks for u64 (byte counts): user space
 * takes modular differences between cycles, which stay exact across
 * wrap-around as long as fewer than 2^32 (u32) events happen in one cycle.
 * A module's pid and cgroup values are its counters only: who the process is
 * lives in the core's process_table. */
#define DEFINE_TABLE_VALUES_OF(module, n, counter_type)                         \
	struct module##_value {                                                 \
		counter_type counters[n];                                       \
	};                                                                      \
	struct module##_global_value {                                          \
		counter_type counters[GLOBAL_COUNTERS(n)];                      \
	};                                                                      \
	LAYOUT_CHECK(sizeof(struct module##_value) == sizeof(counter_type) * (n), \
		       #module "_value layout");                                \
	LAYOUT_CHECK(sizeof(struct module##_global_value) ==                  \
			       sizeof(counter_type) * ((n) + 2),                \
		       #module "_global_value layout")

#define DEFINE_TABLE_VALUES(module, n) DEFINE_TABLE_VALUES_OF(module, n, __u32)

#endif
