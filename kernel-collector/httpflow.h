/* httpflow: what httpflow.bpf.c sends user space (plugin/net/http_source.cpp)
 * for each read or write on a TCP socket that carries HTTP. */
#ifndef EBPF_PLUGIN_HTTPFLOW_H
#define EBPF_PLUGIN_HTTPFLOW_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes copied from the start of each buffer: a request or status line and
 * its headers, or several pipelined small requests. */
#define HTTP_CAPTURE_BYTES 4096

enum http_event_kind {
	HTTP_EVENT_READ = 1,  /* the process received `length` bytes */
	HTTP_EVENT_WRITE = 2, /* the process sent `length` bytes */
	HTTP_EVENT_CLOSE = 3, /* the socket reached TCP_CLOSE */
};

struct http_event {
	__u64 time_ns;          /* bpf_ktime_get_ns() when the call returned */
	__u64 socket;           /* the struct sock's address: the connection */
	__u64 cgroup_id;
	__u64 length;           /* bytes the call moved */
	__u32 pid;              /* tgid */
	__u16 captured;         /* bytes of data[] filled: min(length, HTTP_CAPTURE_BYTES) */
	__u8 kind;              /* enum http_event_kind */
	__u8 tls;               /* plaintext of libssl's SSL_read/SSL_write */
	__u16 family;           /* AF_INET or AF_INET6 */
	__u16 sport;            /* local port, host order */
	__u16 dport;            /* remote port, host order */
	__u16 padding2;
	__u8 saddr[16];         /* local address: IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[16];
	__u8 data[HTTP_CAPTURE_BYTES];
};

#define HTTP_EVENT_HEADER_BYTES (sizeof(struct http_event) - HTTP_CAPTURE_BYTES)

#endif
