/* traces.bpf.c's socket helpers: the socket behind a descriptor of the
 * current task, and socket addresses from the caller's memory or the socket. */
#ifndef EBPF_PLUGIN_TRACE_SOCKETS_H
#define EBPF_PLUGIN_TRACE_SOCKETS_H

#include "lib/common.h"
#include "lib/current_task.h"
#include <bpf/bpf_endian.h>
#include "traces.h"

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

static __always_inline struct sock *socket_of_fd(long fd)
{
	struct task_struct *task = current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *file = NULL;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *socket = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(socket, sk);
}

static __always_inline bool is_inet_tcp(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return (family == AF_INET || family == AF_INET6) && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP;
}

/* An AF_INET or AF_INET6 sockaddr from the caller's memory; false for any other. */
static __always_inline bool read_user_addr(struct trace_addr *addr, const void *user_addr)
{
	__u16 family = 0;

	if (!user_addr || bpf_probe_read_user(&family, sizeof(family), user_addr))
		return false;
	if (family == AF_INET) {
		struct sockaddr_in in = {};
		bpf_probe_read_user(&in, sizeof(in), user_addr);
		__builtin_memcpy(addr->addr, &in.sin_addr, 4);
		addr->port = bpf_ntohs(in.sin_port);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 in6 = {};
		bpf_probe_read_user(&in6, sizeof(in6), user_addr);
		__builtin_memcpy(addr->addr, &in6.sin6_addr, 16);
		addr->port = bpf_ntohs(in6.sin6_port);
	} else {
		return false;
	}
	addr->family = family;
	return true;
}

static __always_inline void read_remote_addr(struct trace_addr *addr, const struct sock *sk)
{
	addr->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (addr->family == AF_INET)
		BPF_CORE_READ_INTO((__u32 *)addr->addr, sk, __sk_common.skc_daddr);
	else
		bpf_core_read(addr->addr, sizeof(addr->addr), &sk->__sk_common.skc_v6_daddr);
	addr->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

#endif
