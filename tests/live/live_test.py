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
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (ATTACH_PATHS, ChartDefinitions, Checks, check_expected, check_log_lines,  # noqa: E402
                    check_protocol, check_sends_data, check_verdicts, cgroup2_root, finish, left_in_kernel,
                    make_cgroups, map_ids, owned_ids, read_all, remove_cgroups, sanitize, settle, start_plugin,
                    stop_plugin, suite_options, write_config)
from live_cgroups import check_tree, odd_cgroups, recreate_cgroup  # noqa: E402
from live_counts import MODULE_OF, RUNS, SOCKET_RUNS, add, expected_counters, socket_counters  # noqa: E402

MODULES = ("process", "fd", "vfs", "socket")  # the modules this suite counts (tests/matrix/matrix.py reads it)
DROP_MARK = 0x65627066  # packets the namespace's nftables rule drops


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


SLOT_FLAGS = 0xC0000000  # SLOT_TAKING | SLOT_CLOSING (kernel-collector/lib/table_value.h)


def pid_table_keys(pid):
    """Pids the plugin holds entries for (fdinfo): keys of every pid_table and of the process
    core's process_table, and owners of the core's process slots (a slot being given back,
    SLOT_CLOSING, takes no more counts for its pid)."""
    keys = set()
    for map_id in map_ids(pid):
        show = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(map_id)],
                                         capture_output=True, text=True).stdout or "{}")
        if show.get("name") not in ("pid_table", "process_table", "process_slots"):
            continue
        dump = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)],
                              capture_output=True, text=True).stdout
        for entry in json.loads(dump or "[]"):
            if show["name"] == "process_slots":
                owner = int.from_bytes(bytes(int(b, 16) for b in entry["value"][:4]), "little")
                if owner and not owner & SLOT_FLAGS:
                    keys.add(owner)
            else:
                keys.add(int.from_bytes(bytes(int(b, 16) for b in entry["key"]), "little"))
    return keys


def not_applicable_paths(build):
    """module -> attach paths for which --check says it has no programs on this kernel ("n/a")."""
    return {module: {path for path, verdict in verdicts.items() if verdict.startswith("n/a")}
            for module, verdicts in check_verdicts(build).items()}


def main():
    parser = suite_options(modes=True)
    parser.add_argument("--shared-tables", action="store_true")
    parser.add_argument("--pid-table-size", type=int)
    parser.add_argument("--recreate", action="store_true")
    parser.add_argument("--module", action="append", default=[])
    parser.add_argument("--tree", type=int)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    module_options = {module: {} for module in MODULES}
    for option in args.module:
        module, _, setting = option.partition(":")
        key, _, value = setting.partition("=")
        module_options[module][key.strip()] = value.strip()
    return_mode = {m: o.get("ebpf load mode", args.mode) == "return" for m, o in module_options.items()}
    update_every = {m: int(o.get("update every", 1)) for m, o in module_options.items()}
    checks = Checks()
    charts = ChartDefinitions()

    tag = "%06x" % random.randrange(1 << 24)
    work = tempfile.mkdtemp(prefix="ebpf-live-")
    # A per-run process name makes the app group this run's alone.
    workload = os.path.join(work, "ewl-" + tag)
    shutil.copy("/bin/bash" if args.tree else os.path.join(build, "ebpf-workload"), workload)
    group = "live" + tag
    config = os.path.join(work, "etc")
    global_lines = ["apps = yes", "cgroups = yes", "ebpf load mode = %s" % args.mode]
    if args.shared_tables:
        global_lines.append("maps per core = no")
    if args.pid_table_size:
        global_lines.append("pid table size = %d" % args.pid_table_size)
    write_config(config, MODULES, global_lines, "%s: ewl-%s\n" % (group, tag))
    os.makedirs(os.path.join(config, "ebpf.d"))
    for module, options in module_options.items():
        if options:
            with open(os.path.join(config, "ebpf.d", module + ".conf"), "w") as f:
                f.write("[global]\n" + "".join("    %s = %s\n" % item for item in options.items()))

    root = cgroup2_root()
    plain = "ebpf_live_" + tag
    service = "ebpf-live-%s" % tag
    cgroup_dirs = [os.path.join(root, plain), os.path.join(root, "system.slice", service + ".service")]
    make_cgroups(cgroup_dirs)
    netns_name, netns, not_running = "ebpf-live-" + tag, False, set()

    plugin, stderr, output = start_plugin(build, config, args.attach)
    try:
        netns_problem = "" if args.tree else make_netns(netns_name)
        netns = not args.tree and not netns_problem
        if not check_sends_data(checks, plugin, output, stderr, "plugin sends data (%s mode)" % args.mode):
            return finish(checks, args.results, MODULES)
        owned_progs, owned_links, attached = owned_ids(plugin.pid)
        # The socket module's tracepoint path needs Linux 6.3+: on older kernels it does not apply.
        lines = read_all(stderr).splitlines()
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
        keeps_bpf = "keeping CAP_BPF after attach: " in read_all(stderr)
        wanted = "%016x" % (1 << 39) if keeps_bpf else "0" * 16
        checks.check(capeff == wanted, "running plugin has CapEff %s (got %s)"
                     % ("CAP_BPF only, as it said" if keeps_bpf else "0", capeff))

        # process slots from 5.12 on (BPF compare-and-swap); before, the plugin says why not
        release = tuple(int(part) for part in os.uname().release.split("-")[0].split(".")[:2])
        slots = max((json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(map_id)],
                                               capture_output=True, text=True).stdout or "{}")
                     for map_id in map_ids(plugin.pid)),
                    key=lambda show: show.get("name") == "process_slots")
        slots_off = [l for l in read_all(stderr).splitlines() if "process slots off" in l]
        if release >= (5, 12):
            checks.check(slots.get("name") == "process_slots" and slots.get("max_entries", 0) > 1 and not slots_off,
                         "process slots on (%s entries)" % slots.get("max_entries"))
        else:
            checks.check(slots.get("max_entries") == 1 and len(slots_off) == 1 and "compare-and-swap" in slots_off[0],
                         "process slots off before 5.12, saying why: %s" % slots_off)

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
            crowd = []
            if args.pid_table_size:
                # more processes than its slots and hash entries together, each
                # opening and reading files (the dynamic loader), outside the
                # workload's cgroups: the tables overflow for sure
                crowd = [subprocess.Popen(["sleep", "3"]) for _ in range(4 * args.pid_table_size + 4)]
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
            for process in crowd:
                process.wait()
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

            settle(expected, actual)
            # An exited process's entries are read once more, then removed: gone two
            # cycles (2 s) after the exit at the latest, or a late reap re-created them.
            if not args.pid_table_size:
                within = 1.5 + 2 * max(update_every.values())
                time.sleep(max(0, exited_at + within - time.time()))
                left = set(workload_pids) & pid_table_keys(plugin.pid)
                checks.check(not left, "exited workload processes left the pid tables within %.1f s (%s)"
                             % (within, sorted(left)))
            check_expected(checks, expected, actual, MODULE_OF.get)
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

        closed_at = time.time()
        # detaching a kprobe waits for an RCU grace period: seconds for dozens under emulation
        code = stop_plugin(plugin, 15)
        checks.check(code == 0, "plugin exits 0 when stdin closes (got %s after %.1f s)"
                     % (code, time.time() - closed_at))
        output.thread.join(timeout=30)  # the plugin has exited: its last lines, however slow the reader
        left = left_in_kernel(owned_progs, owned_links, 50)
        checks.check(not left, "none of its %d programs and %d links is left in the kernel (%s)"
                     % (len(owned_progs), len(owned_links), sorted(left)))

        check_protocol(checks, output.lines)
        check_log_lines(checks, read_all(stderr).splitlines())
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        if netns:
            subprocess.run(["ip", "netns", "del", netns_name])
        remove_cgroups(cgroup_dirs)
        shutil.rmtree(work, ignore_errors=True)
    return finish(checks, args.results, MODULES, {m: "n/a" for m in not_running})


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
    # Every update on its own tick of a grid `seconds` apart, within half an interval: a late tick (a
    # stalled emulated guest) shows as a long gap then a short one and stays on the grid; another
    # update every drifts off it within a few updates.
    late, off_grid = 0, []
    for gap in gaps:
        late += gap - seconds * 1000000
        if abs(late) > seconds * 500000:
            off_grid.append(gap)
    checks.check(gaps and not off_grid, "%s: %s updated every %d s (%d updates, intervals off the grid %s)"
                 % (module, chart, seconds, len(gaps) + 1, off_grid[:5]), module)


if __name__ == "__main__":
    sys.exit(main())
