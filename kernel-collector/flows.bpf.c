/* flows: per-connection bytes, retransmits, RTT and state, for netflow
 * records (plugin/net/flow_records.cpp). Tracepoints (Linux 6.3+ for
 * sock_send_length), so it runs where kprobes and trampolines do not:
 *   sock:inet_sock_set_state   a connect (SYN_SENT, in the caller's context),
 *                              ESTABLISHED (direction from the state before),
 *                              CLOSE (the flow is final)
 *   sock:sock_send_length,     bytes and calls, in the process's context: names the
 *   sock:sock_recv_length      owner of an accepted socket
 *   tcp:tcp_retransmit_skb     retransmits
 * Before 6.3, trampolines on tcp_sendmsg/tcp_recvmsg take the place of the
 * two sock tracepoints (TCP only: UDP is left out there).
 * User space reads the map each interval, reports deltas and deletes the
 * entries it saw closed. */
#include "lib/common.h"
#include <bpf/bpf_endian.h>
#include "flows.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384); /* [network connections] maximum number of connections */
	__type(key, __u64);         /* socket cookie */
	__type(value, struct flow_value);
} flows SEC(".maps");

static __always_inline __u16 protocol_of(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return 0;
	return BPF_CORE_READ(sk, sk_protocol);
}

static __always_inline void read_addresses(struct flow_value *flow, const struct sock *sk)
{
	flow->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (flow->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)flow->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)flow->daddr, sk, __sk_common.skc_daddr);
	} else {
		/* the whole array: BPF_CORE_READ_INTO would read sizeof(*dst), one byte */
		bpf_core_read(flow->saddr, sizeof(flow->saddr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(flow->daddr, sizeof(flow->daddr), &sk->__sk_common.skc_v6_daddr);
	}
	flow->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	flow->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline void read_rtt(struct flow_value *flow, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	flow->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	flow->mdev_us = BPF_CORE_READ(tp, mdev_us) >> 2;
}

/* Called in a process's context only (never from softirq, where "current" is
 * whoever was interrupted). */
static __always_inline void name_owner(struct flow_value *flow)
{
	if (flow->pid)
		return;
	flow->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(flow->comm, sizeof(flow->comm));
	flow->pid = bpf_get_current_pid_tgid() >> 32;
}

static __always_inline struct flow_value *find_or_add(__u64 cookie, const struct sock *sk, __u8 protocol,
						      __u8 direction)
{
	struct flow_value *flow = bpf_map_lookup_elem(&flows, &cookie);

	if (flow)
		return flow;
	struct flow_value fresh = {.protocol = protocol, .direction = direction};
	read_addresses(&fresh, sk);
	bpf_map_update_elem(&flows, &cookie, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&flows, &cookie);
}

static __always_inline void set_state(struct sock *sk, int oldstate, int newstate)
{
	/* tcp_set_state() traces a call that keeps the state too: no transition, and a second
	 * CLOSE after user space deleted the entry would report a closed connection twice */
	if (protocol_of(sk) != IPPROTO_TCP || oldstate == TCP_LISTEN || oldstate == newstate)
		return;
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct flow_value *flow;

	if (newstate == TCP_SYN_SENT) {
		flow = find_or_add(cookie, sk, IPPROTO_TCP, FLOW_DIRECTION_OUTGOING);
		if (flow)
			name_owner(flow);
	} else if (newstate == TCP_ESTABLISHED) {
		__u8 direction = oldstate == TCP_SYN_SENT ? FLOW_DIRECTION_OUTGOING : FLOW_DIRECTION_INCOMING;
		flow = find_or_add(cookie, sk, IPPROTO_TCP, direction);
		if (flow) {
			read_addresses(flow, sk); /* the local port is chosen after SYN_SENT */
			read_rtt(flow, sk);
			flow->established = 1;
		}
	} else if (newstate == TCP_CLOSE) {
		/* A child socket closed from SYN_RECV never became a connection: seen in a guest,
		 * the loser of two CPUs completing one handshake at once (same 4-tuple as the
		 * winner). Only a connection already known is closed then. */
		flow = oldstate == TCP_SYN_RECV ? bpf_map_lookup_elem(&flows, &cookie)
						 : find_or_add(cookie, sk, IPPROTO_TCP, FLOW_DIRECTION_UNKNOWN);
		if (flow) {
			if (!flow->established)
				read_addresses(flow, sk); /* a refused connect: the port is known now */
			read_rtt(flow, sk);
			flow->closed = 1;
		}
	}
}

/* One send or receive that returned `ret` bytes. Unconnected UDP sockets
 * (no remote address) are left out. A socket already closed (the final
 * receive of an active closer returns after CLOSE) or a call that moved
 * nothing adds no entry: it would never be closed again, and stay. */
static __always_inline void transfer(struct sock *sk, int ret, bool sent)
{
	__u16 protocol = protocol_of(sk);

	if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)
		return;
	if (protocol == IPPROTO_UDP && !BPF_CORE_READ(sk, __sk_common.skc_dport))
		return;
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct flow_value *flow = bpf_map_lookup_elem(&flows, &cookie);

	if (!flow && ret > 0 && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		flow = find_or_add(cookie, sk, protocol,
				   protocol == IPPROTO_UDP ? FLOW_DIRECTION_OUTGOING : FLOW_DIRECTION_UNKNOWN);
	if (!flow)
		return;
	name_owner(flow);
	if (protocol == IPPROTO_TCP)
		read_rtt(flow, sk);
	if (ret > 0) {
		__sync_fetch_and_add(sent ? &flow->bytes_written : &flow->bytes_read, (__u64)ret);
		__sync_fetch_and_add(sent ? &flow->calls_written : &flow->calls_read, 1);
	}
}

static __always_inline void retransmit(const struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct flow_value *flow = bpf_map_lookup_elem(&flows, &cookie);

	if (flow)
		__sync_fetch_and_add(&flow->retransmits, 1);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_flow_set_state, struct sock *sk, int oldstate, int newstate)
{
	set_state(sk, oldstate, newstate);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(tp_flow_send, struct sock *sk, int ret, int flags)
{
	transfer(sk, ret, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tp_flow_recv, struct sock *sk, int ret, int flags)
{
	if (!(flags & MSG_PEEK))
		transfer(sk, ret, false);
	return 0;
}

SEC("fexit/tcp_sendmsg")
int BPF_PROG(fexit_flow_tcp_sendmsg, struct sock *sk, void *msg, size_t size, int ret)
{
	transfer(sk, ret, true);
	return 0;
}

/* tcp_recvmsg lost `noblock` in 5.19 and `addr_len` in 6.18: one program per
 * parameter count, named by it. */
SEC("fexit/tcp_recvmsg")
int BPF_PROG(fexit_flow_tcp_recvmsg6, struct sock *sk, void *msg, size_t len, int noblock, int flags,
	     int *addr_len, int ret)
{
	if (!(flags & MSG_PEEK))
		transfer(sk, ret, false);
	return 0;
}

SEC("fexit/tcp_recvmsg")
int BPF_PROG(fexit_flow_tcp_recvmsg5, struct sock *sk, void *msg, size_t len, int flags, int *addr_len, int ret)
{
	if (!(flags & MSG_PEEK))
		transfer(sk, ret, false);
	return 0;
}

SEC("fexit/tcp_recvmsg")
int BPF_PROG(fexit_flow_tcp_recvmsg4, struct sock *sk, void *msg, size_t len, int flags, int ret)
{
	if (!(flags & MSG_PEEK))
		transfer(sk, ret, false);
	return 0;
}

/* Kernels before the `err` argument trace successful retransmits only. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_flow_retransmit, const struct sock *sk)
{
	retransmit(sk);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_flow_retransmit_err, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (err == 0)
		retransmit(sk);
	return 0;
}
