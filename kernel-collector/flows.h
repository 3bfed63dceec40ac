/* flows: one entry per TCP socket (and connected UDP socket), shared between
 * flows.bpf.c and plugin/net/flows.cpp. */
#ifndef EBPF_PLUGIN_FLOWS_H
#define EBPF_PLUGIN_FLOWS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum flow_direction {
	FLOW_DIRECTION_UNKNOWN,  /* the socket was open before the programs were attached */
	FLOW_DIRECTION_OUTGOING, /* it connected */
	FLOW_DIRECTION_INCOMING, /* it was accepted */
};

/* Keyed by the socket's cookie (a __u64 the kernel never hands out twice),
 * not its address: a freed struct sock is soon reused by a new connection
 * while the old entry still waits to be reported. */
struct flow_value {
	__u8 saddr[16];         /* local address: IPv4 in the first 4 bytes */
	__u8 daddr[16];         /* remote address */
	__u64 bytes_read;       /* returned by receives (MSG_PEEK left out) */
	__u64 bytes_written;    /* returned by sends */
	__u64 cgroup_id;        /* of the process that owns it */
	__u32 retransmits;      /* segments retransmitted */
	__u32 srtt_us;          /* smoothed RTT, µs (tcp_sock srtt_us >> 3), last seen */
	__u32 mdev_us;          /* its mean deviation, µs (mdev_us >> 2) */
	__u32 pid;              /* tgid; 0 until a send, receive or connect names it */
	char comm[16];
	__u16 family;           /* AF_INET or AF_INET6 */
	__u16 sport;            /* local port, host order */
	__u16 dport;            /* remote port, host order */
	__u8 protocol;          /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 direction;         /* enum flow_direction */
	__u8 established;       /* reached ESTABLISHED */
	__u8 closed;            /* reached CLOSE: reported once more, then deleted */
	__u8 padding[2];
	__u32 calls_read;       /* receives that returned bytes (the network viewer's "packets") */
	__u32 calls_written;    /* sends that returned bytes */
	__u32 padding2;
};

#ifdef __cplusplus
static_assert(sizeof(struct flow_value) == 112, "flow_value layout is shared with user space");
#else
_Static_assert(sizeof(struct flow_value) == 112, "flow_value layout is shared with user space");
#endif

#endif
