/* fd module: opens and closes of file descriptors.
 * Kernel functions differ by version; user space resolves them from BTF and
 * autoloads one variant:
 *   open   do_sys_openat2 (5.6+), else do_sys_open
 *   close  file_close_fd (6.8+, returns the file or NULL), else close_fd
 *          (5.11+), else __close_fd (both return 0 or -errno)
 * The tracepoint set counts the syscalls that reach those functions. */
#include "lib/common.h"
#include "lib/current_task.h"
#include "fd.h"

#define ACCOUNTING_COUNTERS FD_COUNTERS
typedef struct fd_value table_value_t;
typedef struct fd_global_value global_value_t;
#include "lib/accounting.h"

char LICENSE[] SEC("license") = "GPL";

/* set when the close function in use returns a struct file * */
const volatile bool close_returns_file = false;

static __always_inline void count(__u32 call, __u32 error, bool failed)
{
	struct task_struct *task = current_task();

	account(task, TASK_CURRENT, call, false);
	if (failed)
		account(task, TASK_CURRENT, error, false);
}

/* Open functions return long up to 7.1 and int from 7.2 on; a descriptor or
 * -errno fits in an int either way, and with an int return the upper half of
 * the register is not part of the value. */
static __always_inline void count_open(long ret)
{
	count(FD_OPEN_CALL, FD_OPEN_ERROR, (int)ret < 0);
}

static __always_inline void count_close(long ret)
{
	bool failed = close_returns_file ? ret == 0 : ret < 0;

	count(FD_CLOSE_CALL, FD_CLOSE_ERROR, failed);
}

/* ---- trampoline ---- */

SEC("fentry/do_sys_openat2")
int BPF_PROG(fentry_open, int dfd)
{
	count_open(0);
	return 0;
}

SEC("fexit/do_sys_openat2")
int BPF_PROG(fexit_do_sys_openat2, int dfd, const char *filename, void *how, long ret)
{
	count_open(ret);
	return 0;
}

SEC("fexit/do_sys_open")
int BPF_PROG(fexit_do_sys_open, int dfd, const char *filename, int flags, umode_t mode, long ret)
{
	count_open(ret);
	return 0;
}

SEC("fentry/close_fd")
int BPF_PROG(fentry_close, unsigned int fd)
{
	count_close(close_returns_file ? 1 : 0);
	return 0;
}

SEC("fexit/file_close_fd")
int BPF_PROG(fexit_file_close_fd, unsigned int fd, struct file *ret)
{
	/* a pointer: only compare it with NULL (the verifier refuses arithmetic on it) */
	count(FD_CLOSE_CALL, FD_CLOSE_ERROR, ret == NULL);
	return 0;
}

SEC("fexit/close_fd")
int BPF_PROG(fexit_close_fd, unsigned int fd, int ret)
{
	count_close(ret);
	return 0;
}

SEC("fexit/__close_fd")
int BPF_PROG(fexit___close_fd, void *files, unsigned int fd, int ret)
{
	count_close(ret);
	return 0;
}

/* ---- kprobe ---- */

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kprobe_open)
{
	count_open(0);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(kretprobe_open, long ret)
{
	count_open(ret);
	return 0;
}

SEC("kprobe/close_fd")
int BPF_KPROBE(kprobe_close)
{
	count_close(close_returns_file ? 1 : 0);
	return 0;
}

SEC("kretprobe/close_fd")
int BPF_KRETPROBE(kretprobe_close, long ret)
{
	/* close_fd and __close_fd return an int: the upper half of the
	 * register is not part of it */
	count_close(close_returns_file ? ret : (int)ret);
	return 0;
}

/* ---- tracepoint ---- */

#define SYSCALL_EXIT_PROGRAM(syscall, counter)                              \
	SEC("tracepoint/syscalls/sys_exit_" #syscall)                       \
	int tp_sys_exit_##syscall(struct trace_event_raw_sys_exit *ctx)     \
	{                                                                   \
		counter(ctx->ret);                                          \
		return 0;                                                   \
	}

SYSCALL_EXIT_PROGRAM(open, count_open)
SYSCALL_EXIT_PROGRAM(openat, count_open)
SYSCALL_EXIT_PROGRAM(openat2, count_open)
SYSCALL_EXIT_PROGRAM(creat, count_open)

SEC("tracepoint/syscalls/sys_exit_close")
int tp_sys_exit_close(struct trace_event_raw_sys_exit *ctx)
{
	count(FD_CLOSE_CALL, FD_CLOSE_ERROR, ctx->ret < 0);
	return 0;
}
