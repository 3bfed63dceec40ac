#!/usr/bin/env python3
"""Live test of Fluent Bit's in_ebpf traces (`ebpf.plugin --records
exec,signal,bind,tcp,vfs,malloc`): the real plugin and kernel, and a workload
(tests/live/traces_workload.py) in a cgroup of its own, which traces.conf
names (`cgroup =`), so that the counts are exact while other things run:
  exec    5 runs of /bin/true with known argv, 1 of a missing program (ENOENT);
          each an enter and an exit record (Fluent Bit's stages)
  signal  SIGUSR1 x3, SIGUSR2 x2, SIGHUP, SIGTERM to a known pid
  bind    IPv4, IPv6, one failing with EADDRINUSE, port 0, one bound to lo
  tcp     2 listens, 3 connect/accept pairs (one IPv6), a refused connect
  vfs     4 files created (openat with flags and mode) and unlinked, 1 missing
  malloc  20 malloc/free of known sizes in a process named in `pids`
Every record arrives once with the right fields, pid, comm, cgroup and app
group. Then 3000 kill(pid, 0) beyond `records per second = 300`: the records
read plus the events counted as dropped (said on stderr) are exactly all
signals sent; again with a 4 KiB ring and no limit: records read plus
events refused by the full ring are exactly the flood. The plugin's normal run at the same time, with a records.conf
file sink and the journal sink, writes the same records to both and charts the counts
(system, app group and cgroup charts).

usage: traces_test.py [--build DIR]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import datetime
import errno
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_output import plugin_check_output  # noqa: E402
from records_test import start_journald  # noqa: E402
from common import Checks, cgroup2_root, check_protocol, finish, make_cgroups, remove_cgroups, sanitize  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKLOAD = os.path.join(HERE, "traces_workload.py")
SIGNALS = {signal: times for signal, times in ((10, 3), (12, 2), (1, 1))}
SIGNAL_LIMIT, FLOOD = 300, 3000
ALLOCATIONS, ALLOCATION_BASE, STORM = 20, 777000, 50000
DROPPED = re.compile(r"traces: trace_(\w+): (\d+) events dropped so far \((\d+) the ring buffer was full, (\d+) over")
ALL_MODULES = ("process", "socket", "cachestat", "sync", "dcstat", "swap", "vfs", "filesystem", "disk", "mount", "fd",
               "hardirq", "softirq", "oomkill", "shm")
MODULES = ("traces",)  # what the kernel matrix reports of this suite


class TraceChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "traces: " + text)


class Lines:
    """Collects a stream's lines in a thread."""

    def __init__(self, stream):
        self.lines, self.lock = [], threading.Lock()
        threading.Thread(target=self.read, args=(stream,), daemon=True).start()

    def read(self, stream):
        for line in stream:
            with self.lock:
                self.lines.append(line)

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_for(self, pattern, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(pattern in line for line in self.snapshot()):
                return True
            time.sleep(0.1)
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def records_of(lines, cgroup):
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("cgroup") == cgroup:
            out.append(record)
    return out


def chart_values(lines):
    """(chart, dimension) -> the last SET value."""
    values, chart = {}, None
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "BEGIN":
            chart = words[1]
        elif len(words) == 4 and words[0] == "SET" and chart:
            values[(chart, words[1])] = int(words[3]) if words[3].lstrip("-").isdigit() else words[3]
        elif words[:1] == ["END"]:
            chart = None
    return values


def parse_time(timestamp):
    """Seconds of an RFC 3339 UTC timestamp with microseconds."""
    return datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def stop(plugin):
    """SIGTERM, then its output read to the end."""
    plugin.terminate()
    plugin.wait(timeout=10)
    time.sleep(0.3)  # the reader threads take the last lines


def last_dropped(stderr_lines, trace):
    """(dropped, ring full, rate limited) from the last stderr line about `trace`, zeros when none."""
    found = (0, 0, 0)
    for line in stderr_lines:
        match = DROPPED.search(line)
        if match and match.group(1) == trace:
            found = tuple(int(match.group(i)) for i in (2, 3, 4))
    return found


def check_execs(checks, records, plan, done, owner):
    """Each exec is two records, Fluent Bit's stages: enter (the caller's comm, error_raw 0) and exit."""
    execs = [r for r in records if r["source"] == "exec"]
    for i in range(plan["execs"]):
        mine = [r for r in execs if r.get("argv1") == "%s-%d" % (plan["tag"], i)]
        exits = [r for r in mine if r.get("stage") == "exit"]
        enters = [r for r in mine if r.get("stage") == "enter"]
        want = {"event_type": "exec", "stage": "exit", "filename": "/bin/true", "argv": "/bin/true",
                "argv2": "two", "argv_last": "last-%d" % i, "argc": 5, "error_raw": 0, "ppid": done["pid"],
                "comm": "true", "uid": 0, **owner}
        got = {k: exits[0].get(k) for k in want} if exits else None
        ok = len(exits) == 1 and got == want and exits[0]["pid"] == exits[0]["tid"] != done["pid"]
        checks.check(ok, f"exec {i}: one exit record, argv {want['argv']} {exits[0]['argv1'] if exits else ''} two "
                     f"... {want['argv_last']}, argc 5, ppid, comm, cgroup, app group right" +
                     ("" if ok else f": {len(exits)} records, {got} (want {want})"))
        want_enter = dict(want, stage="enter", comm=owner["app_group"])  # the forked caller's comm
        got = {k: enters[0].get(k) for k in want_enter} if enters else None
        ok = len(enters) == 1 and got == want_enter and len(exits) == 1 and enters[0]["pid"] == exits[0]["pid"] and \
            parse_time(enters[0]["timestamp"]) <= parse_time(exits[0]["timestamp"])
        checks.check(ok, f"exec {i}: one enter record with the same argv, pid and ppid, the caller's comm, "
                     f"before the exit" + ("" if ok else f": {len(enters)} records, {got} (want {want_enter})"))
    missing = [r for r in execs if r.get("filename") == "/nonexistent-" + plan["tag"]]
    stages = {r.get("stage"): r["error_raw"] for r in missing}
    checks.check(len(missing) == 2 and stages == {"enter": 0, "exit": errno.ENOENT} and
                 all(r["argc"] == 2 and r["ppid"] == done["pid"] and r["argv1"] == "missing" for r in missing),
                 f"the missing program: an enter record (error_raw 0) and an exit record with error_raw "
                 f"{errno.ENOENT}, argc 2, ppid" + ("" if len(missing) == 2 else f": {missing}"))
    want = 2 * (plan["execs"] + 2)
    checks.check(len(execs) == want and sum(r["stage"] == "enter" for r in execs) == want // 2,
                 f"{len(execs)} exec records in the cgroup (want {want}: enter and exit of the runs, the missing "
                 "program, the signal target)")


def check_signals(checks, records, done, owner):
    sent = [r for r in records if r["source"] == "signal" and r["pid"] == done["pid"] and
            r["tpid"] == done["signal_target"]]
    got = {}
    for r in sent:
        got[r["signal"]] = got.get(r["signal"], 0) + 1
    want = {**SIGNALS, 15: 1}
    checks.check(got == want, f"signals to the target by number {got} (want {want})")
    checks.check(all(r["event_type"] == "signal" and r["error_raw"] == 0 and r["tid"] == done["pid"] and
                     r["comm"] == owner["app_group"] and r["app_group"] == owner["app_group"] for r in sent),
                 "every signal record has event_type, error_raw 0, tid, comm and app group right")


def check_binds(checks, records, plan, done):
    binds = [r for r in records if r["source"] == "bind" and r["pid"] == done["pid"]]
    fds = done["bind_fds"]
    want = [(fds["server4"], "127.0.0.1", plan["port4"], 0, 0), (fds["server6"], "::1", plan["port6"], 0, 0),
            (fds["taken"], "127.0.0.1", plan["port4"], 0, errno.EADDRINUSE),
            (fds["any_port"], "127.0.0.1", done["any_port"], 0, 0),
            (fds["on_lo"], "127.0.0.1", done["lo_port"], done["lo_index"], 0)]
    got = sorted((r["fd"], r["addr"], r["port"], r["bound_dev_if"], r["error_raw"]) for r in binds)
    checks.check(done.get("bind_error") == errno.EADDRINUSE and got == sorted(want),
                 f"binds (fd, addr, port, bound_dev_if, error_raw) {got} (want {sorted(want)})")
    checks.check(all(r["uid"] == 0 and r["gid"] == 0 and r["event_type"] == "bind" for r in binds),
                 "every bind record has uid 0, gid 0, event_type bind")


def check_tcp(checks, records, plan, done):
    tcp = [r for r in records if r["source"] == "tcp" and r["pid"] == done["pid"]]
    listens = sorted((r["fd"], r["backlog"], r["error_raw"]) for r in tcp if r["event_type"] == "listen")
    want = sorted([(done["listen_fds"][0], plan["backlog"], 0), (done["listen_fds"][1], plan["backlog"] + 1, 0)])
    checks.check(listens == want, f"listens (fd, backlog, error_raw) {listens} (want {want})")
    accepts = sorted((r["fd"], r["new_fd"], r.get("peer_addr"), r.get("peer_port"), r["error_raw"])
                     for r in tcp if r["event_type"] == "accept")
    want = sorted((c["server_fd"], c["new_fd"], c["peer"], c["client_port"], 0) for c in done["connections"])
    checks.check(accepts == want, f"accepts (fd, new_fd, peer_addr, peer_port, error_raw) {accepts} (want {want})")
    connects = sorted((r["fd"], r.get("remote_addr"), r.get("remote_port"), r["error_raw"])
                      for r in tcp if r["event_type"] == "connect")
    want = sorted([(c["client_fd"], c["remote"], c["remote_port"], 0) for c in done["connections"]] +
                  [(done["refused_fd"], "127.0.0.1", plan["closed_port"], errno.ECONNREFUSED)])
    checks.check(done.get("connect_error") == errno.ECONNREFUSED and connects == want,
                 f"connects (fd, remote_addr, remote_port, error_raw) {connects} (want {want})")


def check_files(checks, records, plan, done):
    vfs = [r for r in records if r["source"] == "vfs" and r["pid"] == done["pid"] and
           r["path"].startswith(plan["directory"])]
    opens = sorted((r["path"], r["fd"], r["flags"] & 0o3103, r["mode"], r["error_raw"])
                   for r in vfs if r["operation"] == 0)
    want = sorted([(f["path"], f["fd"], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o640, 0) for f in done["files"]] +
                  [(os.path.join(plan["directory"], "missing"), -1, os.O_RDONLY, 0, errno.ENOENT)])
    checks.check(opens == want, f"opens (path, fd, flags, mode, error_raw) {opens} (want {want})")
    unlinks = sorted((r["path"], r["error_raw"]) for r in vfs if r["operation"] == 1)
    want = sorted((f["path"], 0) for f in done["files"])
    checks.check(unlinks == want, f"unlinks (path, error_raw) {unlinks} (want {want})")


def check_mallocs(checks, records, malloc_pid, allocations):
    mine = [r for r in records if r["source"] == "malloc" and r["pid"] == malloc_pid]
    got = sorted((r["address"], r["size"]) for r in mine if r["operation"] == 0 and r["size"] >= ALLOCATION_BASE)
    checks.check(got == sorted(allocations), f"{len(got)} malloc records of the sizes asked, with the addresses "
                 f"malloc returned (want {len(allocations)})")
    frees = sorted(r["address"] for r in mine if r["operation"] == 1 and r["address"] in {a for a, _ in allocations})
    checks.check(frees == sorted(a for a, _ in allocations), f"{len(frees)} free records of those addresses "
                 f"(want {len(allocations)})")


def check_journal(checks, cgroup_name, stdout_records):
    """The journal sink: the same exec, bind and tcp records, fields upper-cased."""
    want = {source: sorted(json.dumps(r.get("argv1") or r.get("port") or r.get("fd")) for r in stdout_records
                           if r["source"] == source) for source in ("exec", "bind", "tcp")}
    got = {}
    for _ in range(50):
        out = subprocess.run(["journalctl", "-o", "json", f"CGROUP={cgroup_name}"], capture_output=True,
                             text=True).stdout
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        got = {source: sorted(json.dumps(to_int(e.get("ARGV1") or e.get("PORT") or e.get("FD")))
                              for e in entries if e.get("SOURCE") == source) for source in want}
        if got == want:
            break
        time.sleep(0.1)
    checks.check(got == want, "the journal sink has the same exec, bind and tcp records " +
                 str({source: len(v) for source, v in got.items()}))


def to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def check_ring_full(checks, build, env, user, cgroup_name, workload, mallocs, plugins):
    """A 4 KiB ring and no rate limit: the flood overflows the ring between two reads, and the
    records read plus the events counted as refused by the full ring are exactly the flood. A
    malloc storm in the same run (100 a second): records plus both drops are exactly its calls."""
    ring_dir = os.path.join(user, "ring")
    os.makedirs(os.path.join(ring_dir, "ebpf.d"))
    with open(os.path.join(ring_dir, "ebpf.d", "traces.conf"), "w") as conf:
        conf.write(f"[traces]\n    cgroup = {cgroup_name}\n    ring buffer size = 4k\n"
                   "[trace_signal]\n    records per second = 0\n"
                   f"[trace_malloc]\n    records per second = 100\n    pids = {mallocs.pid}\n")
    plugin = subprocess.Popen([os.path.join(build, "ebpf.plugin"), "--records", "signal,malloc", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(env, NETDATA_USER_CONFIG_DIR=ring_dir))
    plugins.append(plugin)
    out, err = Lines(plugin.stdout), Lines(plugin.stderr)
    if not checks.check(err.wait_for("traces: trace_signal", 60), "a plugin with a 4 KiB ring attaches"):
        sys.stdout.write("".join(err.snapshot()))
        return
    workload.stdin.write("flood\n")
    workload.stdin.flush()
    workload.stdout.readline()
    started = time.monotonic()
    mallocs.stdin.write(f"storm {STORM}\n")
    mallocs.stdin.flush()
    mallocs.stdout.readline()
    storm_seconds = time.monotonic() - started
    time.sleep(2.5)
    stop(plugin)
    storm = [r for r in records_of(out.snapshot(), cgroup_name) if r["source"] == "malloc"]
    dropped, ring_full, limited = last_dropped(err.snapshot(), "malloc")
    if not checks.check(limited > 0 and len(storm) + dropped == 2 * STORM and dropped == ring_full + limited,
                        f"malloc storm of {STORM} malloc/free in {storm_seconds:.2f} s: {len(storm)} records + "
                        f"{ring_full} ring full + {limited} rate limited = {len(storm) + dropped} (want {2 * STORM})"):
        sys.stdout.write("".join(err.snapshot()))
    signals = [r for r in records_of(out.snapshot(), cgroup_name) if r["source"] == "signal"]
    dropped, ring_full, limited = last_dropped(err.snapshot(), "signal")
    checks.check(ring_full > 0 and limited == 0 and len(signals) + ring_full == FLOOD,
                 f"4 KiB ring: {len(signals)} signal records + {ring_full} refused by the full ring "
                 f"({limited} rate limited) = {len(signals) + ring_full} (want {FLOOD}, some refused)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = TraceChecks()
    tag = "%06x" % random.getrandbits(24)
    name = "trwl_" + tag  # the workload's comm and app group (under 16 bytes)
    cgroup_name = "traces_test_" + tag
    cgroup = os.path.join(cgroup2_root(), cgroup_name)
    owner = {"cgroup": cgroup_name, "app_group": name}
    with tempfile.TemporaryDirectory() as user:
        make_cgroups([cgroup])
        enter = lambda: open(os.path.join(cgroup, "cgroup.procs"), "w").write(str(os.getpid()))  # noqa: E731
        program = os.path.join(user, name)
        os.symlink(sys.executable, program)
        mallocs = subprocess.Popen([os.path.join(args.build, "traces-malloc")], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, preexec_fn=enter)
        plan = {"tag": tag, "execs": 5, "signals": SIGNALS, "port4": free_port(), "port6": free_port(),
                "closed_port": free_port(), "backlog": 7, "connections": 3, "files": 4,
                "directory": os.path.join(user, "files"), "flood": FLOOD}
        os.makedirs(plan["directory"])
        workload = subprocess.Popen([program, WORKLOAD, json.dumps(plan)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True, preexec_fn=enter)
        plugins, journald = [], None
        try:
            checks.check(mallocs.stdout.readline().strip() == "ready" and workload.stdout.readline().strip() == "ready",
                         "the workloads start in their cgroup")
            os.makedirs(os.path.join(user, "ebpf.d"))
            with open(os.path.join(user, "ebpf.d", "traces.conf"), "w") as conf:
                conf.write(f"[traces]\n    cgroup = {cgroup_name}\n    ring buffer size = 1M\n")
                for trace in ("exec", "signal", "bind", "tcp", "vfs", "malloc"):
                    limit = SIGNAL_LIMIT if trace == "signal" else 100000
                    conf.write(f"[trace_{trace}]\n    enabled = yes\n    records per second = {limit}\n")
                conf.write(f"    pids = {mallocs.pid}\n")
            with open(os.path.join(user, "apps_groups.conf"), "w") as conf:
                conf.write(f"{name}: {name}\n")
            env = dict(os.environ, NETDATA_USER_CONFIG_DIR=user, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
            records = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "--records",
                                        "exec,signal,bind,tcp,vfs,malloc", "1"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            plugins.append(records)
            out, err = Lines(records.stdout), Lines(records.stderr)
            # the same traces in the plugin's normal run, to a file sink, with the charts
            sink = os.path.join(user, "records.json")
            normal_dir = os.path.join(user, "normal")
            os.makedirs(os.path.join(normal_dir, "ebpf.d"))
            for conf_name in ("apps_groups.conf", os.path.join("ebpf.d", "traces.conf")):
                with open(os.path.join(user, conf_name)) as src, open(os.path.join(normal_dir, conf_name), "w") as dst:
                    dst.write(src.read())
            with open(os.path.join(normal_dir, "ebpf.d", "records.conf"), "w") as conf:
                conf.write(f"[records]\n    file = {sink}\n    journal = yes\n")
            with open(os.path.join(normal_dir, "ebpf.d.conf"), "w") as conf:
                conf.write("[global]\n    cgroups = yes\n    apps = yes\n[ebpf programs]\n" +
                           "".join(f"    {m} = {'yes' if m == 'sync' else 'no'}\n" for m in ALL_MODULES))
            journald = start_journald()
            normal = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=dict(env, NETDATA_USER_CONFIG_DIR=normal_dir))
            plugins.append(normal)
            charts, normal_err = Lines(normal.stdout), Lines(normal.stderr)
            started = err.wait_for("traces: trace_exec", 60) and normal_err.wait_for("traces: trace_exec", 60)
            if not checks.check(started, "both plugins attach the six traces"):
                sys.stdout.write("".join(err.snapshot() + normal_err.snapshot()))
                return finish(checks, args.results, MODULES)
            time.sleep(0.5)
            workload.stdin.write("go\n")
            workload.stdin.flush()
            done = json.loads(workload.stdout.readline())
            mallocs.stdin.write(f"alloc {ALLOCATIONS} {ALLOCATION_BASE}\n")
            mallocs.stdin.flush()
            allocations = []
            for line in iter(mallocs.stdout.readline, "done\n"):
                _, address, size = line.split()
                allocations.append((int(address), int(size)))
            time.sleep(2.5)  # two reads of the ring
            mine = records_of(out.snapshot(), cgroup_name)
            check_execs(checks, mine, plan, done, owner)
            check_signals(checks, mine, done, owner)
            check_binds(checks, mine, plan, done)
            check_tcp(checks, mine, plan, done)
            check_files(checks, mine, plan, done)
            check_mallocs(checks, mine, mallocs.pid, allocations)
            checks.check(all(r["host"] and r["timestamp"].endswith("Z") for r in mine),
                         f"all {len(mine)} records have a host and an RFC 3339 timestamp")

            # the flood: records read + dropped = every signal sent
            workload.stdin.write("flood\n")
            workload.stdin.flush()
            checks.check(workload.stdout.readline().strip() == "flooded", "the workload sends its flood")
            time.sleep(2.5)
            stop(records)  # its last stderr line has every drop
            mine = records_of(out.snapshot(), cgroup_name)
            signals = [r for r in mine if r["source"] == "signal"]
            dropped, ring_full, limited = last_dropped(err.snapshot(), "signal")
            sent = FLOOD + sum(SIGNALS.values()) + 1
            checks.check(limited > 0 and ring_full == 0 and dropped == limited and len(signals) + dropped == sent,
                         f"flood: {len(signals)} signal records + {dropped} dropped ({limited} over the rate limit, "
                         f"{ring_full} ring full) = {len(signals) + dropped} (want {sent}, some over the limit)")
            # the limit's windows are seconds of CLOCK_MONOTONIC: the flood spans at most duration + 2
            flood = sorted(r["timestamp"] for r in signals if r["signal"] == 0)
            span = (parse_time(flood[-1]) - parse_time(flood[0])) if flood else 0
            windows = int(span) + 2
            checks.check(0 < len(flood) <= SIGNAL_LIMIT * windows,
                         f"{len(flood)} flood records in {span:.3f} s: at most {SIGNAL_LIMIT} per window of the "
                         f"{windows} it can touch")

            # the normal run: the same records in its file sink, and the charts
            time.sleep(1.5)
            normal.stdin.close()
            normal.wait(timeout=20)
            with open(sink) as f:
                sunk = records_of(f, cgroup_name)
            stdout_records = records_of(out.snapshot(), cgroup_name)
            for source in ("exec", "bind", "tcp", "malloc"):
                key = lambda r: json.dumps({k: v for k, v in r.items() if k not in ("timestamp",)}, sort_keys=True)  # noqa: E731
                a = sorted(key(r) for r in stdout_records if r["source"] == source)
                b = sorted(key(r) for r in sunk if r["source"] == source)
                checks.check(a == b and a, f"the file sink has the same {len(b)} {source} records as stdout ({len(a)})")
            check_journal(checks, cgroup_name, stdout_records)
            values = chart_values(charts.snapshot())
            execs = plan["execs"] + 2
            checks.check(values.get(("system.ebpf_traces", "exec")) == execs,
                         f"system.ebpf_traces exec = {values.get(('system.ebpf_traces', 'exec'))} (want {execs}: "
                         "the cgroup's only)")
            exec_records = len([r for r in sunk if r["source"] == "exec"])
            emitted = values.get(("netdata.ebpf_traces", "exec_emitted"))
            checks.check(emitted == exec_records == 2 * execs,
                         f"netdata.ebpf_traces exec_emitted = {emitted} (file: {exec_records}; want {2 * execs}: "
                         "the records of both stages)")
            group = sanitize(name)
            app_execs = [v for (chart, dim), v in values.items() if chart == "apps.ebpf_trace_exec" and dim == group]
            checks.check(app_execs == [execs], f"apps.ebpf_trace_exec {name} = {app_execs} (want {execs})")
            want = {"USR1": 3, "USR2": 2, "HUP": 1, "TERM": 1}
            got = {dim: values.get(("system.ebpf_trace_signals", dim)) for dim in want}
            checks.check(got == want, f"system.ebpf_trace_signals {got} (want {want})")
            cgroup_binds = [v for (chart, dim), v in values.items() if chart.endswith(".ebpf_traces") and
                            chart.startswith("cgroup_") and sanitize(cgroup_name) in chart and dim == "bind"]
            checks.check(cgroup_binds == [5], f"the cgroup's bind count {cgroup_binds} (want [5])")
            emitted = values.get(("netdata.ebpf_traces", "signal_emitted"))
            limited_chart = values.get(("netdata.ebpf_traces", "signal_rate_limited"))
            normal_signals = len([r for r in sunk if r["source"] == "signal"])
            check_protocol(checks, [line.rstrip("\n") for line in charts.snapshot()])
            checks.check(emitted == normal_signals and limited_chart + emitted == sent,
                         f"netdata.ebpf_traces signal: {emitted} emitted (file: {normal_signals}) + {limited_chart} "
                         f"rate limited = {sent}")
            check_ring_full(checks, args.build, env, user, cgroup_name, workload, mallocs, plugins)
            mallocs.stdin.write("exit\n")
            mallocs.stdin.flush()
            mallocs.wait(timeout=10)
            workload.stdin.write("exit\n")
            workload.stdin.flush()
            workload.wait(timeout=10)
        finally:
            for process in [workload, mallocs] + plugins:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            if journald:
                journald.terminate()
                journald.wait(timeout=5)
            remove_cgroups([cgroup])
    said = [line for line in plugin_check_output(args.build).splitlines() if line.startswith("trace_")]
    want = [f"trace_{t} (syscall tracepoints): ok" for t in ("exec", "signal", "bind", "tcp", "vfs")] + \
        ["trace_malloc (uprobes): loads (attached at start to [trace_malloc] pids)"]
    checks.check(said == want, f"--check says each trace can run here: {said}")
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
