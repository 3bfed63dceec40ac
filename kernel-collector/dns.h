/* dns: one event per UDP datagram or TCP segment to or from port 53 of a
 * local socket, shared between dns.bpf.c and plugin/net/dns_source.cpp. */
#ifndef EBPF_PLUGIN_DNS_H
#define EBPF_PLUGIN_DNS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define DNS_CAPTURE_BYTES 512 /* the DNS message's first bytes: header and question */

enum dns_drop {
	DNS_DROP_RING_FULL, /* the ring buffer had no room for the event */
	DNS_DROP_COUNT,
};

/* What the program knows of a packet; small enough for the BPF stack. */
struct dns_packet {
	__u64 time_ns;           /* bpf_ktime_get_ns() */
	__u64 cgroup_id;         /* of the socket */
	__u32 pid;               /* tgid of the sender (egress only; 0 on ingress) */
	char comm[16];           /* the sender's (egress only) */
	__u8 saddr[16];          /* the packet's source: IPv4 in the first 4 bytes */
	__u8 daddr[16];          /* its destination */
	__u16 sport, dport;      /* host order */
	__u16 family;            /* AF_INET or AF_INET6 */
	__u16 captured;          /* bytes of the L4 payload in payload (at most DNS_CAPTURE_BYTES) */
	__u8 protocol;           /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 egress;             /* 1: sent by a local socket; 0: received */
	__u8 padding[2];
};

struct dns_event {
	struct dns_packet packet;
	__u8 payload[DNS_CAPTURE_BYTES];
};

#ifdef __cplusplus
static_assert(sizeof(struct dns_event) == 592, "dns_event layout is shared with user space");
#else
_Static_assert(sizeof(struct dns_event) == 592, "dns_event layout is shared with user space");
#endif

#endif
