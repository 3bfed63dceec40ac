/* Layout shared by BPF programs and the plugin: one value type per module for
 * the pid and cgroup tables, a counters-only array for the global table.
 * Only fixed-width fields, no implicit padding; the asserts are the layout check
 * both compilers (clang -target bpf and g++) run on every build. */
#ifndef EBPF_PLUGIN_TABLE_VALUE_H
#define EBPF_PLUGIN_TABLE_VALUE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_BYTES 16
/* words of the active_pids bitmap: one bit per tgid up to PID_MAX_LIMIT (2^22) */
#define ACTIVE_PID_WORDS 65536

#ifdef __cplusplus
#define LAYOUT_CHECK static_assert
#else
#define LAYOUT_CHECK _Static_assert
#endif

/* Who an entry of a pid table belongs to, written from the task being accounted
 * when the entry is created and again on exec, so short-lived processes stay
 * identifiable after they are gone from /proc. Per-CPU copies may disagree;
 * the copy with the newest identity_ns wins. */
struct task_identity {
	char comm[TASK_COMM_BYTES]; /* the thread-group leader's comm */
	__u32 ppid;                 /* real parent's tgid */
	__u32 exited;               /* 1 once the whole thread group has exited */
	__u64 identity_ns;          /* when comm and ppid were written (monotonic clock) */
};

LAYOUT_CHECK(sizeof(struct task_identity) == 32, "task_identity layout");

/* Global table: one PERCPU_ARRAY entry of counters, plus two more counters for
 * inserts that failed because the pid or cgroup table was full. */
#define GLOBAL_PID_TABLE_FULL(n) (n)
#define GLOBAL_CGROUP_TABLE_FULL(n) ((n) + 1)
#define GLOBAL_COUNTERS(n) ((n) + 2)

/* Counters are u32 unless a module asks for u64 (byte counts): user space
 * takes modular differences between cycles, which stay exact across
 * wrap-around as long as fewer than 2^32 (u32) events happen in one cycle. */
#define DEFINE_TABLE_VALUES_OF(module, n, counter_type)                         \
	struct module##_value {                                                 \
		struct task_identity id;                                        \
		counter_type counters[n];                                       \
	};                                                                      \
	struct module##_global_value {                                          \
		counter_type counters[GLOBAL_COUNTERS(n)];                      \
	};                                                                      \
	LAYOUT_CHECK(sizeof(struct module##_value) ==                         \
			       sizeof(struct task_identity) + sizeof(counter_type) * (n), \
		       #module "_value layout");                                \
	LAYOUT_CHECK(sizeof(struct module##_global_value) ==                  \
			       sizeof(counter_type) * ((n) + 2),                \
		       #module "_global_value layout")

#define DEFINE_TABLE_VALUES(module, n) DEFINE_TABLE_VALUES_OF(module, n, __u32)

#endif
