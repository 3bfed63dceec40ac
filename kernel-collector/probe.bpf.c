/* One empty program per attach path, loaded one at a time by
 * `ebpf.plugin --check` and by attach-path selection to learn what the running
 * kernel really allows (a kernel can have the config for trampolines and still
 * refuse them). */
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
