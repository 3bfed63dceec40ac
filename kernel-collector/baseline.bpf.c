/* Benchmark baseline (tools/bench): empty programs on exactly the hooks the
 * tracepoint attach path uses, so the per-event cost of the plugin's programs
 * can be compared with the cost of merely running a program on that hook.
 * Not loaded by the plugin. */
#include "lib/common.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/task_newtask")
int BPF_PROG(baseline_task_newtask)
{
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(baseline_sched_process_fork)
{
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(baseline_sched_process_exit)
{
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(baseline_sched_process_free)
{
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(baseline_sched_process_exec)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int baseline_sys_exit_openat(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_close")
int baseline_sys_exit_close(void *ctx)
{
	return 0;
}

/* vfs's and socket's hooks for a counted read/write and a TCP send/receive */
SEC("tracepoint/syscalls/sys_exit_pread64")
int baseline_sys_exit_pread64(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int baseline_sys_exit_pwrite64(void *ctx)
{
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(baseline_sock_send_length)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(baseline_sock_recv_length)
{
	return 0;
}
