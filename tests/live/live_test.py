#!/usr/bin/env python3
"""Live test: the real plugin, real BPF programs on the running kernel, real
processes. A workload with known counts runs in its own app group, its own
cgroup and its own systemd-like service cgroup; the plugin must report exactly
those counts there, and at least them system-wide. Its socket part uses loopback
only, and a private network namespace (ip netns, nftables) for the retransmits.

usage: live_test.py [--attach PATH] [--expect-path PATH] [--mode entry|return]
                    [--shared-tables] [--pid-table-size N] [--recreate] [--module MODULE:KEY=VALUE]...
                    [--tree N] [--build DIR] [--results FILE]
--shared-tables: `maps per core = no` (one copy of each table, atomic adds).
--pid-table-size N: a pid table too small for the host: inserts that fail must be
counted in netdata.ebpf_table_full while cgroup and service counts stay exact.
--recreate: also remove a cgroup and create it again under the same name, and
count in cgroups named with a leading '.' and 20 levels deep.
--module MODULE:KEY=VALUE: a [global] option in ebpf.d/MODULE.conf; `ebpf load mode`
and `update every` there are expected to hold for that module's charts only.
--tree N: instead of the workload, a program named in apps_groups.conf runs, in
its own cgroup, N deep short-lived process trees (`bash -c '/bin/true; /bin/true'`,
and a subshell left behind by a parent that exits at once): every app group
counter must equal the cgroup's, however early each parent exits.
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from check_output import plugin_check_output

ATTACH_PATHS = ("trampoline", "kprobe", "tracepoint")
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
DROP_MARK = 0x65627066  # packets the namespace's nftables rule drops


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


def make_netns(name):
    """A private network namespace whose loopback drops packets marked DROP_MARK.
    Returns "" or why there is none (retransmits are then not provoked)."""
    if not shutil.which("nft"):
        return "nft is not installed"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    rules = ("table inet ebpf_live {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
             "  meta mark 0x%x drop\n }\n}\n" % DROP_MARK)
    nft = subprocess.run(["ip", "netns", "exec", name, "nft", "-f", "-"], input=rules, text=True,
                         capture_output=True)
    if nft.returncode != 0:
        subprocess.run(["ip", "netns", "del", name])
        return "nft failed: " + " ".join(nft.stderr.split())[:200]
    return ""


def add(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


class ChartDefinitions:
    """charts/*.conf: which chart and dimension shows which counter."""

    def __init__(self, directory):
        self.charts = {}
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".conf"):
                continue
            section = None
            for line in open(os.path.join(directory, name)):
                line = line.strip()
                if not line or line[0] in "#;":
                    continue
                if line.startswith("["):
                    section = line.strip("[]")
                    self.charts[section] = {"dims": [], "module": name[:-5]}
                    continue
                key, _, value = line.partition("=")
                key, value = key.strip(), value.strip()
                if key == "dimension":
                    words = value.split()
                    self.charts[section]["dims"].append((words[0], words[-1]))
                else:
                    self.charts[section][key] = value

    def by_counter(self, scope):
        """counter -> (chart id part, dimension id) for one scope."""
        found = {}
        for section, chart in self.charts.items():
            if chart.get("scope") != scope:
                continue
            part = section.split(".", 1)[1]
            if scope in ("apps", "services"):
                found[chart["counter"]] = (section, None)
            else:
                for dim, counter in chart["dims"]:
                    found.setdefault(counter, (section if scope == "system" else part, dim))
        return found


class PluginOutput:
    """Reads the plugin's stdout, keeping every line and the last value of each dimension."""

    def __init__(self, stream):
        self.lines, self.values, self.ends = [], {}, 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        chart = None
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)
                words = line.split()
                if not words:
                    continue
                if words[0] == "BEGIN":
                    chart = words[1]
                elif words[0] == "SET" and len(words) >= 4:
                    self.values[(chart, words[1])] = int(words[3])
                elif words[0] == "END":
                    self.ends += 1

    def value(self, chart, dim):
        with self.lock:
            return self.values.get((chart, dim))

    def snapshot(self):
        with self.lock:
            return dict(self.values), self.ends


MODULE_OF = {"create_process": "process", "create_thread": "process", "exit_task": "process",
             "release_task": "process", "task_error": "process", "open_call": "fd", "open_error": "fd",
             "close_call": "fd", "close_error": "fd"}
MODULE_OF.update({c: "vfs" for c in expected_vfs_counters(RUNS["cgroup"], True, "trampoline", 0)})
MODULE_OF.update({c: "socket" for c in socket_counters(SOCKET_RUNS["cgroup"], True, 0, True) if c not in MODULE_OF})
MODULES = ("process", "fd", "vfs", "socket")


class Checks:
    """Counts results, per module too: a check without a module counts for every module."""

    def __init__(self):
        self.passed = self.failed = 0
        self.failed_modules = set()

    def check(self, ok, text, module="all"):
        print(("ok - " if ok else "not ok - ") + text, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failed_modules.add(module)
        return ok


def cgroup2_root():
    for line in open("/proc/self/mounts"):
        fields = line.split()
        if fields[2] == "cgroup2":
            return fields[1]
    raise SystemExit("no cgroup2 mount")


def kernel_ids(kind):
    """Ids of every BPF program ("prog") or link ("link") in the kernel. bpftool fails
    when an object goes away while it lists them (other tools load programs too): retry."""
    for _ in range(10):
        done = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True)
        if done.returncode == 0:
            return {p["id"] for p in json.loads(done.stdout)}
        time.sleep(0.1)
    raise RuntimeError("bpftool %s show keeps failing: %s" % (kind, done.stderr.strip()))


def pid_table_keys(pid):
    """Keys of every pid_table and of the process core's process_table the plugin holds (fdinfo)."""
    keys = set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            ids = [int(l.split()[1]) for l in open(os.path.join(fdinfo, fd)) if l.startswith("map_id:")]
        except OSError:
            continue
        for map_id in ids:
            show = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(map_id)],
                                             capture_output=True, text=True).stdout or "{}")
            if show.get("name") not in ("pid_table", "process_table"):
                continue
            dump = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)],
                                  capture_output=True, text=True).stdout
            for entry in json.loads(dump or "[]"):
                keys.add(int.from_bytes(bytes(int(b, 16) for b in entry["key"]), "little"))
    return keys


def perf_attached_programs(pid):
    """Programs a process attached through perf events without a BPF link (kprobes and
    tracepoints before 5.15), from `bpftool perf` (BPF_TASK_FD_QUERY)."""
    done = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True)
    try:
        return {entry["prog_id"] for entry in json.loads(done.stdout or "[]") if entry.get("pid") == pid}
    except ValueError:
        return set()


def owned_ids(pid):
    """BPF program and link ids held by a process, from its fdinfo (others may load programs
    meanwhile), and the programs it attached: through its links, or through perf events."""
    progs, links, attached = set(), set(), perf_attached_programs(pid)
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            fields = dict(line.split(":", 1) for line in open(os.path.join(fdinfo, fd)) if ":" in line)
        except OSError:
            continue
        if "prog_id" in fields:
            progs.add(int(fields["prog_id"]))
        if "link_id" in fields:
            links.add(int(fields["link_id"]))
            if "prog_id" in fields:
                attached.add(int(fields["prog_id"]))
    return progs, links, attached


def sanitize(name):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)


def odd_cgroups(checks, output, charts, root, tag, spawn, workload, cgroup_dirs):
    """Cgroups named with a leading '.' and 20 levels deep are charted like any other."""
    part, dim = charts.by_counter("cgroup")["open_call"]
    deep = os.path.join("ebpf_deep_" + tag, *["d"] * 19)
    for relative, chart_name in ((".ebpf_dot_" + tag, "-ebpf_dot_" + tag),
                                 (deep, sanitize(deep.replace("/", "_")))):
        directory = os.path.join(root, relative)
        os.makedirs(directory)
        parts = relative.split("/")
        cgroup_dirs.extend(os.path.join(root, *parts[:i]) for i in range(len(parts), 0, -1))
        opens = 13
        subprocess.run([spawn, directory, workload, "--opens", str(opens)], check=True, capture_output=True)
        chart = "cgroup_%s.%s" % (chart_name, part)
        deadline = time.time() + 15
        while time.time() < deadline and output.value(chart, dim) != opens:
            time.sleep(0.2)
        checks.check(output.value(chart, dim) == opens, "cgroup %s (%d levels): %s %s = %s (expected %d)"
                     % (relative.split("/")[0], len(parts), chart, dim, output.value(chart, dim), opens))


def recreate_cgroup(checks, output, charts, root, tag, spawn, workload, cgroup_dirs):
    """A cgroup removed, then created again under the same name: its charts go
    obsolete within a few cycles and stay quiet, and the new one continues from
    the old totals (the agent must never see a counter go backwards)."""
    name = "ebpf_again_" + tag
    directory = os.path.join(root, name)
    part, dim = charts.by_counter("cgroup")["open_call"]
    chart = "cgroup_%s.%s" % (sanitize(name), part)
    opens = 11

    def run_workload():
        os.makedirs(directory)
        cgroup_dirs.append(directory)
        subprocess.run([spawn, directory, workload, "--opens", str(opens)], check=True, capture_output=True)

    def wait_for(condition, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline and not condition():
            time.sleep(0.2)
        return condition()

    def lines_from(start):
        with output.lock:
            return output.lines[start:]

    run_workload()
    checks.check(wait_for(lambda: output.value(chart, dim) == opens, 15),
                 "cgroup %s: %s %s = %s (expected %d)" % (name, chart, dim, output.value(chart, dim), opens))
    os.rmdir(directory)
    cgroup_dirs.remove(directory)
    removed_at, start = time.time(), len(lines_from(0))
    obsolete = lambda: any(l.startswith("CHART %s " % chart) and "'obsolete'" in l for l in lines_from(start))
    gone = wait_for(obsolete, 10)
    checks.check(gone, "removed cgroup's charts obsolete after %.1f s (at most 10)" % (time.time() - removed_at))
    time.sleep(2)
    after = lines_from(start)
    cut = next((i for i, l in enumerate(after) if l.startswith("CHART %s " % chart) and "'obsolete'" in l), 0)
    begins = [l for l in after[cut:] if l == "BEGIN " + chart or l.startswith("BEGIN %s " % chart)]
    checks.check(gone and not begins, "no update of an obsolete chart (%d BEGIN lines)" % len(begins))

    run_workload()
    checks.check(wait_for(lambda: output.value(chart, dim) == 2 * opens, 15),
                 "re-created cgroup %s continues: %s = %s (expected %d)"
                 % (name, dim, output.value(chart, dim), 2 * opens))
    sent, current = [], None
    for line in lines_from(0):
        words = line.split()
        if words[:1] == ["BEGIN"]:
            current = words[1]
        elif words[:2] == ["SET", dim] and current == chart and len(words) == 4:
            sent.append(int(words[3]))
    checks.check(sent == sorted(sent), "%s %s never goes backwards (sent %s)" % (chart, dim, sent))


def check_tree(count, checks, output, charts, spawn, shell, cgroup_dir, group, plain, return_mode, vfs_path):
    """Deep short-lived trees whose parents exit before the plugin reads them:
    the app group counts exactly what the cgroup counts."""
    script = ('for i in $(seq %d); do bash -c "/bin/true; /bin/true"; '
              'bash -c "(/bin/true; /bin/true) & exec /bin/true"; done' % count)
    subprocess.run([spawn, cgroup_dir, shell, "-c", script], check=True, capture_output=True)
    deadline = time.time() + 20  # the subshells left behind may outlive the spawn
    while open(os.path.join(cgroup_dir, "cgroup.procs")).read().strip() and time.time() < deadline:
        time.sleep(0.1)
    counters = sorted(expected_counters(RUNS["cgroup"], return_mode, vfs_path, 0))

    def values(scope):
        found = {}
        for counter in counters:
            chart, dim = charts.by_counter(scope)[counter]
            found[counter] = (output.value(chart, sanitize(group)) if scope == "apps"
                              else output.value("cgroup_%s.%s" % (sanitize(plain), chart), dim))
        return found

    started = time.time()
    stable_since, last, settled = started, None, None
    while time.time() < started + 30:
        now = (values("apps"), values("cgroup"))
        done = now[0] == now[1]
        if now != last:
            stable_since, last = time.time(), now
        if done and settled is None:
            settled = time.time() - started
        if done and time.time() - stable_since > 2.5:
            break
        time.sleep(0.2)
    print("# values settled %s" % ("after %.1f s" % settled if settled is not None else "never"), flush=True)
    apps, cgroup = values("apps"), values("cgroup")
    # per iteration at least: bash, its /bin/true child, the subshell and its two children
    checks.check((cgroup["create_process"] or 0) >= 4 * count,
                 "tree: the cgroup saw %s process creations for %d trees" % (cgroup["create_process"], count))
    for counter in counters:
        checks.check(apps[counter] == cgroup[counter], "tree: apps %s = %s, cgroup %s"
                     % (counter, apps[counter], cgroup[counter]), MODULE_OF[counter])
def not_applicable_paths(build):
    """module -> attach paths for which --check says it has no programs on this kernel ("n/a")."""
    out = plugin_check_output(build)
    found = {}
    for line in out.splitlines():
        match = re.match(r"(trampoline|kprobe|tracepoint) \((\w+) programs\): n/a", line)
        if match:
            found.setdefault(match.group(2), set()).add(match.group(1))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attach")
    parser.add_argument("--expect-path")
    parser.add_argument("--mode", default="return", choices=["entry", "return"])
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../build"))
    parser.add_argument("--results")
    parser.add_argument("--shared-tables", action="store_true")
    parser.add_argument("--pid-table-size", type=int)
    parser.add_argument("--recreate", action="store_true")
    parser.add_argument("--module", action="append", default=[])
    parser.add_argument("--tree", type=int)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
    module_options = {module: {} for module in MODULES}
    for option in args.module:
        module, _, setting = option.partition(":")
        key, _, value = setting.partition("=")
        module_options[module][key.strip()] = value.strip()
    return_mode = {m: o.get("ebpf load mode", args.mode) == "return" for m, o in module_options.items()}
    update_every = {m: int(o.get("update every", 1)) for m, o in module_options.items()}
    checks = Checks()
    charts = ChartDefinitions(os.path.join(repo, "charts"))

    tag = "%06x" % random.randrange(1 << 24)
    work = tempfile.mkdtemp(prefix="ebpf-live-")
    # A per-run process name makes the app group this run's alone.
    workload = os.path.join(work, "ewl-" + tag)
    shutil.copy("/bin/bash" if args.tree else os.path.join(build, "ebpf-workload"), workload)
    group = "live" + tag
    config = os.path.join(work, "etc")
    os.makedirs(config)
    with open(os.path.join(config, "ebpf.d.conf"), "w") as f:
        f.write("[global]\n    update every = 1\n    apps = yes\n    cgroups = yes\n"
                "    ebpf load mode = %s\n" % args.mode)
        if args.shared_tables:
            f.write("    maps per core = no\n")
        if args.pid_table_size:
            f.write("    pid table size = %d\n" % args.pid_table_size)
        f.write("[ebpf programs]\n    process = yes\n    fd = yes\n")
        f.write("    vfs = yes\n    socket = yes\n")
        for other in ("cachestat dcstat disk filesystem hardirq mdflush mount oomkill shm softirq "
                      "sync swap").split():
            f.write("    %s = no\n" % other)
    os.makedirs(os.path.join(config, "ebpf.d"))
    for module, options in module_options.items():
        if options:
            with open(os.path.join(config, "ebpf.d", module + ".conf"), "w") as f:
                f.write("[global]\n" + "".join("    %s = %s\n" % item for item in options.items()))
    with open(os.path.join(config, "apps_groups.conf"), "w") as f:
        f.write("%s: ewl-%s\n" % (group, tag))

    root = cgroup2_root()
    plain = "ebpf_live_" + tag
    service = "ebpf-live-%s" % tag
    cgroup_dirs = [os.path.join(root, plain), os.path.join(root, "system.slice", service + ".service")]
    for d in cgroup_dirs:
        os.makedirs(d)
    netns_name, netns, not_running = "ebpf-live-" + tag, False, set()

    env = dict(os.environ, NETDATA_USER_CONFIG_DIR=config, NETDATA_STOCK_CONFIG_DIR=os.path.join(work, "none"))
    command = [os.path.join(build, "ebpf.plugin"), "1"] + (["--attach", args.attach] if args.attach else [])
    stderr = open(os.path.join(work, "stderr"), "w+")
    plugin = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
    output = PluginOutput(plugin.stdout)
    try:
        netns_problem = "" if args.tree else make_netns(netns_name)
        netns = not args.tree and not netns_problem
        deadline = time.time() + 20
        while output.snapshot()[1] == 0 and time.time() < deadline and plugin.poll() is None:
            time.sleep(0.05)
        if not checks.check(output.snapshot()[1] > 0, "plugin sends data (%s mode)" % args.mode):
            stderr.seek(0)
            sys.stdout.write(stderr.read())
            return finish(checks, args)
        owned_progs, owned_links, attached = owned_ids(plugin.pid)
        # The socket module's tracepoint path needs Linux 6.3+: on older kernels it does not apply.
        stderr.seek(0)
        lines = stderr.read().splitlines()
        socket_na = "socket: no attach path works on this kernel; module disabled" in " ".join(lines) and \
            next((l for l in lines if "(Linux 6.3+)" in l), None)
        if socket_na:
            print("# socket checks skipped: " + socket_na, flush=True)
            not_running.add("socket")
        # a forced path a module has no programs for here (--check "n/a", e.g. vfs's
        # trampolines before 5.17): the module rightly does not run; its checks are skipped
        for module, paths in (not_applicable_paths(build) if args.attach else {}).items():
            if module in MODULES and args.attach in paths and module not in not_running:
                print("# %s checks skipped: --check says %s is n/a for it" % (module, args.attach), flush=True)
                not_running.add(module)
        checks.check(owned_progs and owned_progs <= attached,
                     "every program the plugin holds is attached (%d programs, %d links, %d attached)"
                     % (len(owned_progs), len(owned_links), len(attached & owned_progs)))
        status = open("/proc/%d/status" % plugin.pid).read()
        capeff = [l.split()[1] for l in status.splitlines() if l.startswith("CapEff:")][0]
        # before 5.19 map reads need CAP_BPF (39); the plugin must say so when it keeps it
        stderr.seek(0)
        keeps_bpf = "keeping CAP_BPF after attach: " in stderr.read()
        wanted = "%016x" % (1 << 39) if keeps_bpf else "0" * 16
        checks.check(capeff == wanted, "running plugin has CapEff %s (got %s)"
                     % ("CAP_BPF only, as it said" if keeps_bpf else "0", capeff))

        vfs_path = next((path for path in ATTACH_PATHS
                         if output.value("netdata.ebpf_attach_path", "vfs_" + path) == 1), None)
        spawn = os.path.join(build, "cgroup-spawn")
        if args.tree:
            check_tree(args.tree, checks, output, charts, spawn, workload, cgroup_dirs[0], group, plain,
                       return_mode, vfs_path)
        else:
            system_before = {c: output.value(chart, dim)
                             for c, (chart, dim) in charts.by_counter("system").items()}
            workload_pids, runs = [], {}
            for run, directory in zip(("cgroup", "service"), cgroup_dirs):
                vfs_dir = os.path.join(work, "vfs-" + run)
                os.makedirs(vfs_dir)
                work_args = dict(RUNS[run], **SOCKET_RUNS[run])
                arguments = [word for k, v in work_args.items() for word in ("--" + k.replace("_", "-"), str(v))]
                in_netns = run == "cgroup" and netns
                if in_netns:
                    arguments += ["--netns", "/run/netns/" + netns_name]
                done = subprocess.run([spawn, directory, workload] + arguments + ["--vfs-dir", vfs_dir],
                                      check=True, capture_output=True, text=True)
                report = json.loads(done.stdout)
                workload_pids.append(report["pid"])
                runs[run] = add(expected_counters(RUNS[run], return_mode, vfs_path, len(done.stdout.encode())),
                                socket_counters(SOCKET_RUNS[run], in_netns, report["tcp_retransmits"],
                                                return_mode["socket"]))
                if in_netns:
                    checks.check(report["tcp_retransmits"] > 0, "the kernel retransmitted %d segments of the "
                                 "workload's connection" % report["tcp_retransmits"], "socket")
            exited_at = time.time()
            if not netns:
                print("# retransmits not provoked: " + netns_problem, flush=True)

            expected = {"apps": add(runs["cgroup"], runs["service"]), "cgroup": runs["cgroup"],
                        "services": runs["service"]}
            for scope in expected:  # what the scope's charts show
                charted = charts.by_counter(scope)
                expected[scope] = {c: v for c, v in expected[scope].items()
                                   if c in charted and MODULE_OF[c] not in not_running}
            if args.pid_table_size:
                del expected["apps"]  # the pid table cannot hold the workload: that is the point

            def actual(scope, counter):
                chart, dim = charts.by_counter(scope)[counter]
                if scope == "apps":
                    return output.value(chart, sanitize(group))
                if scope == "services":
                    return output.value(chart, sanitize(service))
                return output.value("cgroup_%s.%s" % (sanitize(plain), chart), dim)

            # Values settle within a few cycles (a release is counted after an RCU
            # grace period). Exactness is the check; the time is only reported.
            started = time.time()
            deadline = started + 30
            stable_since, last, settled = time.time(), None, None
            while time.time() < deadline:
                now = {(s, c): actual(s, c) for s in expected for c in expected[s]}
                done = all(now[(s, c)] == expected[s][c] for s in expected for c in expected[s])
                if now != last:
                    stable_since, last = time.time(), now
                if done and settled is None:
                    settled = time.time() - started
                if done and time.time() - stable_since > 2.5:
                    break
                time.sleep(0.2)
            print("# values settled %s" % ("after %.1f s" % settled if settled is not None else "never"), flush=True)
            # An exited process's entries are read once more, then removed: gone two
            # cycles (2 s) after the exit at the latest, or a late reap re-created them.
            if not args.pid_table_size:
                within = 1.5 + 2 * max(update_every.values())
                time.sleep(max(0, exited_at + within - time.time()))
                left = set(workload_pids) & pid_table_keys(plugin.pid)
                checks.check(not left, "exited workload processes left the pid tables within %.1f s (%s)"
                             % (within, sorted(left)))
            for scope in expected:
                for counter, value in sorted(expected[scope].items()):
                    got = actual(scope, counter)
                    checks.check(got == value, "%s %s = %s (expected %d)" % (scope, counter, got, value),
                                 MODULE_OF[counter])

            if args.pid_table_size:
                # socket: only processes that use sockets take entries, not enough to fill it for sure
                for module in ("process", "fd", "vfs"):
                    full = output.value("netdata.ebpf_table_full", module)
                    checks.check(full is not None and full > 0,
                                 "%s: a full pid table is counted (%s failed inserts)" % (module, full), module)
            system_expected = {c: v for c, v in add(runs["cgroup"], runs["service"]).items()
                               if MODULE_OF[c] not in not_running}
            for counter, value in sorted(system_expected.items()):
                chart, dim = charts.by_counter("system").get(counter, (None, None))
                if not chart:
                    continue
                got, start = output.value(chart, dim), system_before.get(counter) or 0
                checks.check(got is not None and got - start >= value,
                             "system %s grew by %s >= %d" % (counter, None if got is None else got - start, value),
                             MODULE_OF[counter])

            if args.expect_path:
                inapplicable = {} if args.attach else not_applicable_paths(build)
                for module in sorted(set(MODULES) - not_running):
                    # auto mode takes the expected path unless this module has no programs for it
                    # here (--check "n/a", e.g. vfs's trampolines before 5.17): then the next one
                    expected = next((p for p in ATTACH_PATHS[ATTACH_PATHS.index(args.expect_path):]
                                     if p not in inapplicable.get(module, ())), args.expect_path)
                    got = {path: output.value("netdata.ebpf_attach_path", "%s_%s" % (module, path))
                           for path in ATTACH_PATHS}
                    want = {path: int(path == expected) for path in ATTACH_PATHS}
                    checks.check(got == want, "%s uses %s (self chart says %s)" % (module, expected, got),
                                 module)
        if args.recreate:
            recreate_cgroup(checks, output, charts, root, tag, spawn, workload, cgroup_dirs)
            odd_cgroups(checks, output, charts, root, tag, spawn, workload, cgroup_dirs)
        for module in sorted(set(MODULES) - not_running):
            error_charts = {c for (c, _) in output.snapshot()[0]
                            if c.endswith("_error") and error_chart_module(c) == module}
            mode = "return" if return_mode[module] else "entry"
            checks.check(bool(error_charts) == return_mode[module],
                         "%s: error charts %s in %s mode" % (module, "present" if error_charts else "absent", mode),
                         module)
            check_update_every(checks, output, charts, module, update_every[module])

        plugin.stdin.close()  # the agent going away
        closed_at = time.time()
        try:
            # detaching a kprobe waits for an RCU grace period: seconds for dozens under emulation
            code = plugin.wait(timeout=15)
        except subprocess.TimeoutExpired:
            plugin.kill()
            code = "hung"
        checks.check(code == 0, "plugin exits 0 when stdin closes (got %s after %.1f s)"
                     % (code, time.time() - closed_at))
        output.thread.join(timeout=2)
        # the kernel frees detached programs after an RCU grace period: allow a few seconds
        for _ in range(50):
            left = (owned_progs & kernel_ids("prog")) | (owned_links & kernel_ids("link"))
            if not left:
                break
            time.sleep(0.1)
        checks.check(not left, "none of its %d programs and %d links is left in the kernel (%s)"
                     % (len(owned_progs), len(owned_links), sorted(left)))

        with open(os.path.join(work, "stdout"), "w") as f:
            f.write("\n".join(output.lines) + "\n")
        validator = subprocess.run([sys.executable, os.path.join(repo, "tools/protocol-check.py")],
                                   stdin=open(os.path.join(work, "stdout")), capture_output=True, text=True)
        checks.check(validator.returncode == 0, "protocol-check accepts the output %s" % validator.stdout.strip())
        stderr.seek(0)
        lines = stderr.read().splitlines()
        log_line = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: ebpf\.plugin (ERROR|INFO ) : MAIN : ")
        checks.check(all(log_line.match(l) for l in lines), "every stderr line has the date and the plugin's name")
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        if netns:
            subprocess.run(["ip", "netns", "del", netns_name])
        for d in cgroup_dirs:
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)
        shutil.rmtree(work, ignore_errors=True)
    return finish(checks, args, not_running)


def error_chart_module(chart):
    """The module an error chart belongs to, by its id."""
    if "vfs_" in chart:
        return "vfs"
    if chart.startswith("ip."):
        return "socket"
    return "process" if chart.endswith("task_error") else "fd"


def check_update_every(checks, output, charts, module, seconds):
    """The module's system charts are declared with its update every and updated that often."""
    chart = next(c for c, d in charts.charts.items() if d["module"] == module and d.get("scope") == "system")
    with output.lock:
        declared = [shlex.split(l) for l in output.lines if l.startswith("CHART %s " % chart)]
        gaps = [int(l.split()[2]) for l in output.lines if l.startswith("BEGIN %s " % chart) and len(l.split()) > 2]
    declared_every = {int(words[9]) for words in declared if len(words) > 9}
    checks.check(declared_every == {seconds}, "%s: %s declared with update every %s (expected %d)"
                 % (module, chart, sorted(declared_every), seconds), module)
    odd = [g for g in gaps if abs(g - seconds * 1000000) > 300000]
    checks.check(gaps and not odd, "%s: %s updated every %d s (%d updates, odd intervals %s)"
                 % (module, chart, seconds, len(gaps) + 1, odd[:5]), module)


def finish(checks, args, not_running=()):
    print("%d passed, %d failed" % (checks.passed, checks.failed), flush=True)
    if args.results:
        with open(args.results, "w") as f:
            failed = checks.failed_modules
            modules = {m: ("fail" if "all" in failed or m in failed else "n/a" if m in not_running else "pass")
                       for m in MODULES}
            json.dump({"passed": checks.passed, "failed": checks.failed, "modules": modules}, f)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
