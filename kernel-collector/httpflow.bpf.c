/* httpflow: the first bytes of each read and write on a TCP socket that
 * carries HTTP/1.x, sent to user space through a ring buffer; the parser is
 * there (plugin/net/http_parser.cpp). No kprobe, no trampoline:
 *   syscalls:sys_enter_{read,write,readv,writev,recvfrom,sendto,recvmsg,sendmsg}
 *       the fd is resolved to its socket (task->files->fdt->fd[fd]); a TCP
 *       socket's buffer address is kept by thread until the exit
 *   syscalls:sys_exit_*  the call's result: a buffer that starts with an HTTP
 *       method or "HTTP/" marks the socket; every call on a marked socket is
 *       sent with up to HTTP_CAPTURE_BYTES of its data (of the first iovec)
 *   sock:inet_sock_set_state  TCP_CLOSE of a marked socket is sent, and the
 *       mark removed
 * HTTPS through OpenSSL's libssl, with uprobes where the kernel has them:
 *   uprobe/uretprobe on SSL_read, SSL_write, SSL_read_ex, SSL_write_ex
 *       the plaintext at the return, as above; the socket is the one the
 *       thread reads or writes inside the call (its syscall tracepoint)
 * docs/RECORDS.md says why (syscall tracepoints against cgroup skb programs
 * and socket filters) with the cost measured. */
#include "lib/common.h"
#include <bpf/bpf_endian.h>
#include "httpflow.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SOCK_STREAM 1
#define MSG_PEEK 2

struct pending_call {
	__u64 buffer; /* user address of the data */
	__u64 socket;
	__u8 kind;    /* HTTP_EVENT_READ or HTTP_EVENT_WRITE */
};

/* LRU: a thread that never returns (exit_group) leaves its entry behind */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending_call);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384); /* [http flows] maximum connections */
	__type(key, __u64);         /* struct sock address */
	__type(value, __u8);
} http_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_event);
} scratch SEC(".maps");

/* events the ring buffer had no room for: user space says so */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct ssl_call {
	__u64 ssl;
	__u64 buffer;
	__u64 bytes_at; /* the _ex calls' size_t *: bytes moved */
	__u8 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 padding;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ssl_key);
	__type(value, __u64); /* struct sock address */
} ssl_sockets SEC(".maps");

/* The TCP socket behind `fd` of the current process, or 0. */
static __always_inline __u64 tcp_socket_of(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	return (__u64)sk;
}

static __always_inline void enter(int fd, __u64 buffer, __u8 kind)
{
	__u64 socket = tcp_socket_of(fd);

	if (!socket || !buffer)
		return;
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call *in_ssl = bpf_map_lookup_elem(&ssl_calls, &id);
	if (in_ssl) {
		/* inside SSL_read or SSL_write: its socket, and ciphertext */
		struct ssl_key key = {.ssl = in_ssl->ssl, .tgid = id >> 32};
		bpf_map_update_elem(&ssl_sockets, &key, &socket, BPF_ANY);
		return;
	}
	struct pending_call call = {.buffer = buffer, .socket = socket, .kind = kind};
	bpf_map_update_elem(&pending, &id, &call, BPF_ANY);
}

/* The first iovec's base of an iovec array at user address `iov`. */
static __always_inline __u64 first_iovec_base(__u64 iov)
{
	struct iovec first = {};

	if (!iov || bpf_probe_read_user(&first, sizeof(first), (void *)iov))
		return 0;
	return (__u64)first.iov_base;
}

static __always_inline __u64 msghdr_buffer(__u64 msg)
{
	struct user_msghdr header = {};

	if (!msg || bpf_probe_read_user(&header, sizeof(header), (void *)msg) || !header.msg_iovlen)
		return 0;
	return first_iovec_base((__u64)header.msg_iov);
}

/* "GET ", "POST", "HTTP/" ...: the start of a request or a response. */
static __always_inline bool starts_http(const __u8 *d)
{
	switch (d[0]) {
	case 'G': return d[1] == 'E' && d[2] == 'T' && d[3] == ' ';
	case 'P': return (d[1] == 'O' && d[2] == 'S' && d[3] == 'T') || (d[1] == 'U' && d[2] == 'T' && d[3] == ' ') ||
			 (d[1] == 'A' && d[2] == 'T' && d[3] == 'C');
	case 'H': return (d[1] == 'E' && d[2] == 'A' && d[3] == 'D') || (d[1] == 'T' && d[2] == 'T' && d[3] == 'P');
	case 'D': return d[1] == 'E' && d[2] == 'L' && d[3] == 'E';
	case 'O': return d[1] == 'P' && d[2] == 'T' && d[3] == 'I';
	case 'C': return d[1] == 'O' && d[2] == 'N' && d[3] == 'N';
	case 'T': return d[1] == 'R' && d[2] == 'A' && d[3] == 'C';
	}
	return false;
}

static __always_inline void read_addresses(struct http_event *event, const struct sock *sk)
{
	event->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (event->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)event->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)event->daddr, sk, __sk_common.skc_daddr);
	} else {
		bpf_core_read(event->saddr, sizeof(event->saddr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(event->daddr, sizeof(event->daddr), &sk->__sk_common.skc_v6_daddr);
	}
	event->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	event->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline struct http_event *fresh_event(__u8 kind, __u64 socket)
{
	__u32 zero = 0;
	struct http_event *event = bpf_map_lookup_elem(&scratch, &zero);

	if (!event)
		return NULL;
	event->time_ns = bpf_ktime_get_ns();
	event->socket = socket;
	event->kind = kind;
	event->cgroup_id = bpf_get_current_cgroup_id();
	event->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	read_addresses(event, (const struct sock *)socket);
	event->length = 0;
	event->captured = 0;
	return event;
}

static __always_inline void send(struct http_event *event)
{
	__u64 size = HTTP_EVENT_HEADER_BYTES + event->captured;

	if (size > sizeof(*event))
		return;
	if (bpf_ringbuf_output(&events, event, size, 0)) {
		__u32 zero = 0;
		__u64 *count = bpf_map_lookup_elem(&lost, &zero);
		if (count)
			*count += 1;
	}
}

/* `ret` bytes of `buffer` went through `socket`: sent when it carries HTTP. */
static __always_inline void capture(struct pending_call copy, long ret, __u8 tls)
{
	if (ret <= 0)
		return;
	struct http_event *event = fresh_event(copy.kind, copy.socket);
	if (!event)
		return;
	__u32 captured = ret < HTTP_CAPTURE_BYTES ? (__u32)ret : HTTP_CAPTURE_BYTES;
	if (captured > HTTP_CAPTURE_BYTES || bpf_probe_read_user(event->data, captured, (void *)copy.buffer))
		return;
	bool marked = bpf_map_lookup_elem(&http_sockets, &copy.socket) != NULL;
	if (!marked) {
		if (captured < 4 || !starts_http(event->data))
			return;
		__u8 one = 1;
		bpf_map_update_elem(&http_sockets, &copy.socket, &one, BPF_ANY);
	}
	event->length = (__u64)ret;
	event->captured = captured;
	event->tls = tls;
	send(event);
}

static __always_inline void leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_call *call = bpf_map_lookup_elem(&pending, &id);

	if (!call)
		return;
	struct pending_call copy = *call;
	bpf_map_delete_elem(&pending, &id);
	capture(copy, ret, 0);
}

static __always_inline void ssl_enter(void *ssl, const void *buffer, void *bytes_at, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call call = {.ssl = (__u64)ssl, .buffer = (__u64)buffer, .bytes_at = (__u64)bytes_at, .kind = kind};

	bpf_map_update_elem(&ssl_calls, &id, &call, BPF_ANY);
}

/* ret: SSL_read/SSL_write's bytes, or the _ex calls' 1 (success) */
static __always_inline void ssl_leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call *call = bpf_map_lookup_elem(&ssl_calls, &id);

	if (!call)
		return;
	struct ssl_call copy = *call;
	bpf_map_delete_elem(&ssl_calls, &id);
	if (copy.bytes_at) {
		size_t moved = 0;
		if (ret != 1 || bpf_probe_read_user(&moved, sizeof(moved), (void *)copy.bytes_at))
			return;
		ret = (long)moved;
	}
	struct ssl_key key = {.ssl = copy.ssl, .tgid = id >> 32};
	__u64 *socket = bpf_map_lookup_elem(&ssl_sockets, &key);
	if (!socket)
		return; /* no syscall on its socket seen yet */
	struct pending_call plain = {.buffer = copy.buffer, .socket = *socket, .kind = copy.kind};
	capture(plain, ret, 1);
}

SEC("uprobe")
int BPF_KPROBE(up_ssl_write, void *ssl, const void *buffer, int num)
{
	ssl_enter(ssl, buffer, NULL, HTTP_EVENT_WRITE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(up_ssl_read, void *ssl, void *buffer, int num)
{
	ssl_enter(ssl, buffer, NULL, HTTP_EVENT_READ);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(up_ssl_write_ex, void *ssl, const void *buffer, size_t num, size_t *written)
{
	ssl_enter(ssl, buffer, written, HTTP_EVENT_WRITE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(up_ssl_read_ex, void *ssl, void *buffer, size_t num, size_t *read)
{
	ssl_enter(ssl, buffer, read, HTTP_EVENT_READ);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(up_ssl_return, int ret)
{
	ssl_leave(ret);
	return 0;
}

/* flags_arg: the argument with the flags (a peek is read again later), or -1 */
#define ENTER_EXIT(syscall, flags_arg, buffer_of, kind)                               \
	SEC("tracepoint/syscalls/sys_enter_" #syscall)                                \
	int tp_http_enter_##syscall(struct trace_event_raw_sys_enter *ctx)            \
	{                                                                             \
		if (flags_arg >= 0 && (ctx->args[flags_arg & 7] & MSG_PEEK))           \
			return 0;                                                     \
		enter((int)ctx->args[0], buffer_of(ctx->args[1]), kind);               \
		return 0;                                                             \
	}                                                                             \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                                 \
	int tp_http_exit_##syscall(struct trace_event_raw_sys_exit *ctx)              \
	{                                                                             \
		leave(ctx->ret);                                                      \
		return 0;                                                             \
	}

#define PLAIN(address) ((__u64)(address))

ENTER_EXIT(read, -1, PLAIN, HTTP_EVENT_READ)
ENTER_EXIT(write, -1, PLAIN, HTTP_EVENT_WRITE)
ENTER_EXIT(recvfrom, 3, PLAIN, HTTP_EVENT_READ)
ENTER_EXIT(sendto, -1, PLAIN, HTTP_EVENT_WRITE)
ENTER_EXIT(readv, -1, first_iovec_base, HTTP_EVENT_READ)
ENTER_EXIT(writev, -1, first_iovec_base, HTTP_EVENT_WRITE)
ENTER_EXIT(recvmsg, 2, msghdr_buffer, HTTP_EVENT_READ)
ENTER_EXIT(sendmsg, -1, msghdr_buffer, HTTP_EVENT_WRITE)

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_http_set_state, struct sock *sk, int oldstate, int newstate)
{
	__u64 socket = (__u64)sk;

	if (newstate != TCP_CLOSE || !bpf_map_lookup_elem(&http_sockets, &socket))
		return 0;
	bpf_map_delete_elem(&http_sockets, &socket);
	struct http_event *event = fresh_event(HTTP_EVENT_CLOSE, socket);
	if (event)
		send(event);
	return 0;
}
