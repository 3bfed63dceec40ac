"""What one run of tests/live/workload.cpp causes, by counter, and which module counts it
(live_test.py; tests/e2e/run.sh works out the same numbers)."""

RUNS = {  # workload arguments of the two runs
    "cgroup": {"forks": 20, "threads": 15, "opens": 30, "failed_opens": 7, "failed_closes": 5,
               "io": 5, "io_size": 4096, "creates": 4, "fsyncs": 6, "failed_io": 3},
    "service": {"forks": 3, "threads": 2, "opens": 4, "failed_opens": 1, "failed_closes": 1,
                "io": 2, "io_size": 1000, "creates": 1, "fsyncs": 2, "failed_io": 1},
}
VFS_OPENS, VFS_CLOSES = 3, 5  # of the workload's VFS part (tests/live/workload.cpp)
SOCKET_RUNS = {  # the socket part (tests/live/workload_socket.cpp); the cgroup run also provokes retransmits
    "cgroup": {"tcp": 5, "tcp_bytes": 10000, "udp": 6, "udp_size": 300, "socket_errors": 3},
    "service": {"tcp": 2, "tcp_bytes": 777, "udp": 1, "udp_size": 1, "socket_errors": 1},
}
RETRANSMIT_BYTES = 100  # the message sent while its packets are dropped (workload_socket.cpp)


def expected_counters(work, return_mode, path, output_bytes):
    """What one workload run causes, by counter name (see tests/live/workload.cpp).
    return_mode: module -> whether it runs in return mode; path: the vfs module's
    attach path; output_bytes: the workload's one line of output."""
    tasks = work["forks"] + work["threads"] + 1
    counters = {
        "create_process": work["forks"], "create_thread": work["threads"],
        "exit_task": tasks, "release_task": tasks,
        "open_call": work["opens"] + work["failed_opens"] + VFS_OPENS,
        "close_call": work["opens"] + work["failed_closes"] + VFS_CLOSES,
    }
    if return_mode["fd"]:
        counters.update({"open_error": work["failed_opens"], "close_error": work["failed_closes"]})
    if return_mode["process"]:
        counters["task_error"] = 0
    counters.update(expected_vfs_counters(work, return_mode["vfs"], path, output_bytes))
    return counters


def expected_vfs_counters(work, return_mode, path, output_bytes):
    """docs/CHARTS.md, "What each attach path sees": vfs_open also sees the exec of
    the (static) workload; the open syscall tracepoints also see opens that fail
    in the path lookup, before any VFS open."""
    io_calls, io_bytes = 4 * work["io"], 4 * work["io"] * work["io_size"]
    syscalls = path == "tracepoint"
    counters = {
        "vfs_read_call": io_calls + work["failed_io"], "vfs_read_bytes": io_bytes,
        "vfs_write_call": io_calls + work["failed_io"] + 1, "vfs_write_bytes": io_bytes + output_bytes,
        "vfs_fsync_call": work["fsyncs"] + 1, "vfs_create_call": work["creates"],
        "vfs_unlink_call": work["creates"] + 1,
        "vfs_open_call": work["opens"] + VFS_OPENS + (work["failed_opens"] if syscalls else 1),
    }
    if return_mode:
        counters.update({"vfs_read_error": work["failed_io"], "vfs_write_error": work["failed_io"],
                         "vfs_fsync_error": 1, "vfs_create_error": 0,
                         "vfs_open_error": work["failed_opens"] if syscalls else 0})
    return counters


def socket_counters(work, netns, retransmits, return_mode):
    """What the socket part causes: per address family (IPv4, IPv6), C connections
    with B bytes each way in one send and one recv per side, and D datagrams of S
    bytes each way; E failing sends and E failing receives of each protocol (IPv4);
    in the namespace one more IPv4 connection carrying RETRANSMIT_BYTES one way.
    Also the fd and vfs modules' share: every socket is closed with close(2), and
    the namespace is opened and closed."""
    c, b, d, s, e, ns = (work["tcp"], work["tcp_bytes"], work["udp"], work["udp_size"], work["socket_errors"],
                         1 if netns else 0)
    tcp_bytes = 4 * c * b + ns * RETRANSMIT_BYTES
    udp_bytes = 4 * d * s
    counters = {
        "tcp_connect_v4": c + ns, "tcp_connect_v6": c, "tcp_accept": 2 * c + ns,
        "tcp_send_call": 4 * c + e + ns, "tcp_recv_call": 4 * c + e + ns,
        "tcp_send_bytes": tcp_bytes, "tcp_recv_bytes": tcp_bytes,
        "tcp_close": 4 * c + 2 + 3 * ns, "tcp_retransmit": retransmits,
        "udp_send_call": 4 * d + e, "udp_recv_call": 4 * d + e,
        "udp_send_bytes": udp_bytes, "udp_recv_bytes": udp_bytes,
        "send_bytes": tcp_bytes + udp_bytes, "recv_bytes": tcp_bytes + udp_bytes,
        "open_call": ns, "close_call": 4 * c + 2 + 4 + 4 * ns, "vfs_open_call": ns,
    }
    if return_mode:
        counters.update({"tcp_send_error": e, "tcp_recv_error": e, "udp_send_error": e, "udp_recv_error": e})
    return counters


def add(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


MODULE_OF = {"create_process": "process", "create_thread": "process", "exit_task": "process",
             "release_task": "process", "task_error": "process", "open_call": "fd", "open_error": "fd",
             "close_call": "fd", "close_error": "fd"}
MODULE_OF.update({c: "vfs" for c in expected_vfs_counters(RUNS["cgroup"], True, "trampoline", 0)})
MODULE_OF.update({c: "socket" for c in socket_counters(SOCKET_RUNS["cgroup"], True, 0, True) if c not in MODULE_OF})
