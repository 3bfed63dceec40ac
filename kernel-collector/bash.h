/* bash: one event per command line a bash read with readline(), shared
 * between bash.bpf.c and plugin/bash/bash_probe.cpp. */
#ifndef EBPF_PLUGIN_BASH_H
#define EBPF_PLUGIN_BASH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of a line kept, its final NUL included: a longer line is cut and
 * marked truncated. */
#define BASH_LINE_MAX 512

struct bash_event {
	__u64 time_ns;   /* CLOCK_MONOTONIC (bpf_ktime_get_ns) when readline returned */
	__u64 cgroup_id; /* cgroup v2 id of the bash when it read the line */
	__u32 pid;       /* tgid */
	__u32 uid;
	__u8 truncated;
	__u8 pad[7];
	char line[BASH_LINE_MAX];
};

/* Counters in .bss, read by user space through the skeleton's mmap. */
struct bash_counters {
	__u64 window_lines;  /* lines passed on since user space last reset it */
	__u64 window_limit;  /* lines allowed per window (0: no limit); set by user space */
	__u64 rate_dropped;  /* lines over window_limit */
	__u64 ring_dropped;  /* lines that found the ring buffer full */
};

#endif
