/* traces: Fluent Bit's in_ebpf events as records (plugin/traces/). Syscall
 * tracepoints: the arguments are saved at entry (the `pending` map, by
 * thread) and the event is written to the ring at exit with the result:
 *   exec    execve, execveat (also a record at entry: Fluent Bit's stage enter)
 *   signal  kill, tkill, tgkill
 *   bind    bind of an AF_INET/AF_INET6 address (port and device from the socket)
 *   tcp     listen, accept, accept4, connect on TCP sockets
 *   vfs     openat, open, unlinkat, unlink
 * malloc: uprobes on libc's malloc, free, calloc, realloc, attached only to
 * the processes configured. User space loads only the enabled traces'
 * programs. Every event is counted once per trace as emitted, refused by a
 * full ring or over the trace's records per second (the `counts` map). */
#include "lib/trace_emit.h"
#include "lib/trace_sockets.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- exec ---- */

static __always_inline void exec_enter(const char *filename, const char *const *argv)
{
	if (!traced())
		return;
	struct traced_event *event = begin(TRACE_EXEC);
	if (!event)
		return;
	const char *last = NULL;
	__u32 argc = 0;

	bpf_probe_read_user_str(event->exec.filename, sizeof(event->exec.filename), filename);
	for (int i = 0; i < TRACE_MAX_ARGS; i++) {
		const char *arg = NULL;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (i < 3)
			bpf_probe_read_user_str(event->exec.argv[i], TRACE_ARG_LEN, arg);
		last = arg;
		argc++;
	}
	if (argc > 3)
		bpf_probe_read_user_str(event->exec.argv[3], TRACE_ARG_LEN, last);
	event->exec.argc = argc;
	event->exec.ppid = BPF_CORE_READ(current_task(), real_parent, tgid);
	event->exec.stage = TRACE_EXEC_ENTER;
	submit(event, TRACE_HEADER_SIZE + sizeof(event->exec), TRACE_EXEC_ENTER_ROW);
	event->exec.stage = TRACE_EXEC_EXIT;
	save_pending(event);
}

static __always_inline void exec_exit(long ret)
{
	struct traced_event *event = finish_pending(TRACE_EXEC, ret);

	if (!event)
		return;
	event->exec.error = error_of(ret);
	SUBMIT(event, exec);
	forget_pending();
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_trace_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	exec_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp_trace_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	exec_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tp_trace_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	exec_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int tp_trace_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	exec_exit(ctx->ret);
	return 0;
}

/* ---- signal ---- */

static __always_inline void signal_enter(long target, long signal)
{
	if (!traced())
		return;
	struct traced_event *event = begin(TRACE_SIGNAL);
	if (!event)
		return;
	event->signal.tpid = (__s32)target;
	event->signal.signal = (__s32)signal;
	save_pending(event);
}

static __always_inline void signal_exit(long ret)
{
	struct traced_event *event = finish_pending(TRACE_SIGNAL, ret);

	if (!event)
		return;
	event->signal.error = error_of(ret);
	SUBMIT(event, signal);
	forget_pending();
}

SEC("tracepoint/syscalls/sys_enter_kill")
int tp_trace_enter_kill(struct trace_event_raw_sys_enter *ctx)
{
	signal_enter(ctx->args[0], ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_tkill")
int tp_trace_enter_tkill(struct trace_event_raw_sys_enter *ctx)
{
	signal_enter(ctx->args[0], ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_tgkill")
int tp_trace_enter_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	signal_enter(ctx->args[1], ctx->args[2]);
	return 0;
}

#define SIGNAL_EXIT_PROGRAM(syscall)                                        \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                       \
	int tp_trace_exit_##syscall(struct trace_event_raw_sys_exit *ctx)   \
	{                                                                   \
		signal_exit(ctx->ret);                                      \
		return 0;                                                   \
	}

SIGNAL_EXIT_PROGRAM(kill)
SIGNAL_EXIT_PROGRAM(tkill)
SIGNAL_EXIT_PROGRAM(tgkill)

/* ---- bind ---- */

SEC("tracepoint/syscalls/sys_enter_bind")
int tp_trace_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	if (!traced())
		return 0;
	struct traced_event *event = begin(TRACE_BIND);
	if (!event || !read_user_addr(&event->bind.local, (const void *)ctx->args[1]))
		return 0;
	event->bind.fd = (__s32)ctx->args[0];
	save_pending(event);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int tp_trace_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct traced_event *event = finish_pending(TRACE_BIND, ctx->ret);

	if (!event)
		return 0;
	event->bind.error = error_of(ctx->ret);
	struct sock *sk = socket_of_fd(event->bind.fd);
	if (sk) {
		event->bind.bound_dev_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
		if (ctx->ret == 0 && !event->bind.local.port) /* port 0: the one the kernel chose */
			event->bind.local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	}
	SUBMIT(event, bind);
	forget_pending();
	return 0;
}

/* ---- tcp ---- */

static __always_inline void tcp_enter(__u8 op, long fd, long backlog, const void *remote)
{
	if (!traced())
		return;
	struct traced_event *event = begin(TRACE_TCP);
	if (!event)
		return;
	event->tcp.op = op;
	event->tcp.fd = (__s32)fd;
	event->tcp.backlog = (__s32)backlog;
	event->tcp.new_fd = -1;
	if (op == TRACE_TCP_CONNECT && !read_user_addr(&event->tcp.peer, remote))
		return;
	save_pending(event);
}

/* Only TCP sockets: the listening or connecting one, and what accept made. */
static __always_inline void tcp_exit(__u8 op, long ret)
{
	struct traced_event *event = finish_pending(TRACE_TCP, ret);

	if (!event || event->tcp.op != op)
		return;
	struct sock *sk = socket_of_fd(event->tcp.fd);
	if (sk && is_inet_tcp(sk)) {
		event->tcp.error = error_of(ret);
		if (op == TRACE_TCP_ACCEPT && ret >= 0) {
			event->tcp.new_fd = (__s32)ret;
			struct sock *accepted = socket_of_fd(ret);
			if (accepted)
				read_remote_addr(&event->tcp.peer, accepted);
		}
		SUBMIT(event, tcp);
	}
	forget_pending();
}

SEC("tracepoint/syscalls/sys_enter_listen")
int tp_trace_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	tcp_enter(TRACE_TCP_LISTEN, ctx->args[0], ctx->args[1], NULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int tp_trace_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	tcp_exit(TRACE_TCP_LISTEN, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int tp_trace_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	tcp_enter(TRACE_TCP_ACCEPT, ctx->args[0], 0, NULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_trace_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	tcp_exit(TRACE_TCP_ACCEPT, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int tp_trace_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	tcp_enter(TRACE_TCP_ACCEPT, ctx->args[0], 0, NULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_trace_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	tcp_exit(TRACE_TCP_ACCEPT, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tp_trace_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	tcp_enter(TRACE_TCP_CONNECT, ctx->args[0], 0, (const void *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tp_trace_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	tcp_exit(TRACE_TCP_CONNECT, ctx->ret);
	return 0;
}

/* ---- vfs ---- */

static __always_inline void vfs_enter(__u32 op, long dirfd, const char *path, long flags, long mode)
{
	if (!traced())
		return;
	struct traced_event *event = begin(TRACE_VFS);
	if (!event)
		return;
	event->vfs.op = op;
	event->vfs.fd = (__s32)dirfd;
	event->vfs.flags = (__u32)flags;
	event->vfs.mode = (__u32)mode;
	bpf_probe_read_user_str(event->vfs.path, sizeof(event->vfs.path), path);
	save_pending(event);
}

static __always_inline void vfs_exit(long ret)
{
	struct traced_event *event = finish_pending(TRACE_VFS, ret);

	if (!event)
		return;
	event->vfs.error = error_of(ret);
	if (event->vfs.op == TRACE_VFS_OPENAT)
		event->vfs.fd = ret < 0 ? -1 : (__s32)ret;
	SUBMIT(event, vfs);
	forget_pending();
}

#define AT_FDCWD -100

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_trace_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	vfs_enter(TRACE_VFS_OPENAT, ctx->args[0], (const char *)ctx->args[1], ctx->args[2], ctx->args[3]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int tp_trace_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	vfs_enter(TRACE_VFS_OPENAT, AT_FDCWD, (const char *)ctx->args[0], ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int tp_trace_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	vfs_enter(TRACE_VFS_UNLINKAT, ctx->args[0], (const char *)ctx->args[1], ctx->args[2], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int tp_trace_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	vfs_enter(TRACE_VFS_UNLINKAT, AT_FDCWD, (const char *)ctx->args[0], 0, 0);
	return 0;
}

#define VFS_EXIT_PROGRAM(syscall)                                           \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                       \
	int tp_trace_exit_##syscall(struct trace_event_raw_sys_exit *ctx)   \
	{                                                                   \
		vfs_exit(ctx->ret);                                         \
		return 0;                                                   \
	}

VFS_EXIT_PROGRAM(openat)
VFS_EXIT_PROGRAM(open)
VFS_EXIT_PROGRAM(unlinkat)
VFS_EXIT_PROGRAM(unlink)

/* ---- malloc: uprobes, attached per process by user space ---- */

static __always_inline void malloc_event(__u32 op, __u64 address, __u64 size)
{
	struct traced_event *event = begin(TRACE_MALLOC);

	if (!event)
		return;
	event->malloc.op = op;
	event->malloc.address = address;
	event->malloc.size = size;
	SUBMIT(event, malloc);
}

static __always_inline void allocation_enter(__u32 op, __u64 size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct trace_malloc pending_allocation = {.op = op, .size = size};

	bpf_map_update_elem(&allocating, &tid, &pending_allocation, BPF_ANY);
}

static __always_inline void allocation_exit(__u64 address)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct trace_malloc *allocation = bpf_map_lookup_elem(&allocating, &tid);

	if (!allocation)
		return;
	malloc_event(allocation->op, address, allocation->size);
	bpf_map_delete_elem(&allocating, &tid);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_trace_malloc, __u64 size)
{
	allocation_enter(TRACE_MALLOC_MALLOC, size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_trace_calloc, __u64 count, __u64 size)
{
	allocation_enter(TRACE_MALLOC_CALLOC, count * size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_trace_realloc, void *address, __u64 size)
{
	allocation_enter(TRACE_MALLOC_REALLOC, size);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_trace_allocation, void *address)
{
	allocation_exit((__u64)address);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_trace_free, void *address)
{
	if (address)
		malloc_event(TRACE_MALLOC_FREE, (__u64)address, 0);
	return 0;
}
