/* Which processes changed: one byte per tgid, set to 1 after every change to
 * that process's entries (its identity in the core, its counters in any
 * module). One array for the whole plugin: the core creates it and every
 * module reuses it (bpf_map__reuse_fd). User space swaps the words to zero
 * through mmap and reads only those processes, so idle ones cost nothing per
 * cycle. A plain byte store: no atomic (5.10 has no fetch-or) and no lost mark
 * when two CPUs mark neighbours. User space sizes it to pid_max; a tgid beyond
 * (pid_max raised later) marks byte 0, pid 0 being no process: read everything. */
#ifndef EBPF_PLUGIN_ACTIVE_PIDS_H
#define EBPF_PLUGIN_ACTIVE_PIDS_H

#include "lib/common.h"
#include "lib/table_value.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 32768 / ACTIVE_PIDS_PER_WORD);
	__type(key, __u32);
	__type(value, __u64);
} active_pids SEC(".maps");

static __always_inline void mark_active(__u32 tgid)
{
	__u32 word = tgid / ACTIVE_PIDS_PER_WORD;
	__u8 *marks = bpf_map_lookup_elem(&active_pids, &word);

	if (!marks) {
		word = 0;
		tgid = 0;
		marks = bpf_map_lookup_elem(&active_pids, &word);
	}
	if (marks)
		marks[tgid % ACTIVE_PIDS_PER_WORD] = 1;
}

#endif
