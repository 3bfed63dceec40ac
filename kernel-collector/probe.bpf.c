/* One empty program per attach path, loaded one at a time by
 * `ebpf.plugin --check` and by attach-path selection to learn what the running
 * kernel really allows (a kernel can have the config for trampolines and still
 * refuse them), and whether it has the BPF features the modules use. */
#include "lib/common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/do_exit")
int BPF_PROG(probe_trampoline)
{
	return 0;
}

SEC("kprobe/do_exit")
int BPF_KPROBE(probe_kprobe)
{
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(probe_tp_btf)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_close")
int probe_syscall_tracepoint(void *ctx)
{
	return 0;
}

/* Loaded only (never attached): accepted where the kernel has BPF atomics
 * beyond add (5.12+), see lib/bpf_atomics.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} probe_word SEC(".maps");

SEC("tracepoint/syscalls/sys_exit_close")
int probe_atomic_or(void *ctx)
{
	__u32 zero = 0;
	__u64 *word = bpf_map_lookup_elem(&probe_word, &zero);

	if (word)
		__sync_fetch_and_or(word, 1);
	return 0;
}
