/* dns: the first bytes of every DNS message (UDP or TCP, port 53) that a
 * local socket sends or receives, to a ring buffer; user space parses and
 * matches them (plugin/net/dns_parser.cpp, dns_tracker.cpp).
 * cgroup_skb programs on the root cgroup (no kprobe): they see each packet
 * once per local socket, in every network namespace, with the socket's cgroup;
 * egress runs in the sender's context, which names the process. */
#include "lib/common.h"
#include <bpf/bpf_endian.h>
#include "dns.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define DNS_PORT 53

/* cgroup_skb egress programs may call bpf_get_current_comm only on some
 * kernels (not Debian's 6.12): off, the call is dead code the verifier drops,
 * and user space reads /proc/PID/comm */
const volatile bool can_read_comm = true;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* sized from [dns flows] ring buffer size */
} dns_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DNS_DROP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} dns_drops SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&dns_drops, &reason);

	if (count)
		*count += 1;
}

/* Fills addresses and protocol from the IP header; returns the L4 offset, or
 * 0 when the packet is not UDP or TCP right after the IP header. */
static __always_inline __u32 read_ip(struct __sk_buff *skb, struct dns_packet *event)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return 0;
		if (ip.frag_off & bpf_htons(0x3fff)) /* a fragment: no L4 header of its own */
			return 0;
		event->family = AF_INET;
		event->protocol = ip.protocol;
		__builtin_memcpy(event->saddr, &ip.saddr, 4);
		__builtin_memcpy(event->daddr, &ip.daddr, 4);
		return ip.ihl * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return 0;
		event->family = AF_INET6;
		event->protocol = ip6.nexthdr; /* extension headers are left out */
		__builtin_memcpy(event->saddr, &ip6.saddr, 16);
		__builtin_memcpy(event->daddr, &ip6.daddr, 16);
		return sizeof(ip6);
	}
	return 0;
}

static __always_inline void capture(struct __sk_buff *skb, __u8 egress)
{
	struct dns_packet header = {};
	__u32 offset = read_ip(skb, &header);
	__u16 ports[2];

	if (offset < sizeof(struct iphdr))
		return;
	if (header.protocol != IPPROTO_UDP && header.protocol != IPPROTO_TCP)
		return;
	if (bpf_skb_load_bytes(skb, offset, ports, sizeof(ports)))
		return;
	header.sport = bpf_ntohs(ports[0]);
	header.dport = bpf_ntohs(ports[1]);
	if (header.sport != DNS_PORT && header.dport != DNS_PORT)
		return;
	if (header.protocol == IPPROTO_UDP) {
		offset += sizeof(struct udphdr);
	} else {
		__u8 data_offset;

		if (bpf_skb_load_bytes(skb, offset + 12, &data_offset, 1))
			return;
		offset += (data_offset >> 4) * 4;
	}
	if (skb->len <= offset)
		return; /* no payload: a TCP handshake or acknowledgement */
	__u32 length = skb->len - offset;

	struct dns_event *event = bpf_ringbuf_reserve(&dns_events, sizeof(*event), 0);
	if (!event) {
		count_drop(DNS_DROP_RING_FULL);
		return;
	}
	header.time_ns = bpf_ktime_get_ns();
	header.cgroup_id = bpf_skb_cgroup_id(skb);
	header.egress = egress;
	if (egress) {
		header.pid = bpf_get_current_pid_tgid() >> 32;
		if (can_read_comm)
			bpf_get_current_comm(header.comm, sizeof(header.comm));
	}
	/* 1 to DNS_CAPTURE_BYTES (a power of two), in a form the verifier follows */
	__u32 captured = ((length > DNS_CAPTURE_BYTES ? DNS_CAPTURE_BYTES : length) - 1) & (DNS_CAPTURE_BYTES - 1);
	header.captured = bpf_skb_load_bytes(skb, offset, event->payload, captured + 1) == 0 ? captured + 1 : 0;
	event->packet = header;
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP); /* user space reads at each report, never waits */
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb)
{
	capture(skb, 1);
	return 1; /* let every packet pass */
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	capture(skb, 0);
	return 1;
}
