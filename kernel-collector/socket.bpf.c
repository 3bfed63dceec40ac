/* socket module: TCP and UDP calls, bytes, connections, closes, retransmits.
 * Every path counts a send or receive when it returns, so bytes are those
 * really moved and failures are seen (the *_error charts show them in return
 * mode). Kernel differences, resolved by user space from BTF:
 *   tcp_recvmsg, udp_recvmsg, udpv6_recvmsg  6 parameters up to 5.18, 5, 4 from 6.18
 *   inet_csk_accept                          4 parameters up to 6.9, then 2
 *   tcp:tcp_retransmit_skb                   an `err` argument on recent kernels
 *   struct file                              f_count, f_ref from 6.13
 * The tracepoint set: sock:sock_send_length/sock_recv_length (6.3+) for sends
 * and receives, sock:inet_sock_set_state for connections, and the
 * accept4/accept/close syscalls with the descriptor resolved to its socket.
 * Every set counts retransmits at tcp:tcp_retransmit_skb. Where the sets see
 * other events: docs/CHARTS.md. */
#include "lib/common.h"
#include "socket.h"

#define ACCOUNTING_COUNTERS SOCKET_COUNTERS
typedef struct socket_value table_value_t;
typedef struct socket_global_value global_value_t;
#include "lib/accounting.h"
#include "lib/current_task.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Who uses a TCP socket, so a retransmit (run from a timer, in no process's
 * context) is counted for that process. The task pointer is only used after
 * its tgid and start time read back the same. */
struct socket_owner {
	__u64 task;
	__u64 start_time;
	__u32 tgid;
	__u32 unused;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* struct sock * */
	__type(value, struct socket_owner);
} socket_owners SEC(".maps");

static __always_inline bool is_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return family == AF_INET || family == AF_INET6;
}

static __always_inline bool is_tcp(const struct sock *sk)
{
	return is_inet(sk) && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP;
}

static __always_inline bool is_udp(const struct sock *sk)
{
	__u16 protocol = BPF_CORE_READ(sk, sk_protocol);

	return is_inet(sk) && (protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE);
}

static __always_inline void remember_owner(const struct sock *sk)
{
	struct task_struct *task = current_task();
	__u64 key = (__u64)sk;
	struct socket_owner *known = bpf_map_lookup_elem(&socket_owners, &key);

	if (known && known->task == (__u64)task)
		return;
	struct socket_owner owner = {
		.task = (__u64)task,
		.start_time = BPF_CORE_READ(task, start_time),
		.tgid = bpf_get_current_pid_tgid() >> 32,
	};
	bpf_map_update_elem(&socket_owners, &key, &owner, BPF_ANY);
}

static __always_inline void count(__u32 index)
{
	account(current_task(), TASK_CURRENT, index, false);
}

/* One send or receive that returned `ret`; `call` is the first of the CALL,
 * ERROR, BYTES counters of its kind. */
static __always_inline void count_transfer(__u32 call, int ret)
{
	bool failed = ret < 0;
	struct counter_change changes[] = {
		{call, 1},
		{call + 1, failed},
		{call + 2, failed ? 0 : (__u64)ret},
	};

	account_changes(current_task(), TASK_CURRENT, changes, 3, false);
}

/* Sends, connects and accepts name a socket's user; a socket that only
 * receives retransmits nothing but its FIN, known from its accept. */
static __always_inline void count_tcp_transfer(const struct sock *sk, __u32 call, int ret)
{
	count_transfer(call, ret);
	remember_owner(sk);
}

static __always_inline void count_connect(const struct sock *sk, __u16 family)
{
	/* tcp_v6_connect hands IPv4-mapped addresses to tcp_v4_connect: the
	 * socket's own family decides, once */
	if (BPF_CORE_READ(sk, __sk_common.skc_family) != family)
		return;
	count(family == AF_INET ? SOCKET_TCP_CONNECT_V4 : SOCKET_TCP_CONNECT_V6);
	remember_owner(sk);
}

static __always_inline void count_accept(const struct sock *newsk)
{
	if (!newsk || !is_tcp(newsk))
		return;
	count(SOCKET_TCP_ACCEPT);
	remember_owner(newsk);
}

/* An event no process can be named for: the system charts only. */
static __always_inline void count_in_global_only(__u32 index)
{
	__u32 zero = 0;
	global_value_t *global = bpf_map_lookup_elem(&global_table, &zero);

	if (global)
		add_to_global(&global->counters[index], 1);
}

static __always_inline void count_retransmit(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct socket_owner *owner = bpf_map_lookup_elem(&socket_owners, &key);

	if (owner) {
		struct task_struct *task = (struct task_struct *)owner->task;
		if (BPF_CORE_READ(task, start_time) == owner->start_time &&
		    BPF_CORE_READ(task, tgid) == owner->tgid) {
			account(task, TASK_PROBE_READ, SOCKET_TCP_RETRANSMIT, true);
			return;
		}
	}
	count_in_global_only(SOCKET_TCP_RETRANSMIT);
}

/* ---- trampoline ---- */

SEC("fexit/tcp_sendmsg")
int BPF_PROG(fexit_tcp_sendmsg, struct sock *sk, void *msg, size_t size, int ret)
{
	count_tcp_transfer(sk, SOCKET_TCP_SEND_CALL, ret);
	return 0;
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(fexit_udp_sendmsg, struct sock *sk, void *msg, size_t len, int ret)
{
	/* udpv6_sendmsg passes IPv4-mapped destinations on: counted there */
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
		count_transfer(SOCKET_UDP_SEND_CALL, ret);
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(fexit_udpv6_sendmsg, struct sock *sk, void *msg, size_t len, int ret)
{
	count_transfer(SOCKET_UDP_SEND_CALL, ret);
	return 0;
}

/* Receive functions lost `noblock` in 5.19 and `addr_len` in 6.18: one
 * program per parameter count, named by it. */
#define FEXIT_RECVMSG(function, counted)                                                          \
	SEC("fexit/" #function)                                                                   \
	int BPF_PROG(fexit_##function##6, struct sock *sk, void *msg, size_t len, int noblock,    \
		     int flags, int *addr_len, int ret)                                           \
	{                                                                                         \
		counted;                                                                          \
		return 0;                                                                         \
	}                                                                                         \
	SEC("fexit/" #function)                                                                   \
	int BPF_PROG(fexit_##function##5, struct sock *sk, void *msg, size_t len, int flags,      \
		     int *addr_len, int ret)                                                      \
	{                                                                                         \
		counted;                                                                          \
		return 0;                                                                         \
	}                                                                                         \
	SEC("fexit/" #function)                                                                   \
	int BPF_PROG(fexit_##function##4, struct sock *sk, void *msg, size_t len, int flags,      \
		     int ret)                                                                     \
	{                                                                                         \
		counted;                                                                          \
		return 0;                                                                         \
	}

FEXIT_RECVMSG(tcp_recvmsg, count_transfer(SOCKET_TCP_RECV_CALL, ret))
FEXIT_RECVMSG(udp_recvmsg, count_transfer(SOCKET_UDP_RECV_CALL, ret))
FEXIT_RECVMSG(udpv6_recvmsg, count_transfer(SOCKET_UDP_RECV_CALL, ret))

SEC("fentry/tcp_v4_connect")
int BPF_PROG(fentry_tcp_v4_connect, struct sock *sk)
{
	count_connect(sk, AF_INET);
	return 0;
}

SEC("fentry/tcp_v6_connect")
int BPF_PROG(fentry_tcp_v6_connect, struct sock *sk)
{
	count_connect(sk, AF_INET6);
	return 0;
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_inet_csk_accept4, struct sock *sk, int flags, int *err, bool kern, struct sock *ret)
{
	count_accept(ret);
	return 0;
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_inet_csk_accept2, struct sock *sk, void *arg, struct sock *ret)
{
	count_accept(ret);
	return 0;
}

SEC("fentry/tcp_close")
int BPF_PROG(fentry_tcp_close, struct sock *sk)
{
	count(SOCKET_TCP_CLOSE);
	return 0;
}

/* ---- kprobe ---- */

#define KRETPROBE_TRANSFER(function, call)                                      \
	SEC("kretprobe/" #function)                                             \
	int BPF_KRETPROBE(kretprobe_##function, long ret)                       \
	{                                                                       \
		/* an int: the upper half of the register is not part of it */ \
		count_transfer(call, (int)ret);                                 \
		return 0;                                                       \
	}

/* a return probe cannot see the socket: the entry probe names its user */
#define KPROBE_OWNER(function)                                                  \
	SEC("kprobe/" #function)                                                \
	int BPF_KPROBE(kprobe_##function, struct sock *sk)                      \
	{                                                                       \
		remember_owner(sk);                                             \
		return 0;                                                       \
	}

KPROBE_OWNER(tcp_sendmsg)
KRETPROBE_TRANSFER(tcp_sendmsg, SOCKET_TCP_SEND_CALL)
KRETPROBE_TRANSFER(tcp_recvmsg, SOCKET_TCP_RECV_CALL)
KRETPROBE_TRANSFER(udp_sendmsg, SOCKET_UDP_SEND_CALL)
KRETPROBE_TRANSFER(udpv6_sendmsg, SOCKET_UDP_SEND_CALL)
KRETPROBE_TRANSFER(udp_recvmsg, SOCKET_UDP_RECV_CALL)
KRETPROBE_TRANSFER(udpv6_recvmsg, SOCKET_UDP_RECV_CALL)

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_tcp_v4_connect, struct sock *sk)
{
	count_connect(sk, AF_INET);
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_tcp_v6_connect, struct sock *sk)
{
	count_connect(sk, AF_INET6);
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(kretprobe_inet_csk_accept, struct sock *newsk)
{
	count_accept(newsk);
	return 0;
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(kprobe_tcp_close)
{
	count(SOCKET_TCP_CLOSE);
	return 0;
}

/* ---- tracepoint ---- */

SEC("tp_btf/sock_send_length")
int BPF_PROG(tp_sock_send_length, struct sock *sk, int ret)
{
	if (is_tcp(sk))
		count_tcp_transfer(sk, SOCKET_TCP_SEND_CALL, ret);
	else if (is_udp(sk))
		count_transfer(SOCKET_UDP_SEND_CALL, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tp_sock_recv_length, struct sock *sk, int ret)
{
	if (is_tcp(sk))
		count_transfer(SOCKET_TCP_RECV_CALL, ret);
	else if (is_udp(sk))
		count_transfer(SOCKET_UDP_RECV_CALL, ret);
	return 0;
}

/* a connect() starts the handshake in the caller's context */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT && is_tcp(sk))
		count_connect(sk, BPF_CORE_READ(sk, __sk_common.skc_family));
	return 0;
}

/* Retransmits, on every path: __tcp_retransmit_skb is inlined into
 * tcp_retransmit_skb on some kernels (6.1), where a probe on it misses the
 * calls that way, and a probe on tcp_retransmit_skb misses tail loss probes.
 * Kernels before the `err` argument trace successful retransmits only. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_tcp_retransmit_skb, struct sock *sk)
{
	count_retransmit(sk);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_tcp_retransmit_skb_err, struct sock *sk, struct sk_buff *skb, int err)
{
	if (err == 0)
		count_retransmit(sk);
	return 0;
}

/* The open file behind descriptor fd of the current process. */
static __always_inline struct file *current_file(long fd)
{
	struct task_struct *task = current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *file = NULL;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

static __always_inline struct sock *tcp_sock_of(struct file *file)
{
	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *socket = BPF_CORE_READ(file, private_data);
	struct sock *sk = BPF_CORE_READ(socket, sk);
	return sk && is_tcp(sk) ? sk : NULL;
}

struct file___f_count {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* Closing the last reference is what calls tcp_close. file_ref_t (6.13+)
 * stores the count minus one. */
static __always_inline bool last_reference(struct file *file)
{
	if (bpf_core_field_exists(struct file, f_ref))
		return BPF_CORE_READ(file, f_ref.refcnt.counter) == 0;
	return BPF_CORE_READ((struct file___f_count *)file, f_count.counter) == 1;
}

#define ACCEPT_EXIT_PROGRAM(syscall)                                        \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                       \
	int tp_sys_exit_##syscall(struct trace_event_raw_sys_exit *ctx)     \
	{                                                                   \
		if (ctx->ret >= 0)                                          \
			count_accept(tcp_sock_of(current_file(ctx->ret)));  \
		return 0;                                                   \
	}

ACCEPT_EXIT_PROGRAM(accept)
ACCEPT_EXIT_PROGRAM(accept4)

SEC("tracepoint/syscalls/sys_enter_close")
int tp_sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct file *file = current_file(ctx->args[0]);

	if (tcp_sock_of(file) && last_reference(file))
		count(SOCKET_TCP_CLOSE);
	return 0;
}
