#!/usr/bin/env python3
"""Benchmark of ebpf.plugin on the running kernel (`make bench`; docs/BENCHMARKS.md).

1. the plugin process's cost per cycle with 0, 1k and 10k live PIDs in both pid
   tables: CPU % of one core (utime+stime) and VmRSS/VmHWM, update every = 1
   (part "memory": kernel memory instead, the growth of Percpu in /proc/meminfo
   and the memlock of the plugin's maps, idle and with N live PIDs)
2. start-up time, exec to the first END line (median)
3. per-event cost of each BPF program over an empty program on the same hook
   (kernel.bpf_stats_enabled=1, restored afterwards), and wall time of a fixed
   syscall workload with no programs, the empty ones, and the plugin's
4. the same for vfs and socket (part "io", bench_io.py): a counted pwrite/pread
   of 4 KiB and a loopback TCP send/receive of 4 KiB

Every process started here is stopped by its PID, the sysctl is restored, and
the temporary configuration is removed, also on errors and SIGINT/SIGTERM.
Prints the figures as Markdown tables.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.modules.setdefault("bench", sys.modules[__name__])  # bench_io uses this module's helpers and process list
import bench_io  # noqa: E402

TARGET_CPU_PERCENT = 0.5
TARGET_RSS_MIB = 16
TARGET_EVENT_RATIO = 1.3
TARGET_LIFE_NS = 1500
TARGET_PERCPU_IDLE_MB, TARGET_MEMLOCK_IDLE_MB, TARGET_KERNEL_LIVE_MB = 32, 64, 64
# hooks of one process's life: fork (task_newtask, sched_process_fork), exec, exit, reap
LIFE_HOOKS = ("task_newtask", "sched_process_fork", "sched_process_exec", "sched_process_exit",
              "sched_process_free")
STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"
TICK_CHART = "netdata.ebpf_pid_table"  # a self chart: published once per cycle

# Hooks of the plugin's tracepoint-path programs (kernel-collector/*.bpf.c).
PROGRAM_HOOKS = {
    "tp_task_newtask": "task_newtask",
    "tp_sched_process_exit": "sched_process_exit",
    "tp_sched_process_free": "sched_process_free",
    "core_fork": "sched_process_fork",
    "core_fork_slots": "sched_process_fork",
    "core_exec": "sched_process_exec",
    "core_exit": "sched_process_exit",
    # each module's own life-cycle programs before the process core (--build of older trees)
    "lifecycle_exit": "sched_process_exit",
    "lifecycle_exec": "sched_process_exec",
    "tp_sys_exit_open": "sys_exit_open",
    "tp_sys_exit_openat": "sys_exit_openat",
    "tp_sys_exit_openat2": "sys_exit_openat2",
    "tp_sys_exit_creat": "sys_exit_creat",
    "tp_sys_exit_close": "sys_exit_close",
    # vfs and socket, for a counted read/write and a TCP send/receive (bench_io.py)
    "tp_sys_exit_pread64": "sys_exit_pread64",
    "tp_sys_exit_pwrite64": "sys_exit_pwrite64",
    "tp_sock_send_length": "sock_send_length",
    "tp_sock_recv_length": "sock_recv_length",
}

started = []  # every Popen started here, stopped by PID on the way out


def start(command, **kwargs):
    process = subprocess.Popen(command, **kwargs)
    started.append(process)
    return process


def stop(process, timeout=10):
    """Closes its stdin (how the plugin and ebpf-bench are told to finish), then kills by PID."""
    if process.stdin and not process.stdin.closed:
        try:
            process.stdin.close()
        except OSError:
            pass
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    if process in started:
        started.remove(process)


def stop_all():
    for process in list(started):
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    started.clear()


def read_line(stream, timeout, what):
    """One line from a child's stdout, or SystemExit after `timeout` seconds."""
    result = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        raise SystemExit("bench: %s did not answer within %ds" % (what, timeout))
    return result[0].decode().strip()


class Plugin:
    """ebpf.plugin with update every = 1, apps and cgroups on, process and fd modules only."""

    def __init__(self, build, config_dir, stock_dir):
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=config_dir, NETDATA_STOCK_CONFIG_DIR=stock_dir)
        self.lock = threading.RLock()
        self.ticks, self.values, self.first_end, self.attached = 0, {}, None, []
        self.started_at = time.monotonic()
        self.process = start([os.path.join(build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.stderr_lines = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        chart = None
        for raw in self.process.stdout:
            words = raw.split()
            if not words:
                continue
            with self.lock:
                if words[0] == b"BEGIN":
                    chart = words[1].decode()
                elif words[0] == b"SET" and len(words) >= 4:
                    self.values[(chart, words[1].decode())] = int(words[3])
                elif words[0] == b"END":
                    if self.first_end is None:
                        self.first_end = time.monotonic()
                    if chart == TICK_CHART:
                        self.ticks += 1

    def _read_stderr(self):
        for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.lock:
                self.stderr_lines.append(line)
                if " attached with " in line:
                    self.attached.append(time.monotonic())

    def wait(self, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition(self):
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        with self.lock:
            log = "\n".join(self.stderr_lines[-10:])
        raise SystemExit("bench: plugin: no %s within %ds (exit %s)\n%s" % (what, timeout, self.process.poll(), log))

    def wait_ticks(self, count, timeout=30):
        with self.lock:
            target = self.ticks + count
        self.wait(lambda p: p.ticks >= target, timeout, "%d more cycles" % count)

    def pid_entries(self):
        with self.lock:
            return {m: self.values.get((TICK_CHART, m)) for m in ("process", "fd")}

    def program_ids(self):
        return program_ids_of(self.process.pid)

    def stop(self):
        stop(self.process)


def write_config(directory):
    """Stock files from the repository (Debian's), our [global] over them, the
    host's Debian apps_groups.conf when installed (a realistic pattern list)."""
    user = os.path.join(directory, "etc")
    os.makedirs(user)
    with open(os.path.join(user, "ebpf.d.conf"), "w") as f:
        f.write("[global]\n    ebpf load mode = entry\n    apps = yes\n    cgroups = yes\n"
                "    update every = 1\n    pid table size = 32768\n"
                "[ebpf programs]\n    process = yes\n    fd = yes\n")
        for other in ("cachestat dcstat disk filesystem hardirq mdflush mount oomkill shm socket softirq "
                      "sync swap vfs").split():
            f.write("    %s = no\n" % other)
    debian_groups = "/usr/lib/netdata/conf.d/apps_groups.conf"
    if os.path.exists(debian_groups):
        shutil.copy(debian_groups, os.path.join(user, "apps_groups.conf"))
    else:
        with open(os.path.join(user, "apps_groups.conf"), "w") as f:
            f.write("bench: ebpf-bench\n")
    return user


def program_ids_of(pid):
    """BPF program ids a process holds (fdinfo of its program and link fds)."""
    ids = set()
    base = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(base):
        try:
            for line in open(os.path.join(base, fd)):
                if line.startswith("prog_id:"):
                    ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def cpu_sample(pid):
    """Seconds of utime and stime (/proc/<pid>/stat), seconds on CPU (schedstat), monotonic time."""
    stat = open("/proc/%d/stat" % pid).read()
    fields = stat[stat.rindex(")") + 2:].split()
    tick = os.sysconf("SC_CLK_TCK")
    on_cpu = 0
    for task in os.listdir("/proc/%d/task" % pid):
        on_cpu += int(open("/proc/%d/task/%s/schedstat" % (pid, task)).read().split()[0])
    return {"user": int(fields[11]) / tick, "system": int(fields[12]) / tick, "on_cpu": on_cpu / 1e9,
            "time": time.monotonic()}


def memory_kib(pid):
    found = {}
    for line in open("/proc/%d/status" % pid):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            found[key] = int(value.split()[0])
    return found


def cycle_cost(build, config, stock, pids, seconds):
    """CPU and memory of the plugin while `pids` processes sit in both pid tables."""
    plugin = Plugin(build, config, stock)
    holder = None
    try:
        plugin.wait_ticks(1)
        if pids:
            holder = start([os.path.join(build, "ebpf-bench"), "hold", str(pids)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
            read_line(holder.stdout, 300, "ebpf-bench hold %d" % pids)
        plugin.wait(lambda p: all((v or 0) >= pids for v in p.pid_entries().values()), 60,
                    "%d entries in both pid tables" % pids)
        plugin.wait_ticks(3)  # past the cycles that saw the new PIDs first
        entries = plugin.pid_entries()
        before = cpu_sample(plugin.process.pid)
        ticks_before = plugin.ticks
        time.sleep(seconds)
        after = cpu_sample(plugin.process.pid)
        memory = memory_kib(plugin.process.pid)
        cycles = plugin.ticks - ticks_before
        used = {key: after[key] - before[key] for key in before}
        return {
            "pids": pids,
            "entries": entries,
            "cycles": cycles,
            "cpu_percent": 100 * (used["user"] + used["system"]) / used["time"],
            "user_percent": 100 * used["user"] / used["time"],
            "system_percent": 100 * used["system"] / used["time"],
            "cpu_percent_schedstat": 100 * used["on_cpu"] / used["time"],
            "ms_per_cycle": 1000 * used["on_cpu"] / max(cycles, 1),
            "rss_mib": memory["VmRSS"] / 1024,
            # VmRSS also counts the pages of BPF arrays we map (active_pids, process slots):
            # kernel memory already in memlock; RssAnon is the plugin's own
            "anon_mib": memory["RssAnon"] / 1024,
            "hwm_mib": memory["VmHWM"] / 1024,
        }
    finally:
        if holder:
            stop(holder, timeout=120)
        plugin.stop()


def percpu_kib():
    for line in open("/proc/meminfo"):
        if line.startswith("Percpu:"):
            return int(line.split()[1])
    return 0


def maps_memlock(pid):
    """Number of BPF maps a process holds and the sum of their memlock (bytes), from fdinfo."""
    found = {}
    base = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(base):
        try:
            fields = dict(line.split(":", 1) for line in open(os.path.join(base, fd)) if ":" in line)
        except OSError:
            continue
        if "map_id" in fields and "memlock" in fields:
            found[int(fields["map_id"])] = int(fields["memlock"])
    return len(found), sum(found.values())


def kernel_memory(build, config, stock, pids):
    """Percpu growth and maps' memlock with the plugin idle, then with `pids` live processes."""
    percpu_before = percpu_kib()
    plugin = Plugin(build, config, stock)
    holder = None
    try:
        plugin.wait_ticks(2)
        idle_maps, idle_memlock = maps_memlock(plugin.process.pid)
        result = {"possible_cpus": possible_cpus(), "pids": pids, "maps": idle_maps,
                  "percpu_idle_mb": (percpu_kib() - percpu_before) / 1024, "memlock_idle_mb": idle_memlock / 2**20}
        if pids:
            holder = start([os.path.join(build, "ebpf-bench"), "hold", str(pids)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
            read_line(holder.stdout, 600, "ebpf-bench hold %d" % pids)
            plugin.wait(lambda p: all((v or 0) >= pids for v in p.pid_entries().values()), 300,
                        "%d entries in both pid tables" % pids)
            plugin.wait_ticks(2)
            result["percpu_live_mb"] = (percpu_kib() - percpu_before) / 1024
            result["memlock_live_mb"] = maps_memlock(plugin.process.pid)[1] / 2**20
        return result
    finally:
        if holder:
            stop(holder, timeout=300)
        plugin.stop()


def mount_tracefs():
    """The empty programs attach to syscall tracepoints: a host booted without
    tracefs mounted gets it where the plugin would mount it."""
    path = "/sys/kernel/tracing"
    if not os.path.exists(os.path.join(path, "events")):
        subprocess.run(["mount", "-t", "tracefs", "tracefs", path], check=True)


def possible_cpus():
    count = 0
    for part in open("/sys/devices/system/cpu/possible").read().strip().split(","):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def start_up(build, config, stock, runs):
    """Seconds from exec to the last "attached" stderr line and to the first END line."""
    attached, first_end = [], []
    for _ in range(runs):
        plugin = Plugin(build, config, stock)
        try:
            plugin.wait(lambda p: p.first_end is not None, 30, "END line")
            with plugin.lock:
                first_end.append(plugin.first_end - plugin.started_at)
                attached.append(max(plugin.attached) - plugin.started_at if plugin.attached else float("nan"))
        finally:
            plugin.stop()
    return {"attached_s": statistics.median(attached), "first_end_s": statistics.median(first_end),
            "first_end_all_s": first_end}


def program_stats(ids):
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True).stdout
    stats = {}
    for program in json.loads(out):
        if program["id"] in ids:
            stats[program["id"]] = (program["name"], program.get("run_time_ns", 0), program.get("run_cnt", 0),
                                    program.get("map_ids", []))
    return stats


def module_of(map_ids, names):
    """A program's module, from its .rodata map: libbpf names it after the
    object, cut to 8 characters ("fd_bpf.rodata", "process_.rodata")."""
    for map_id in map_ids:
        name = names.get(map_id, "")
        if "." in name:
            return name.split(".")[0].removesuffix("_bpf").removesuffix("_bp").removesuffix("_b").rstrip("_")
    return "?"


def map_names():
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True, check=True).stdout
    return {m["id"]: m.get("name", "") for m in json.loads(out)}


def workload(build, opens, forks, execs):
    out = subprocess.run([os.path.join(build, "ebpf-bench"), "syscalls", str(opens), str(forks), str(execs)],
                         capture_output=True, text=True, check=True).stdout
    return {phase: int(ns) / 1e9 for phase, ns in (line.split() for line in out.splitlines())}


def event_cost(build, config, stock, opens, forks, execs, repeats, run=None):
    """Per-event run time of every program (plugin vs empty baseline) and workload wall time
    (of `run()`, a dict phase -> seconds, in place of the syscall workload)."""
    per_program = {}  # (label, hook) -> [run_time_ns, run_cnt]
    walls = {"none": [], "baseline": [], "plugin": []}
    for _ in range(repeats):
        for condition in ("none", "baseline", "plugin"):
            plugin = loader = None
            try:
                if condition == "plugin":
                    plugin = Plugin(build, config, stock)
                    plugin.wait_ticks(1)
                    ids = plugin.program_ids()
                elif condition == "baseline":
                    loader = start([os.path.join(build, "ebpf-bench"), "baseline"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE)
                    read_line(loader.stdout, 30, "ebpf-bench baseline")
                    ids = program_ids_of(loader.pid)
                else:
                    ids = set()
                names = map_names()
                before = program_stats(ids)
                walls[condition].append(run() if run else workload(build, opens, forks, execs))
                after = program_stats(ids)
                for prog_id, (name, run_time, runs, maps) in after.items():
                    if condition == "baseline":
                        hook, label = name[len("baseline_"):], "empty program"
                    else:
                        owner = "core" if name.startswith("core_") else module_of(maps, names)
                        hook, label = PROGRAM_HOOKS.get(name, "?"), "%s: %s" % (owner, name)
                    totals = per_program.setdefault((label, hook), [0, 0])
                    totals[0] += run_time - before[prog_id][1]
                    totals[1] += runs - before[prog_id][2]
            finally:
                if plugin:
                    plugin.stop()
                if loader:
                    stop(loader)
    wall = {c: {phase: statistics.median(run[phase] for run in runs) for phase in runs[0]}
            for c, runs in walls.items()}
    return per_program, wall


def print_memory(memory):
    print("\n## Kernel memory (stock config: modules process and fd, apps and cgroups on, pid table size 32768)\n")
    print("| possible CPUs | maps | Percpu growth idle | memlock idle | live PIDs | Percpu growth | memlock |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in memory:
        print("| %d | %d | %.1f MB | %.1f MB | %d | %s | %s |" % (
            m["possible_cpus"], m["maps"], m["percpu_idle_mb"], m["memlock_idle_mb"], m["pids"],
            "%.1f MB" % m["percpu_live_mb"] if "percpu_live_mb" in m else "-",
            "%.1f MB" % m["memlock_live_mb"] if "memlock_live_mb" in m else "-"))
    idle = memory[0]
    print("\nTargets idle: Percpu <= %d MB -> %s, memlock <= %d MB -> %s" % (
        TARGET_PERCPU_IDLE_MB, verdict(idle["percpu_idle_mb"] <= TARGET_PERCPU_IDLE_MB),
        TARGET_MEMLOCK_IDLE_MB, verdict(idle["memlock_idle_mb"] <= TARGET_MEMLOCK_IDLE_MB)))
    for m in memory:
        if "percpu_live_mb" in m:
            total = m["percpu_live_mb"] + m["memlock_live_mb"]
            print("Target at %d PIDs: Percpu + memlock <= %d MB -> %s (%.1f MB)" % (
                m["pids"], TARGET_KERNEL_LIVE_MB, verdict(total <= TARGET_KERNEL_LIVE_MB), total))


def print_report(args, build, cycles, startup, events, memory=None):
    version = subprocess.run([os.path.join(build, "ebpf.plugin"), "--version"], capture_output=True,
                             text=True).stdout.strip()
    print("\n## Machine\n")
    print("%s; nproc %d, kernel %s, %s, load average at the end %s" % (
        version, os.cpu_count(), platform.release(), cpu_model(),
        " ".join(open("/proc/loadavg").read().split()[:3])))
    if memory:
        print_memory(memory)
    if cycles:
        print_cycles(args, cycles)
    if startup:
        print_startup(args, startup)
    if events:
        print_events(args, *events)


def print_cycles(args, cycles):
    print("\n## Cost per cycle (update every = 1, apps = yes, cgroups = yes, %ds)\n" % args.seconds)
    print("| live PIDs | pid entries process/fd | cycles | CPU % of one core (utime+stime) | user | system "
          "| CPU % (schedstat) | ms per cycle | VmRSS MiB | RssAnon MiB | VmHWM MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in cycles:
        print("| %d | %s/%s | %d | %.2f | %.2f | %.2f | %.3f | %.2f | %.1f | %.1f | %.1f |" % (
            c["pids"], c["entries"]["process"], c["entries"]["fd"], c["cycles"], c["cpu_percent"],
            c["user_percent"], c["system_percent"], c["cpu_percent_schedstat"], c["ms_per_cycle"],
            c["rss_mib"], c["anon_mib"], c["hwm_mib"]))
    top = max(cycles, key=lambda c: c["pids"])
    print("\nTarget at %d PIDs: CPU <= %.1f %% -> %s (%.2f %%), RSS <= %d MiB -> %s (%.1f MiB)" % (
        top["pids"], TARGET_CPU_PERCENT, verdict(top["cpu_percent"] <= TARGET_CPU_PERCENT),
        top["cpu_percent"], TARGET_RSS_MIB, verdict(top["rss_mib"] <= TARGET_RSS_MIB), top["rss_mib"]))


def print_startup(args, startup):
    print("\n## Start-up (median of %d)\n" % args.starts)
    print("| exec -> modules attached | exec -> first END |")
    print("|---:|---:|")
    print("| %.3f s | %.3f s |" % (startup["attached_s"], startup["first_end_s"]))
    print("\nfirst END per run: %s" % ", ".join("%.3f" % s for s in startup["first_end_all_s"]))


def print_events(args, per_program, wall):
    print("\n## Per-event cost (%d runs of %d open+close, %d fork+wait, %d fork+exec+wait)\n" % (
        args.repeats, args.opens, args.forks, args.execs))
    empty = {hook: cost(v) for (label, hook), v in per_program.items() if label == "empty program"}
    print("| hook | program | events | ns/event | empty program ns/event | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    hooks = sorted({hook for (_, hook) in per_program})
    for hook in hooks:
        ours = sorted((label, v) for (label, h), v in per_program.items()
                      if h == hook and label != "empty program" and v[1])
        for label, v in ours:
            base = empty.get(hook)
            ratio = "%.2f" % (cost(v) / base) if base else "-"
            print("| %s | %s | %d | %.1f | %s | %s |" % (hook, label, v[1], cost(v), fmt(base), ratio))
        if len(ours) > 1 and hook in empty:
            together = sum(cost(v) for _, v in ours)
            print("| %s | all of the plugin's | | %.1f | %s | %.2f |" % (hook, together, fmt(empty[hook]),
                                                                      together / empty[hook]))
    plugin_life = {hook: sum(cost(v) for (label, h), v in per_program.items()
                             if h == hook and label != "empty program" and v[1]) for hook in LIFE_HOOKS}
    empty_life = {hook: empty.get(hook, 0.0) for hook in LIFE_HOOKS}
    print("\n| process life | plugin's programs ns | empty programs ns |")
    print("|---|---:|---:|")
    for name, hooks in (("fork+exit+reap", [h for h in LIFE_HOOKS if h != "sched_process_exec"]),
                        ("fork+exec+exit+reap", LIFE_HOOKS)):
        print("| %s | %.0f | %.0f |" % (name, sum(plugin_life[h] for h in hooks), sum(empty_life[h] for h in hooks)))
    life = sum(plugin_life.values())
    print("\nTarget per process life (fork+exec+exit+reap) <= %d ns: %s (%.0f ns)" % (
        TARGET_LIFE_NS, verdict(life <= TARGET_LIFE_NS), life))
    missed = sorted({hook for (label, hook), v in per_program.items()
                     if label != "empty program" and v[1] and empty.get(hook)
                     and cost(v) / empty[hook] > TARGET_EVENT_RATIO})
    print("\nTarget per event <= %.1fx the empty program: %s" % (
        TARGET_EVENT_RATIO, "met" if not missed else "MISSED on " + ", ".join(missed)))

    print("\n## Workload wall time (median of %d)\n" % args.repeats)
    print("| phase | none | empty programs | plugin | plugin / none | plugin / empty |")
    print("|---|---:|---:|---:|---:|---:|")
    for phase in wall["none"]:
        n, b, p = wall["none"][phase], wall["baseline"][phase], wall["plugin"][phase]
        print("| %s | %.3f s | %.3f s | %.3f s | %.2f | %.2f |" % (phase, n, b, p, p / n, p / b))


def cost(totals):
    return totals[0] / totals[1] if totals[1] else 0.0


def fmt(value):
    return "-" if value is None else "%.1f" % value


def verdict(ok):
    return "met" if ok else "MISSED"


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../build"))
    parser.add_argument("--pids", default="0,1000,10000")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--opens", type=int, default=1000000)
    parser.add_argument("--forks", type=int, default=20000)
    parser.add_argument("--execs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=1000000, help="io: pwrite+pread pairs of 4 KiB")
    parser.add_argument("--rounds", type=int, default=1000000, help="io: TCP sends of 4 KiB over loopback")
    parser.add_argument("--parts", default="memory,cycles,startup,events,io", help="which measurements to run")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench: needs root (BPF programs, kernel.bpf_stats_enabled)")
    build = os.path.abspath(args.build)
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    mount_tracefs()
    work = tempfile.mkdtemp(prefix="ebpf-bench-")
    stats_before = open(STATS_SYSCTL).read().strip()
    try:
        config = write_config(work)
        stock = os.path.join(repo, "conf.d")
        parts = args.parts.split(",")
        cycles = startup = events = memory = io = None
        if "memory" in parts:
            pids = max(int(n) for n in args.pids.split(","))
            print("bench: kernel memory idle and with %d PIDs..." % pids, file=sys.stderr, flush=True)
            memory = [kernel_memory(build, config, stock, pids)]
        if "cycles" in parts:
            cycles = []
            for pids in (int(n) for n in args.pids.split(",")):
                print("bench: cycle cost with %d PIDs..." % pids, file=sys.stderr, flush=True)
                cycles.append(cycle_cost(build, config, stock, pids, args.seconds))
        if "startup" in parts:
            print("bench: start-up...", file=sys.stderr, flush=True)
            startup = start_up(build, config, stock, args.starts)
        if "events" in parts:
            print("bench: per-event cost...", file=sys.stderr, flush=True)
            with open(STATS_SYSCTL, "w") as f:
                f.write("1\n")
            events = event_cost(build, config, stock, args.opens, args.forks, args.execs, args.repeats)
        if "io" in parts:
            print("bench: vfs and socket per-event cost...", file=sys.stderr, flush=True)
            with open(STATS_SYSCTL, "w") as f:
                f.write("1\n")
            io = bench_io.measure(build, work, stock, args)
    finally:
        stop_all()
        with open(STATS_SYSCTL, "w") as f:
            f.write(stats_before + "\n")
        shutil.rmtree(work, ignore_errors=True)
    print_report(args, build, cycles, startup, events, memory)
    if io:
        bench_io.print_io(args, *io)
    return 0


if __name__ == "__main__":
    sys.exit(main())
