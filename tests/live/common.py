"""What the live suites share: the plugin's configuration, start and stop, its
output, the checks and their results, the BPF objects it holds, cgroups."""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

from check_output import plugin_check_output

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
DEFAULT_BUILD = os.path.join(os.path.dirname(__file__), "../../build")
ATTACH_PATHS = ("trampoline", "kprobe", "tracepoint")
ALL_MODULES = ("process fd vfs socket cachestat dcstat disk filesystem hardirq mdflush mount oomkill shm softirq "
               "sync swap").split()
JOURNAL_SOCKET = "/run/systemd/journal/socket"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: ebpf\.plugin (ERROR|INFO ) : MAIN : ")


def suite_options(modes=False):
    """The options of the suites the kernel matrix runs (tests/matrix/guest-suite.sh)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--attach")
    parser.add_argument("--expect-path")
    if modes:
        parser.add_argument("--mode", default="return", choices=["entry", "return"])
    parser.add_argument("--build", default=DEFAULT_BUILD)
    parser.add_argument("--results")
    return parser


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


def finish(checks, results=None, modules=(), labels=None, over_failure=False):
    """Prints "N passed, M failed"; writes the --results file: each module's "pass", or "fail" (a check
    of no module fails them all), or its label in `labels` ("n/a", "skip") in place of "pass", or of
    both with over_failure. Returns the exit code."""
    print("%d passed, %d failed" % (checks.passed, checks.failed), flush=True)
    if results:
        labels, failed = labels or {}, checks.failed_modules

        def status(module):
            if over_failure and module in labels:
                return labels[module]
            if "all" in failed or module in failed:
                return "fail"
            return labels.get(module, "pass")

        with open(results, "w") as f:
            json.dump({"passed": checks.passed, "failed": checks.failed,
                       "modules": {m: status(m) for m in modules}}, f)
    return 1 if checks.failed else 0


def write_config(config, enabled, global_lines=(), apps_groups=None):
    """ebpf.d.conf: update every 1 and `global_lines` in [global], the `enabled` modules on and every
    other one off; apps_groups.conf when given."""
    os.makedirs(config, exist_ok=True)
    with open(os.path.join(config, "ebpf.d.conf"), "w") as f:
        f.write("[global]\n    update every = 1\n" + "".join("    %s\n" % line for line in global_lines))
        f.write("[ebpf programs]\n")
        f.write("".join("    %s = %s\n" % (m, "yes" if m in enabled else "no") for m in ALL_MODULES))
    if apps_groups is not None:
        with open(os.path.join(config, "apps_groups.conf"), "w") as f:
            f.write(apps_groups)


def start_plugin(build, config, attach=None, binary=None):
    """The plugin (build/ebpf.plugin, or a copy: `binary`) with the configuration directory `config`,
    its stderr kept in config/stderr. Returns the process, the stderr file and its PluginOutput."""
    env = dict(os.environ, NETDATA_USER_CONFIG_DIR=config,
               NETDATA_STOCK_CONFIG_DIR=os.path.join(os.path.dirname(config), "none"))
    command = [binary or os.path.join(build, "ebpf.plugin"), "1"] + (["--attach", attach] if attach else [])
    stderr = open(os.path.join(config, "stderr"), "w+")
    plugin = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
    return plugin, stderr, PluginOutput(plugin.stdout)


def read_all(stderr):
    stderr.seek(0)
    return stderr.read()


def check_sends_data(checks, plugin, output, stderr, text, seconds=20):
    """Waits for the first update; when none comes, the check fails and stderr is shown."""
    deadline = time.time() + seconds
    while output.snapshot()[1] == 0 and time.time() < deadline and plugin.poll() is None:
        time.sleep(0.05)
    if checks.check(output.snapshot()[1] > 0, text):
        return True
    sys.stdout.write(read_all(stderr))
    return False


def stop_plugin(plugin, timeout):
    """Closes its stdin (the agent going away): its exit code, or "hung" (then killed)."""
    plugin.stdin.close()
    try:
        return plugin.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        plugin.kill()
        plugin.wait()
        return "hung"


def protocol_check(lines):
    """tools/protocol-check.py over the plugin's stdout lines."""
    return subprocess.run([sys.executable, os.path.join(REPO, "tools/protocol-check.py")],
                          input="\n".join(lines) + "\n", capture_output=True, text=True)


def check_protocol(checks, lines, prefix=""):
    verdict = protocol_check(lines)
    checks.check(verdict.returncode == 0, "%sprotocol-check accepts the output %s" %
                 (prefix, (verdict.stdout + verdict.stderr).strip()))


def check_log_lines(checks, lines, prefix=""):
    checks.check(all(LOG_LINE.match(l) for l in lines), "%severy stderr line has the date and the plugin's name"
                 % prefix)


class PluginOutput:
    """Reads the plugin's stdout: every line, the last value of each dimension, each chart's
    CHART line, and every update in order as (chart, {dimension: value or None})."""

    def __init__(self, stream):
        self.lines, self.values, self.declared, self.updates, self.ends = [], {}, {}, [], 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        chart, update = None, {}
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            words = line.split()
            with self.lock:
                self.lines.append(line)
                if not words:
                    continue
                if words[0] == "CHART" and len(words) > 1:
                    self.declared[words[1]] = line
                elif words[0] == "BEGIN":
                    chart, update = words[1], {}
                elif words[0] == "SET" and len(words) >= 3:
                    update[words[1]] = int(words[3]) if len(words) >= 4 else None
                    if len(words) >= 4:
                        self.values[(chart, words[1])] = int(words[3])
                elif words[0] == "END":
                    self.ends += 1
                    self.updates.append((chart, update))

    def value(self, chart, dim):
        with self.lock:
            return self.values.get((chart, dim))

    def snapshot(self):
        with self.lock:
            return dict(self.values), self.ends

    def chart(self, chart):
        """The last value of each of the chart's dimensions."""
        with self.lock:
            return {dim: value for (name, dim), value in self.values.items() if name == chart}

    def chart_line(self, chart):
        with self.lock:
            return self.declared.get(chart)

    def of(self, chart):
        """The chart's updates, in order."""
        with self.lock:
            return [values for name, values in self.updates if name == chart]

    def wait(self, chart, count, timeout):
        """Until the chart has `count` updates; whether it has."""
        deadline = time.time() + timeout
        while len(self.of(chart)) < count and time.time() < deadline:
            time.sleep(0.02)
        return len(self.of(chart)) >= count

    def wait_updates(self, count, timeout=15):
        """Until `count` more updates of any chart; whether they came."""
        with self.lock:
            target = self.ends + count
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.ends >= target:
                    return True
            time.sleep(0.05)
        return False


def series(output, chart, dim=None):
    """Every value the chart's dimension (or its only one) was set to, in order."""
    values, current = [], None
    with output.lock:
        for line in output.lines:
            words = line.split()
            if words and words[0] == "BEGIN":
                current = words[1]
            elif (words and words[0] == "SET" and current == chart and len(words) >= 4
                  and (dim is None or words[1] == dim)):
                values.append(int(words[3]))
    return values


def wait_stable(read, done, seconds=30, report=True):
    """Reads values until done(values) and they have not changed for 2.5 s (values settle
    within a few cycles: exactness is the check, the time is only reported)."""
    started = time.time()
    stable_since, last, settled = started, None, None
    while time.time() < started + seconds:
        now = read()
        finished = done(now)
        if now != last:
            stable_since, last = time.time(), now
        if finished and settled is None:
            settled = time.time() - started
        if finished and time.time() - stable_since > 2.5:
            break
        time.sleep(0.2)
    if report:
        print("# values settled %s" % ("after %.1f s" % settled if settled is not None else "never"), flush=True)


def settle(expected, actual, seconds=30, report=True):
    """expected: scope -> counter -> value; actual(scope, counter) reads it. Waits for them to settle."""
    wait_stable(lambda: {(s, c): actual(s, c) for s in expected for c in expected[s]},
                lambda now: all(now[(s, c)] == expected[s][c] for s in expected for c in expected[s]),
                seconds, report)


def check_expected(checks, expected, actual, module_of):
    """Checks each counter of each scope exactly."""
    for scope, counters in expected.items():
        for counter, value in sorted(counters.items()):
            got = actual(scope, counter)
            checks.check(got == value, "%s %s = %s (expected %d)" % (scope, counter, got, value), module_of(counter))


class ChartDefinitions:
    """charts/*.conf: which chart and dimension shows which counter."""

    def __init__(self, directory=os.path.join(REPO, "charts")):
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


def sanitize(name):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)


def cgroup2_root():
    for line in open("/proc/self/mounts"):
        fields = line.split()
        if fields[2] == "cgroup2":
            return fields[1]
    raise SystemExit("no cgroup2 mount")


def make_cgroups(directories):
    for d in directories:
        os.makedirs(d)


def remove_cgroups(directories):
    """rmdir each, retried while the last processes leave it."""
    for d in directories:
        for _ in range(50):
            try:
                os.rmdir(d)
                break
            except OSError:
                time.sleep(0.1)


def check_verdicts(build):
    """module -> {path: verdict} from ebpf.plugin --check's "<path> (<module> programs): <verdict>" lines."""
    said = {}
    for line in plugin_check_output(build).splitlines():
        found = re.match(r"^(\w+) \((\w+) programs\): (.*)$", line)
        if found:
            said.setdefault(found.group(2), {})[found.group(1)] = found.group(3)
    return said


def kernel_ids(kind):
    """Ids of every BPF program ("prog") or link ("link") in the kernel. bpftool fails
    when an object goes away while it lists them (other tools load programs too): retry."""
    for _ in range(10):
        done = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True)
        if done.returncode == 0:
            return {p["id"] for p in json.loads(done.stdout)}
        time.sleep(0.1)
    raise RuntimeError("bpftool %s show keeps failing: %s" % (kind, done.stderr.strip()))


def left_in_kernel(progs, links, tries=1):
    """Which of the programs and links are still in the kernel. It frees detached ones after
    an RCU grace period: asked up to `tries` times, 0.1 s apart."""
    for attempt in range(tries):
        left = (progs & kernel_ids("prog")) | (links & kernel_ids("link"))
        if not left or attempt == tries - 1:
            return left
        time.sleep(0.1)


def fdinfo(pid):
    """The fields of each of a process's /proc/PID/fdinfo files (a BPF object's: prog_id, link_id,
    map_id), as strings; an fd closed meanwhile is left out."""
    directory = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(directory):
        try:
            with open(os.path.join(directory, fd)) as f:
                text = f.read()
        except OSError:
            continue
        yield dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def map_ids(pid):
    """Ids of the BPF maps a process holds."""
    return {int(fields["map_id"]) for fields in fdinfo(pid) if "map_id" in fields}


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
    for fields in fdinfo(pid):
        if "prog_id" in fields:
            progs.add(int(fields["prog_id"]))
        if "link_id" in fields:
            links.add(int(fields["link_id"]))
            if "prog_id" in fields:
                attached.add(int(fields["prog_id"]))
    return progs, links, attached


def journald_alive():
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(JOURNAL_SOCKET)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def start_journald():
    """A journald of our own when none answers; returns its Popen or None."""
    if journald_alive():
        return None
    os.makedirs("/run/systemd/journal", exist_ok=True)
    proc = subprocess.Popen(["/lib/systemd/systemd-journald"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if journald_alive():
            break
        time.sleep(0.1)
    return proc


def journal_bytes(value):
    """journalctl -o json writes a value that is not printable text as a list of bytes."""
    return bytes(value).decode() if isinstance(value, list) else value
