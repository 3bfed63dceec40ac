/* socket module: shared between socket.bpf.c and plugin/modules/socket.cpp */
#ifndef EBPF_PLUGIN_SOCKET_H
#define EBPF_PLUGIN_SOCKET_H

#include "lib/table_value.h"

/* u64 counters: bytes would wrap a u32 within one cycle (4 GiB, one second
 * of a loopback stream). */
enum socket_counter {
	SOCKET_TCP_CONNECT_V4,     /* TCP connections started from an IPv4 socket */
	SOCKET_TCP_CONNECT_V6,     /* ... from an IPv6 socket */
	SOCKET_TCP_ACCEPT,         /* TCP connections accepted */
	SOCKET_TCP_SEND_CALL,      /* tcp_sendmsg returns */
	SOCKET_TCP_SEND_ERROR,     /* ... with an error */
	SOCKET_TCP_SEND_BYTES,     /* bytes those sends moved */
	SOCKET_TCP_RECV_CALL,      /* tcp_recvmsg returns */
	SOCKET_TCP_RECV_ERROR,
	SOCKET_TCP_RECV_BYTES,
	SOCKET_TCP_CLOSE,          /* TCP sockets closed by their process */
	SOCKET_TCP_RETRANSMIT,     /* segments retransmitted */
	SOCKET_UDP_SEND_CALL,      /* udp_sendmsg/udpv6_sendmsg returns */
	SOCKET_UDP_SEND_ERROR,
	SOCKET_UDP_SEND_BYTES,
	SOCKET_UDP_RECV_CALL,      /* udp_recvmsg/udpv6_recvmsg returns */
	SOCKET_UDP_RECV_ERROR,
	SOCKET_UDP_RECV_BYTES,
	SOCKET_COUNTERS
};

DEFINE_TABLE_VALUES_OF(socket, SOCKET_COUNTERS, __u64);

#endif
