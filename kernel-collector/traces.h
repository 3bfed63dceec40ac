/* traces: Fluent Bit's in_ebpf events (exec, signal, bind, tcp, vfs,
 * malloc), shared between traces.bpf.c and plugin/traces/. Every layout has
 * explicit padding: user space reads the bytes the kernel wrote. */
#ifndef EBPF_PLUGIN_TRACES_H
#define EBPF_PLUGIN_TRACES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum trace_kind {
	TRACE_EXEC,
	TRACE_SIGNAL,
	TRACE_BIND,
	TRACE_TCP,
	TRACE_VFS,
	TRACE_MALLOC,
	TRACE_KINDS,
};

/* What became of each event, per trace (the `counts` map, per CPU): a row
 * per trace, and one more for exec's enter records, so that the exec charts
 * count execs (their exit records) and netdata.ebpf_traces every record. */
#define TRACE_EXEC_ENTER_ROW TRACE_KINDS
#define TRACE_COUNT_ROWS (TRACE_KINDS + 1)

enum trace_outcome {
	TRACE_EMITTED,      /* written to the ring */
	TRACE_RING_FULL,    /* the ring had no room: user space reads too slowly */
	TRACE_RATE_LIMITED, /* over the trace's records per second */
	TRACE_OUTCOMES,
};

#define TRACE_COMM_LEN 16
#define TRACE_PATH_LEN 256
#define TRACE_ARG_LEN 128

/* Fluent Bit's exec stages: a record when execve is called, one when it returns. */
enum trace_exec_stage { TRACE_EXEC_EXIT, TRACE_EXEC_ENTER };
enum trace_tcp_op { TRACE_TCP_LISTEN, TRACE_TCP_ACCEPT, TRACE_TCP_CONNECT };
/* Fluent Bit's vfs operations (openat = 0); the rest are this plugin's. */
enum trace_vfs_op { TRACE_VFS_OPENAT, TRACE_VFS_UNLINKAT };
/* Fluent Bit's memory operations. */
enum trace_malloc_op { TRACE_MALLOC_MALLOC, TRACE_MALLOC_FREE, TRACE_MALLOC_CALLOC, TRACE_MALLOC_REALLOC };

/* A socket address read from the caller's sockaddr or the socket. */
struct trace_addr {
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
	__u16 family;  /* AF_INET, AF_INET6; 0: none */
	__u16 port;    /* host order */
	__u8 padding[4];
};

struct trace_exec {
	__s32 error;    /* positive errno, 0: success */
	__u32 ppid;
	__u32 argc;     /* counted up to TRACE_MAX_ARGS */
	__u32 stage;    /* enum trace_exec_stage */
	char filename[TRACE_PATH_LEN];
	char argv[4][TRACE_ARG_LEN]; /* argv[0], argv[1], argv[2], the last when argc > 3 */
};
#define TRACE_MAX_ARGS 64

struct trace_signal {
	__s32 signal;
	__s32 tpid;     /* as given to kill(2): may be 0 or negative (a group) */
	__s32 error;
	__u32 padding;
};

struct trace_bind {
	struct trace_addr local;
	__u32 bound_dev_if;
	__s32 fd;
	__s32 error;
	__u32 padding;
};

struct trace_tcp {
	struct trace_addr peer; /* accept: the peer; connect: the remote */
	__s32 fd;
	__s32 backlog;
	__s32 new_fd;
	__s32 error;
	__u8 op;                /* enum trace_tcp_op */
	__u8 padding[7];
};

struct trace_vfs {
	__u32 op;               /* enum trace_vfs_op */
	__u32 flags;
	__u32 mode;
	__s32 fd;               /* returned (openat) or given (the directory) */
	__s32 error;
	__u32 padding;
	char path[TRACE_PATH_LEN];
};

struct trace_malloc {
	__u64 address;
	__u64 size;
	__u32 op;               /* enum trace_malloc_op */
	__u32 padding;
};

struct traced_event {
	__u64 time_ns;          /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgroup_id;
	__u32 kind;             /* enum trace_kind */
	__u32 pid;              /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u32 padding;
	char comm[TRACE_COMM_LEN];
	union {
		struct trace_exec exec;
		struct trace_signal signal;
		struct trace_bind bind;
		struct trace_tcp tcp;
		struct trace_vfs vfs;
		struct trace_malloc malloc;
	};
};

/* Per trace (enum trace_kind), for the rate limit. */
struct trace_window {
	__u64 second;           /* time_ns / 1e9 of the window */
	__u64 events;           /* seen in that window */
};

#define TRACE_HEADER_SIZE 56

#ifdef __cplusplus
#define TRACE_ASSERT static_assert
#else
#define TRACE_ASSERT _Static_assert
#endif
TRACE_ASSERT(sizeof(struct trace_addr) == 24, "trace_addr layout is shared with user space");
TRACE_ASSERT(sizeof(struct trace_exec) == 16 + TRACE_PATH_LEN + 4 * TRACE_ARG_LEN, "trace_exec layout");
TRACE_ASSERT(sizeof(struct trace_bind) == 40, "trace_bind layout");
TRACE_ASSERT(sizeof(struct trace_tcp) == 48, "trace_tcp layout");
TRACE_ASSERT(sizeof(struct trace_vfs) == 24 + TRACE_PATH_LEN, "trace_vfs layout");
TRACE_ASSERT(sizeof(struct trace_malloc) == 24, "trace_malloc layout");
TRACE_ASSERT(sizeof(struct traced_event) == TRACE_HEADER_SIZE + sizeof(struct trace_exec), "trace_event layout");
#undef TRACE_ASSERT

#endif
