/* bash: the command lines every bash reads, for DataKit's `bash` records
 * (plugin/bash/bash_source.cpp). A uretprobe on readline() in each bash
 * binary user space names (the probe is on the file's inode: every process
 * running it, whatever path it was started by); readline's return value is
 * the line. An empty line and end of input (NULL) are not commands.
 * Lines over the per-window limit, or that find the ring buffer full, are
 * counted, never waited for. */
#include "lib/common.h"
#include "bash.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* [bash] ring buffer size */
} bash_events SEC(".maps");

struct bash_counters counters;

static __always_inline int record_line(const char *line)
{
	struct bash_event *event;
	char first = 0;

	if (!line || bpf_probe_read_user(&first, 1, line) || !first)
		return 0;
	if (counters.window_limit && counters.window_lines >= counters.window_limit) {
		__sync_fetch_and_add(&counters.rate_dropped, 1);
		return 0;
	}
	event = bpf_ringbuf_reserve(&bash_events, sizeof(*event), 0);
	if (!event) {
		__sync_fetch_and_add(&counters.ring_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&counters.window_lines, 1);
	event->time_ns = bpf_ktime_get_ns();
	event->cgroup_id = bpf_get_current_cgroup_id();
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->truncated = 0;
	long length = bpf_probe_read_user_str(event->line, sizeof(event->line), line);
	if (length < 0) {
		event->line[0] = 0;
	} else if (length == sizeof(event->line)) {
		char next = 0;
		/* the buffer is full: the line was cut unless its NUL came last */
		bpf_probe_read_user(&next, 1, line + sizeof(event->line) - 1);
		event->truncated = next != 0;
	}
	bpf_ringbuf_submit(event, 0);
	return 0;
}

/* BPF_KRETPROBE: libbpf 1.1 (Debian 12) has no BPF_URETPROBE; same registers */
SEC("uretprobe")
int BPF_KRETPROBE(bash_readline, const char *line)
{
	return record_line(line);
}
