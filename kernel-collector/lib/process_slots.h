/* The process core's slot array, shared by the core and every counting module
 * (bpf_map__reuse_fd, like active_pids). Slot tgid % slot_count belongs to a
 * process only while its owner is that tgid: the core claims it at fork (an
 * atomic compare-and-swap, so from Linux 5.12 on; slot_count 0 turns slots off)
 * and user space gives it back a cycle after the process's last read. A
 * process without a slot (started before the plugin, or its slot still held by
 * an earlier pid) uses the hash tables, as every process does with slots off. */
#ifndef EBPF_PLUGIN_PROCESS_SLOTS_H
#define EBPF_PLUGIN_PROCESS_SLOTS_H

#include "lib/common.h"
#include "lib/table_value.h"

const volatile __u32 slot_count = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_slot);
} process_slots SEC(".maps");

/* The slot tgid owns (its index in *index), or null: then its entries are in
 * the hash tables. */
static __always_inline struct task_slot *owned_slot(__u32 tgid, __u32 *index)
{
	if (!slot_count)
		return 0;
	*index = tgid % slot_count;
	struct task_slot *slot = bpf_map_lookup_elem(&process_slots, index);
	if (!slot || slot->owner != tgid)
		return 0;
	return slot;
}

#endif
