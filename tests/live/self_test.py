#!/usr/bin/env python3
"""Live test of the plugin's self monitoring and resource limits, on the real kernel.

1. cost: with an open storm running, the BPF time, runs and ns-per-event charts of the fd module
   agree with what `bpftool prog show` says of the plugin's own programs within 10 %, and the
   kernel memory chart equals the memlock bpftool gives for the plugin's maps;
2. shed: a kernel memory limit that both modules exceed but either fits is hit; the module with
   the most BPF time (fd, under the open storm) is shed and named on stderr and in
   netdata.ebpf_shed, its programs are detached, and the plugin goes on counting the process
   module exactly for this run's app group; under a thread storm process (the first module) is
   shed and fd goes on counting this run's cgroup exactly;
3. exit: a memory limit, then a CPU limit, that no module can meet ends the plugin with the
   message, exit code 1, DISABLE, and none of its programs left in the kernel.
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (ATTACH_PATHS, REPO, Checks, check_log_lines, check_protocol, cgroup2_root,  # noqa: E402
                    finish, left_in_kernel, map_ids, owned_ids, read_all, remove_cgroups, sanitize, start_plugin,
                    stop_plugin, write_config)

BUILD = os.path.join(REPO, "build")
MODULES = ("self",)  # what the kernel matrix reports of this suite


class Plugin:
    """The plugin with its own configuration directory and app group."""

    def __init__(self, work, global_lines, modules, group_process, cgroups=False, other_groups=(),
                 binary=os.path.join(BUILD, "ebpf.plugin")):
        config = os.path.join(work, "etc-%d" % random.randrange(1 << 30))
        write_config(config, modules, ["apps = yes", "cgroups = %s" % ("yes" if cgroups else "no"),
                                       "ebpf load mode = entry"] + list(global_lines),
                     "".join("grp_%s: %s\n" % (p, p) for p in (group_process,) + tuple(other_groups)))
        self.process, self.stderr, self.out = start_plugin(BUILD, config, binary=binary)

    def stderr_lines(self):
        return read_all(self.stderr).splitlines()

    def stop(self):
        if self.process.poll() is None:
            return stop_plugin(self.process, 5)
        return self.process.returncode


def in_cgroup(directory):
    """For preexec_fn: moves the child into a cgroup before it runs the workload."""
    def move():
        with open(os.path.join(directory, "cgroup.procs"), "w") as f:
            f.write("0")
    return move if directory else None


class OpenStorm:
    """Opens and closes /dev/null as fast as it can (or forks: `work`), in a loop of workload
    runs, in `cgroup` when given, until stopped; pause() holds it still (SIGSTOP) until resume()."""

    def __init__(self, workload, work=("--opens", "50000"), cgroup=None):
        self.stop_requested = False
        self.running = threading.Event()
        self.running.set()
        self.lock = threading.Lock()
        self.child = None
        self.thread = threading.Thread(target=self._run, args=([workload] + list(work), cgroup), daemon=True)
        self.thread.start()

    def _run(self, command, cgroup):
        while not self.stop_requested:
            self.running.wait()
            with self.lock:
                if self.stop_requested:
                    break
                self.child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              preexec_fn=in_cgroup(cgroup))
            self.child.wait()

    def pause(self):
        with self.lock:
            self.running.clear()
            if self.child and self.child.poll() is None:
                self.child.send_signal(signal.SIGSTOP)

    def resume(self):
        with self.lock:
            if self.child and self.child.poll() is None:
                self.child.send_signal(signal.SIGCONT)
            self.running.set()

    def stop(self):
        with self.lock:
            self.stop_requested = True
            if self.child and self.child.poll() is None:
                self.child.kill()
            self.running.set()
        self.thread.join()


def bpftool_json(*args):
    """bpftool fails when an object goes away while it lists them (others load programs too): retry."""
    for _ in range(10):
        done = subprocess.run(["bpftool", "-j"] + list(args), capture_output=True, text=True)
        if done.returncode == 0:
            return json.loads(done.stdout or "null")
        time.sleep(0.1)
    raise RuntimeError("bpftool %s keeps failing: %s" % (" ".join(args), done.stderr.strip()))


def program_totals(prog_ids):
    """Summed run_time_ns and run_cnt of the given programs, as bpftool shows them."""
    time_ns = runs = 0
    for prog in bpftool_json("prog", "show"):
        if prog["id"] in prog_ids:
            time_ns += prog.get("run_time_ns", 0)
            runs += prog.get("run_cnt", 0)
    return time_ns, runs


def map_memlock(pid):
    """Memlock of every map the process holds, each map once (modules share the core's)."""
    return sum(int(bpftool_json("map", "show", "id", str(map_id))["bytes_memlock"]) for map_id in map_ids(pid))


def running_values(values):
    """The dimensions with a value: modules this test does not run have none."""
    return {dim: value for dim, value in values.items() if value is not None}


def near(a, b, tolerance=0.10):
    return a is not None and b is not None and b > 0 and abs(a - b) <= tolerance * b


def used_path(updates):
    """The fd module's attach path, from netdata.ebpf_attach_path."""
    last = updates.of("netdata.ebpf_attach_path")[-1]
    return next(p for p in ATTACH_PATHS if last.get("fd_" + p) == 1)


def test_cost(checks, work, workload):
    """Returns the kernel memory of the process core and of fd, as charted."""
    storm = OpenStorm(workload)
    plugin = Plugin(work, [], ("fd",), "nothing")
    memlock = None
    try:
        if not checks.check(plugin.out.wait("netdata.ebpf_bpf_cost", 3, 20), "cost: the plugin publishes self charts"):
            print("\n".join("# " + l for l in plugin.stderr_lines()))
            return None
        # fd on its path, and the process core: every program the plugin holds.
        dims = ["fd_" + used_path(plugin.out), "core_tracepoint"]
        progs = owned_ids(plugin.process.pid)[0]

        # bpftool with the storm held still since the cycle before, then 3 cycles of storm, held
        # still again: the chart's intervals and bpftool's span the same events (the odd event
        # between a read and bpftool's, under emulation, can take milliseconds of a program's time).
        samples = []
        for extra in (0, 3):
            if extra:
                storm.resume()
                plugin.out.wait("netdata.ebpf_bpf_cost", len(plugin.out.of("netdata.ebpf_bpf_cost")) + extra, 10)
            storm.pause()
            count = len(plugin.out.of("netdata.ebpf_bpf_cost")) + 2
            plugin.out.wait("netdata.ebpf_bpf_cost", count, 10)
            samples.append((count, program_totals(progs)))
        (k1, (time1, runs1)), (k2, (time2, runs2)) = samples
        times = {d: [u[d] for u in plugin.out.of("netdata.ebpf_bpf_time")] for d in dims}
        runs = {d: [u[d] for u in plugin.out.of("netdata.ebpf_bpf_runs")] for d in dims}
        costs = {d: [u.get(d) for u in plugin.out.of("netdata.ebpf_bpf_cost")] for d in dims}

        def total(series, k):
            return sum(series[d][k] for d in dims)

        chart_ratio = total(times, k2 - 1) / total(runs, k2 - 1)
        tool_ratio = time2 / runs2
        checks.check(near(chart_ratio, tool_ratio),
                     "cost: ns per event since load, charts %.1f, bpftool %.1f (%d programs)"
                     % (chart_ratio, tool_ratio, len(progs)))
        weighted = interval_runs = 0
        for d in dims:
            for i in range(k1, k2):
                ran = runs[d][i] - runs[d][i - 1]
                interval_runs += ran
                weighted += (costs[d][i] or 0) * ran
        chart_cost = weighted / interval_runs if interval_runs else None
        tool_cost = (time2 - time1) / (runs2 - runs1) if runs2 > runs1 else None
        checks.check(near(chart_cost, tool_cost),
                     "cost: netdata.ebpf_bpf_cost over 3 cycles %s ns/event, bpftool %s ns/event"
                     % (chart_cost and round(chart_cost, 1), tool_cost and round(tool_cost, 1)))
        checks.check(near(interval_runs, runs2 - runs1),
                     "cost: events over 3 cycles, charts %d, bpftool %d" % (interval_runs, runs2 - runs1))
        held = map_memlock(plugin.process.pid)
        memlock = running_values(plugin.out.of("netdata.ebpf_kernel_memory")[-1])
        checks.check(sum(memlock.values()) == held,
                     "cost: kernel memory chart %s bytes = bpftool memlock of the plugin's maps %d" % (memlock, held))
        rss = plugin.out.of("netdata.ebpf_plugin_memory")[-1].get("rss")
        checks.check(rss is not None and rss > 1 << 20, "cost: resident memory is charted (%s bytes)" % rss)
    finally:
        storm.stop()
        code = plugin.stop()
    checks.check(code == 0, "cost: exits 0 when stdin closes (got %s)" % code)
    return memlock


def memory_limit(memlock):
    """Over it with process and fd (process locks about what fd does), under it with either."""
    return memlock["core"] + memlock["fd"] * 3 // 2


def test_shed(checks, work, workload, memlock, tag):
    limit = memory_limit(memlock)
    storm = OpenStorm(workload)
    time.sleep(0.5)  # the storm runs before the programs load: fd is the costliest from the start
    name = "ewl-" + tag
    plugin = Plugin(work, ["kernel memory limit = %d B" % limit], ("process", "fd"), name)
    try:
        plugin.out.wait("netdata.ebpf_shed", 2, 20)
        storm.stop()
        shed = [l for l in plugin.stderr_lines() if "shedding" in l]
        checks.check(len(shed) == 1 and re.search(r"kernel memory limit .* exceeded .*: shedding module 'fd', the "
                                                  r"most expensive \(.*\); its programs are detached$", shed[0]),
                     "shed: stderr names fd, the costliest: %s" % shed)
        last = running_values(plugin.out.of("netdata.ebpf_shed")[-1])
        checks.check(last == {"process": 0, "fd": 1}, "shed: netdata.ebpf_shed says fd (%s)" % last)
        with plugin.out.lock:
            order = [(chart, values) for chart, values in plugin.out.updates]
        shed_at = next(i for i, (chart, values) in enumerate(order)
                       if chart == "netdata.ebpf_shed" and values.get("fd") == 1)
        later = [i for i, (chart, _) in enumerate(order) if chart == "filesystem.file_descriptor" and i > shed_at]
        checks.check(not later, "shed: fd's charts are no longer updated (%d updates after the shed)" % len(later))
        memory = plugin.out.of("netdata.ebpf_kernel_memory")[-1]
        checks.check(memory.get("fd") is None and 0 < (memory.get("process") or 0) and
                     sum(running_values(memory).values()) <= limit,
                     "shed: kernel memory now process only, within %d (%s)" % (limit, memory))
        progs, _, attached = owned_ids(plugin.process.pid)
        names = {p["name"] for p in bpftool_json("prog", "show") if p["id"] in progs}
        checks.check(progs and not any("open" in n or "close" in n for n in names) and attached == progs,
                     "shed: fd's programs are detached, process's attached (%s)" % sorted(names))

        # It goes on: this run's forks are counted exactly in its app group.
        copy = os.path.join(work, name)
        shutil.copy(workload, copy)
        subprocess.run([copy, "--forks", "7"], check=True, capture_output=True)
        group = sanitize("grp_" + name)
        deadline, got = time.time() + 10, None
        while time.time() < deadline and got != 7:
            time.sleep(0.2)
            updates = plugin.out.of("apps.process_create")
            got = updates[-1].get(group) if updates else None
        checks.check(got == 7, "shed: the plugin goes on, apps.process_create %s = %s (expected 7)" % (group, got))
        checks.check(plugin.process.poll() is None, "shed: the plugin still runs")
    finally:
        storm.stop()
        code = plugin.stop()
    checks.check(code == 0, "shed: exits 0 when stdin closes (got %s)" % code)
    check_log_lines(checks, plugin.stderr_lines(), "shed: ")


def test_shed_first(checks, work, workload, memlock, tag):
    """Process, the first module started, is shed under a thread storm in this run's cgroup: fd,
    started after it, goes on counting that cgroup exactly (its per-cgroup state is its own)."""
    cgroup = os.path.join(cgroup2_root(), "ebpf_self_" + tag)
    os.makedirs(cgroup)
    storm = OpenStorm(workload, ("--threads", "20000"), cgroup)
    time.sleep(0.5)
    plugin = Plugin(work, ["kernel memory limit = %d B" % memory_limit(memlock)], ("process", "fd"), "nothing",
                    cgroups=True)
    # 30 opens and 7 failed ones; 30 closes, and the close of cgroup.procs after the move (in_cgroup).
    charts = {("cgroup_%s.file_open" % sanitize(os.path.basename(cgroup)), "do_sys_open"): 37,
              ("cgroup_%s.file_closed" % sanitize(os.path.basename(cgroup)), "__close_fd"): 31}

    def value(chart, dim):
        return (plugin.out.of(chart) or [{}])[-1].get(dim)

    try:
        plugin.out.wait("netdata.ebpf_shed", 2, 20)
        storm.stop()
        shed = [l for l in plugin.stderr_lines() if "shedding" in l]
        checks.check(len(shed) == 1 and "shedding module 'process', the most expensive" in shed[0],
                     "shed first: a thread storm makes process the costliest: %s" % shed)
        plugin.out.wait("netdata.ebpf_shed", len(plugin.out.of("netdata.ebpf_shed")) + 2, 10)
        before = {key: value(*key) or 0 for key in charts}
        subprocess.run([workload, "--opens", "30", "--failed-opens", "7"], check=True, capture_output=True,
                       preexec_fn=in_cgroup(cgroup))
        deadline, grew = time.time() + 10, None
        while time.time() < deadline and grew != charts:
            time.sleep(0.2)
            grew = {key: (value(*key) or 0) - before[key] for key in charts}
        for (chart, dim), expected in charts.items():
            values = [u.get(dim) for u in plugin.out.of(chart) if u.get(dim) is not None]
            checks.check(grew[(chart, dim)] == expected and values == sorted(values) and min(values) >= 0,
                         "shed first: fd goes on counting the cgroup after process was shed: %s grew by %s "
                         "(expected %d), never backwards: %s" % (chart, grew[(chart, dim)], expected, values))
    finally:
        storm.stop()
        code = plugin.stop()
        remove_cgroups([cgroup])
    checks.check(code == 0, "shed first: exits 0 when stdin closes (got %s)" % code)


def test_exit(checks, work, limit_lines, limit_text):
    plugin = Plugin(work, limit_lines, ("process", "fd"), "nothing")
    progs, links = set(), set()
    deadline = time.time() + 20
    while plugin.process.poll() is None and time.time() < deadline:
        try:  # every program and link it holds at some point
            held = owned_ids(plugin.process.pid)
            progs |= held[0]
            links |= held[1]
        except OSError:
            pass
        time.sleep(0.05)
    code = plugin.process.poll()
    if code is None:
        code = plugin.stop()
    plugin.out.thread.join(timeout=30)  # the plugin has exited: its last lines, however slow the reader
    lines = plugin.stderr_lines()
    said = [l for l in lines if limit_text in l]
    checks.check(len(said) == 2 and "shedding module" in said[0] and
                 re.search(r"and shedding cannot bring it under: '(process|fd)' is the last module running; "
                           r"exiting$", said[1]),
                 "exit: one module shed, then the message: %s" % said)
    checks.check(code == 1, "exit: exit code 1 (got %s)" % code)
    checks.check(plugin.out.lines[-1:] == ["DISABLE"], "exit: the agent is told DISABLE (%s)" % plugin.out.lines[-1:])
    shed = plugin.out.of("netdata.ebpf_shed")
    checks.check(shed and sorted(running_values(shed[-1]).values()) == [0, 1],
                 "exit: netdata.ebpf_shed named the shed module (%s)" % (shed[-1] if shed else None))
    check_protocol(checks, plugin.out.lines, "exit: ")
    left = left_in_kernel(progs, links)
    checks.check(progs and not left, "exit: none of its %d programs and %d links is left in the kernel (%s)"
                 % (len(progs), len(links), sorted(left)))


def test_own_activity(checks, work, workload, tag):
    """The plugin's own calls (it reads /proc/self/fdinfo and writes its charts every second) are not
    the host's: its app group gets none, while a workload's opens and writes count exactly."""
    name, own_name = "ewl-own-" + tag, "ebpfown" + tag  # a name of its own: other plugins may run
    copy, own_binary = os.path.join(work, name), os.path.join(work, own_name)
    shutil.copy(workload, copy)
    shutil.copy(os.path.join(BUILD, "ebpf.plugin"), own_binary)
    plugin = Plugin(work, [], ("process", "fd", "vfs"), own_name, other_groups=(name,), binary=own_binary)
    try:
        if not checks.check(plugin.out.wait("apps.file_open", 2, 20), "own activity: apps charts are published"):
            return
        subprocess.run([copy, "--opens", "9"], check=True, capture_output=True)
        plugin.out.wait("apps.file_open", len(plugin.out.of("apps.file_open")) + 4, 10)
        own, group = sanitize("grp_" + own_name), sanitize("grp_" + name)
        for chart in ("apps.file_open", "apps.vfs_write_call", "apps.vfs_read_call"):
            seen = [values.get(own) for values in plugin.out.of(chart)]
            checks.check(all(not value for value in seen), "own activity: %s %s stays empty (%s)" % (chart, own, seen[-3:]))
        opens = plugin.out.of("apps.file_open")[-1].get(group)
        checks.check(opens == 9, "own activity: apps.file_open %s = %s (expected 9)" % (group, opens))
    finally:
        code = plugin.stop()
    checks.check(code == 0, "own activity: exits 0 when stdin closes (got %s)" % code)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = Checks()
    tag = "%06x" % random.randrange(1 << 24)
    work = tempfile.mkdtemp(prefix="ebpf-self-")
    workload = os.path.join(BUILD, "ebpf-workload")
    try:
        test_own_activity(checks, work, workload, tag)
        memlock = test_cost(checks, work, workload)
        if memlock:
            test_shed(checks, work, workload, memlock, tag)
            test_shed_first(checks, work, workload, memlock, tag)
        test_exit(checks, work, ["memory limit = 1 MiB"], "memory limit 1.0 MiB exceeded")
        # Reading its tables takes the plugin more than 0.1 ms per second: judged over 2 s windows.
        test_exit(checks, work, ["cpu limit = 0.0001", "cpu limit window = 2"], "cpu limit 0.0001 cores exceeded")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
