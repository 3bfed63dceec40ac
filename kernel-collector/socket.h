/* socket module: shared between socket.bpf.c and plugin/modules/socket.cpp */
#ifndef EBPF_PLUGIN_SOCKET_H
#define EBPF_PLUGIN_SOCKET_H

#include "lib/table_value.h"

/* Byte counts are kept as two u32 counters, bytes >> SOCKET_BYTES_SHIFT and
 * bytes & SOCKET_BYTES_REST_MASK, each differenced modulo 2^32 by user space:
 * exact while one cycle moves fewer than 256 GiB and makes fewer than 2^26
 * calls per entry (a single u32 of bytes would wrap at 4 GiB, one second of a
 * loopback stream). User space derives bytes = units * 64 + rest. */
#define SOCKET_BYTES_SHIFT 6
#define SOCKET_BYTES_REST_MASK ((1U << SOCKET_BYTES_SHIFT) - 1)

enum socket_counter {
	SOCKET_TCP_CONNECT_V4,     /* TCP connections started from an IPv4 socket */
	SOCKET_TCP_CONNECT_V6,     /* ... from an IPv6 socket */
	SOCKET_TCP_ACCEPT,         /* TCP connections accepted */
	SOCKET_TCP_SEND_CALL,      /* tcp_sendmsg returns */
	SOCKET_TCP_SEND_ERROR,     /* ... with an error */
	SOCKET_TCP_SEND_UNITS,     /* bytes sent >> SOCKET_BYTES_SHIFT */
	SOCKET_TCP_SEND_REST,      /* bytes sent & SOCKET_BYTES_REST_MASK */
	SOCKET_TCP_RECV_CALL,      /* tcp_recvmsg returns */
	SOCKET_TCP_RECV_ERROR,
	SOCKET_TCP_RECV_UNITS,
	SOCKET_TCP_RECV_REST,
	SOCKET_TCP_CLOSE,          /* TCP sockets closed by their process */
	SOCKET_TCP_RETRANSMIT,     /* segments retransmitted */
	SOCKET_UDP_SEND_CALL,      /* udp_sendmsg/udpv6_sendmsg returns */
	SOCKET_UDP_SEND_ERROR,
	SOCKET_UDP_SEND_UNITS,
	SOCKET_UDP_SEND_REST,
	SOCKET_UDP_RECV_CALL,      /* udp_recvmsg/udpv6_recvmsg returns */
	SOCKET_UDP_RECV_ERROR,
	SOCKET_UDP_RECV_UNITS,
	SOCKET_UDP_RECV_REST,
	SOCKET_PADDING,            /* never counted: values stay a multiple of 8 bytes */
	SOCKET_COUNTERS
};

DEFINE_TABLE_VALUES(socket, SOCKET_COUNTERS);

#endif
