#!/usr/bin/env python3
"""Live test: the real plugin, real BPF programs on the running kernel, real
processes. A workload with known counts runs in its own app group, its own
cgroup and its own systemd-like service cgroup; the plugin must report exactly
those counts there, and at least them system-wide. Its socket part uses loopback
only, and a private network namespace (ip netns, nftables) for the retransmits.

usage: live_test.py [--attach PATH] [--expect-path PATH] [--mode entry|return]
                    [--shared-tables] [--pid-table-size N] [--build DIR] [--results FILE]
--shared-tables: `maps per core = no` (one copy of each table, atomic adds).
--pid-table-size N: a pid table too small for the host: inserts that fail must be
counted in netdata.ebpf_table_full while cgroup and service counts stay exact.
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ATTACH_CODES = {"trampoline": 1, "kprobe": 2, "tracepoint": 3}
RUNS = {  # workload arguments of the two runs
    "cgroup": {"forks": 20, "threads": 15, "opens": 30, "failed_opens": 7, "failed_closes": 5},
    "service": {"forks": 3, "threads": 2, "opens": 4, "failed_opens": 1, "failed_closes": 1},
}
SOCKET_RUNS = {  # the socket part (tests/live/workload_socket.cpp); the cgroup run also provokes retransmits
    "cgroup": {"tcp": 5, "tcp_bytes": 10000, "udp": 6, "udp_size": 300, "socket_errors": 3},
    "service": {"tcp": 2, "tcp_bytes": 777, "udp": 1, "udp_size": 1, "socket_errors": 1},
}
RETRANSMIT_BYTES = 100  # the message sent while its packets are dropped (workload_socket.cpp)
DROP_MARK = 0x65627066  # packets the namespace's nftables rule drops


def expected_counters(work, return_mode):
    """What one workload run causes, by counter name (see tests/live/workload.cpp)."""
    tasks = work["forks"] + work["threads"] + 1
    counters = {
        "create_process": work["forks"], "create_thread": work["threads"],
        "exit_task": tasks, "release_task": tasks,
        "open_call": work["opens"] + work["failed_opens"],
        "close_call": work["opens"] + work["failed_closes"],
    }
    if return_mode:
        counters.update({"open_error": work["failed_opens"], "close_error": work["failed_closes"],
                         "task_error": 0})
    return counters


def socket_counters(work, netns, retransmits, return_mode):
    """What the socket part causes: per address family (IPv4, IPv6), C connections
    with B bytes each way in one send and one recv per side, and D datagrams of S
    bytes each way; E failing sends and E failing receives of each protocol (IPv4);
    in the namespace one more IPv4 connection carrying RETRANSMIT_BYTES one way.
    Also the fd module's share: every socket is closed with close(2), and the
    namespace is opened and closed."""
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
        "open_call": ns, "close_call": 4 * c + 2 + 4 + 4 * ns,
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
MODULES = ("process", "fd", "socket")


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
    """Ids of every BPF program ("prog") or link ("link") in the kernel."""
    out = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True, check=True).stdout
    return {p["id"] for p in json.loads(out)}


def pid_table_keys(pid):
    """Keys of every pid_table the plugin holds (maps found through its fdinfo)."""
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
            if show.get("name") != "pid_table":
                continue
            dump = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)],
                                  capture_output=True, text=True).stdout
            for entry in json.loads(dump or "[]"):
                keys.add(int.from_bytes(bytes(int(b, 16) for b in entry["key"]), "little"))
    return keys


def owned_ids(pid):
    """BPF program and link ids held by a process, from its fdinfo (others may load programs meanwhile)."""
    progs, links = set(), set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            for line in open(os.path.join(fdinfo, fd)):
                key, _, value = line.partition(":")
                if key == "prog_id":
                    progs.add(int(value))
                elif key == "link_id":
                    links.add(int(value))
        except OSError:
            pass
    return progs, links


def sanitize(name):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attach")
    parser.add_argument("--expect-path")
    parser.add_argument("--mode", default="return", choices=["entry", "return"])
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../build"))
    parser.add_argument("--results")
    parser.add_argument("--shared-tables", action="store_true")
    parser.add_argument("--pid-table-size", type=int)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
    return_mode = args.mode == "return"
    checks = Checks()
    charts = ChartDefinitions(os.path.join(repo, "charts"))

    tag = "%06x" % random.randrange(1 << 24)
    work = tempfile.mkdtemp(prefix="ebpf-live-")
    # A per-run process name makes the app group this run's alone.
    workload = os.path.join(work, "ewl-" + tag)
    shutil.copy(os.path.join(build, "ebpf-workload"), workload)
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
        f.write("    socket = yes\n")
        for other in ("cachestat dcstat disk filesystem hardirq mdflush mount oomkill shm softirq "
                      "sync swap vfs").split():
            f.write("    %s = no\n" % other)
    with open(os.path.join(config, "apps_groups.conf"), "w") as f:
        f.write("%s: ewl-%s\n" % (group, tag))

    root = cgroup2_root()
    plain = "ebpf_live_" + tag
    service = "ebpf-live-%s" % tag
    cgroup_dirs = [os.path.join(root, plain), os.path.join(root, "system.slice", service + ".service")]
    for d in cgroup_dirs:
        os.makedirs(d)
    netns_name, netns = "ebpf-live-" + tag, False

    env = dict(os.environ, NETDATA_USER_CONFIG_DIR=config, NETDATA_STOCK_CONFIG_DIR=os.path.join(work, "none"))
    command = [os.path.join(build, "ebpf.plugin"), "1"] + (["--attach", args.attach] if args.attach else [])
    stderr = open(os.path.join(work, "stderr"), "w+")
    plugin = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
    output = PluginOutput(plugin.stdout)
    try:
        netns_problem = make_netns(netns_name)
        netns = not netns_problem
        deadline = time.time() + 20
        while output.snapshot()[1] == 0 and time.time() < deadline and plugin.poll() is None:
            time.sleep(0.05)
        if not checks.check(output.snapshot()[1] > 0, "plugin sends data (%s mode)" % args.mode):
            stderr.seek(0)
            sys.stdout.write(stderr.read())
            return finish(checks, args)
        owned_progs, owned_links = owned_ids(plugin.pid)
        # The socket module's tracepoint path needs Linux 6.3+: on older kernels it does not apply.
        stderr.seek(0)
        lines = stderr.read().splitlines()
        socket_na = "socket: no attach path works on this kernel; module disabled" in " ".join(lines) and \
            next((l for l in lines if "(Linux 6.3+)" in l), None)
        if socket_na:
            print("# socket checks skipped: " + socket_na, flush=True)
        not_running = {"socket"} if socket_na else set()
        checks.check(owned_progs and len(owned_links) == len(owned_progs),
                     "every program the plugin holds is attached (%d programs, %d links)"
                     % (len(owned_progs), len(owned_links)))
        status = open("/proc/%d/status" % plugin.pid).read()
        capeff = [l.split()[1] for l in status.splitlines() if l.startswith("CapEff:")][0]
        checks.check(capeff == "0000000000000000", "running plugin has CapEff 0 (got %s)" % capeff)

        system_before = {c: output.value(chart, dim)
                         for c, (chart, dim) in charts.by_counter("system").items()}
        spawn = os.path.join(build, "cgroup-spawn")
        workload_pids = []
        run_counters = {}
        for run, directory in zip(("cgroup", "service"), cgroup_dirs):
            w = RUNS[run]
            sw = SOCKET_RUNS[run]
            socket_args = ["--tcp", str(sw["tcp"]), "--tcp-bytes", str(sw["tcp_bytes"]), "--udp", str(sw["udp"]),
                           "--udp-size", str(sw["udp_size"]), "--socket-errors", str(sw["socket_errors"])]
            in_netns = run == "cgroup" and netns
            if in_netns:
                socket_args += ["--netns", "/run/netns/" + netns_name]
            done = subprocess.run([spawn, directory, workload, "--forks", str(w["forks"]), "--threads",
                                   str(w["threads"]), "--opens", str(w["opens"]), "--failed-opens",
                                   str(w["failed_opens"]), "--failed-closes", str(w["failed_closes"])] + socket_args,
                                  check=True, capture_output=True, text=True)
            report = json.loads(done.stdout)
            workload_pids.append(report["pid"])
            run_counters[run] = add(expected_counters(w, return_mode),
                                    socket_counters(sw, in_netns, report["tcp_retransmits"], return_mode))
            if in_netns:
                checks.check(report["tcp_retransmits"] > 0, "the kernel retransmitted %d segments of the "
                             "workload's connection" % report["tcp_retransmits"], "socket")
        exited_at = time.time()
        if not netns:
            print("# retransmits not provoked: " + netns_problem, flush=True)

        expected = {
            "apps": add(run_counters["cgroup"], run_counters["service"]),
            "cgroup": run_counters["cgroup"],
            "services": run_counters["service"],
        }
        for scope in expected:  # what the scope's charts show
            charted = charts.by_counter(scope)
            expected[scope] = {c: v for c, v in expected[scope].items()
                               if c in charted and MODULE_OF.get(c, "socket") not in not_running}
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
            time.sleep(max(0, exited_at + 3.5 - time.time()))
            left = set(workload_pids) & pid_table_keys(plugin.pid)
            checks.check(not left, "exited workload processes left the pid tables within 3.5 s (%s)" % sorted(left))
        for scope in expected:
            for counter, value in sorted(expected[scope].items()):
                got = actual(scope, counter)
                checks.check(got == value, "%s %s = %s (expected %d)" % (scope, counter, got, value),
                             MODULE_OF.get(counter, "socket"))

        if args.pid_table_size:
            # socket: only processes that use sockets take entries, not enough to fill it for sure
            for module in ("process", "fd"):
                full = output.value("netdata.ebpf_table_full", module)
                checks.check(full is not None and full > 0,
                             "%s: a full pid table is counted (%s failed inserts)" % (module, full), module)
        system_expected = {c: v for c, v in add(run_counters["cgroup"], run_counters["service"]).items()
                           if MODULE_OF.get(c, "socket") not in not_running}
        for counter, value in sorted(system_expected.items()):
            chart, dim = charts.by_counter("system").get(counter, (None, None))
            if not chart:
                continue
            got, start = output.value(chart, dim), system_before.get(counter) or 0
            checks.check(got is not None and got - start >= value,
                         "system %s grew by %s >= %d" % (counter, None if got is None else got - start, value),
                         MODULE_OF.get(counter, "socket"))

        if args.expect_path:
            for module in set(MODULES) - not_running:
                got = output.value("netdata.ebpf_attach_path", module)
                checks.check(got == ATTACH_CODES[args.expect_path],
                             "%s uses %s (self chart says %s)" % (module, args.expect_path, got), module)
        error_charts = {c for (c, _) in output.snapshot()[0] if c.endswith("_error")}
        checks.check(bool(error_charts) == return_mode,
                     "error charts %s in %s mode" % ("present" if error_charts else "absent", args.mode))

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
        left = (owned_progs & kernel_ids("prog")) | (owned_links & kernel_ids("link"))
        checks.check(not left, "none of its %d programs and %d links is left in the kernel (%s)"
                     % (len(owned_progs), len(owned_links), sorted(left)))

        with open(os.path.join(work, "stdout"), "w") as f:
            f.write("\n".join(output.lines) + "\n")
        validator = subprocess.run([sys.executable, os.path.join(repo, "tools/protocol-check.py")],
                                   stdin=open(os.path.join(work, "stdout")), capture_output=True, text=True)
        checks.check(validator.returncode == 0, "protocol-check accepts the output %s" % validator.stdout.strip())
        stderr.seek(0)
        lines = stderr.read().splitlines()
        checks.check(all(l.startswith("ebpf.plugin: ") for l in lines), "every stderr line is prefixed")
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
