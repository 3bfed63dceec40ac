#!/usr/bin/env python3
"""Live test of the sync, mount, shm and oomkill modules: the real plugin, real
BPF programs, a workload with known counts (tests/live/syscall-workload.cpp).

* shm: N of each shm call in its own app group, cgroup and service cgroup:
  exact there, and at least that system-wide.
* sync (N of each sync call) and mount (N tmpfs mounts and umounts, M failing
  mounts and umounts, in a private mount namespace): 1.37.1 has system charts
  only, where other programs on the host add their own calls, so the charts are
  checked for at least the workload's calls and the plugin's kernel table for
  the workload's cgroup (cgroup_table, read with bpftool) for exact numbers.
  sync.conf's [syscalls] turns msync off: no msync counted, no mem.memory_map.
* oomkill: exactly one OOM kill in a memory-limited cgroup (of the process that
  ran out of memory) and one in a memory-limited service cgroup (of a larger
  process, while another one ran out of memory), counted for the victim's app
  group (2), cgroup and service (1 each). Uses cgroup v2's memory controller,
  else v1's.

usage: syscall_test.py [--attach PATH] [--expect-path PATH] [--mode entry|return]
                       [--build DIR] [--results FILE]
Prints one line per check and closes with "N passed, M failed".
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (ATTACH_PATHS, ChartDefinitions, Checks, check_expected, check_protocol, check_verdicts,  # noqa: E402
                    check_sends_data, cgroup2_root, finish, left_in_kernel, make_cgroups, owned_ids, read_all,
                    remove_cgroups, sanitize, settle, start_plugin, stop_plugin, suite_options, write_config)

MODULES = ("sync", "mount", "shm", "oomkill")
SYNC_CALLS = ("sync", "syncfs", "msync", "fsync", "fdatasync", "sync_file_range")
SHM_CALLS = ("shmget", "shmat", "shmdt", "shmctl")
RUNS = {"cgroup": {"syncs": 3, "mounts": 4, "failed_mounts": 2, "shm": 5},
        "service": {"syncs": 1, "mounts": 1, "failed_mounts": 1, "shm": 2}}
OOM_LIMIT = 48 << 20  # bytes a victim may use
OOM_ALLOCATE_MIB = 512  # it allocates at most this much (exits 3 if no OOM kill came)
# the victim: the workload itself, or a hog of 32 MiB while its child runs out of memory
OOM_WORKLOAD = {"cgroup": ["--oom", str(OOM_ALLOCATE_MIB)], "service": ["--hog", "32"]}


def expected(run):
    w = RUNS[run]
    counters = {c + "_call": w["syncs"] for c in SYNC_CALLS}
    counters["msync_call"] = 0  # turned off in sync.conf's [syscalls]
    counters.update({c + "_call": w["shm"] for c in SHM_CALLS})
    # one more mount: the workload makes / private in its new mount namespace
    counters.update({"mount_call": 1 + w["mounts"] + w["failed_mounts"], "mount_error": w["failed_mounts"],
                     "umount_call": w["mounts"] + w["failed_mounts"], "umount_error": w["failed_mounts"]})
    return counters


def module_of(counter):
    if counter == "oomkill":
        return "oomkill"
    if "mount" in counter:
        return "mount"
    return "shm" if counter.startswith("shm") else "sync"


def cgroup_table_counters(plugin_pid, module, cgroup_id):
    """The module's counters for one cgroup in the plugin's own cgroup_table
    (one entry shared by all CPUs), found through the maps its programs use."""
    prefixes = {"sync": ["tp_sys_enter_sy", "fentry_sync", "kprobe_sync", "fentry_msync", "kprobe_msync",
                         "fentry_fsync", "kprobe_fsync"],
                "mount": ["tp_sys_exit_mou", "fexit_mount", "kretprobe_mount"]}[module]
    progs, _, _ = owned_ids(plugin_pid)
    for prog in progs:
        show = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog)],
                                         capture_output=True, text=True).stdout or "{}")
        if not any(show.get("name", "").startswith(p) for p in prefixes):
            continue
        for map_id in show.get("map_ids", []):
            info = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(map_id)],
                                             capture_output=True, text=True).stdout or "{}")
            if info.get("name") != "cgroup_table":
                continue
            key = [str(b) for b in cgroup_id.to_bytes(8, "little")]
            found = subprocess.run(["bpftool", "-j", "map", "lookup", "id", str(map_id), "key"] + key,
                                   capture_output=True, text=True)
            if found.returncode != 0:
                return None
            entry = json.loads(found.stdout)
            raw = bytes(int(b, 16) for b in entry["value"])  # shared table: counters only
            return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]
    return None


class MemoryLimit:
    """A memory-limited cgroup for one OOM victim: v2 (memory.max on the
    workload's own cgroup) when the v2 hierarchy has the memory controller,
    else a v1 memory cgroup the workload is moved into before exec."""

    def __init__(self, v2_root, v2_dir, tag):
        self.v1_dir, self.v2_dir = None, v2_dir
        controllers = open(os.path.join(v2_root, "cgroup.controllers")).read().split()
        if "memory" in controllers:
            parent = v2_root
            for part in os.path.relpath(v2_dir, v2_root).split("/"):
                with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory")
                parent = os.path.join(parent, part)
            with open(os.path.join(v2_dir, "memory.max"), "w") as f:
                f.write(str(OOM_LIMIT))
            if os.path.exists(os.path.join(v2_dir, "memory.swap.max")):
                with open(os.path.join(v2_dir, "memory.swap.max"), "w") as f:
                    f.write("0")
            self.kind = "cgroup v2 memory.max"
        elif os.path.isdir("/sys/fs/cgroup/memory"):
            self.v1_dir = "/sys/fs/cgroup/memory/ebpf_oom_%s_%s" % (tag, os.path.basename(v2_dir))
            os.makedirs(self.v1_dir)
            with open(os.path.join(self.v1_dir, "memory.limit_in_bytes"), "w") as f:
                f.write(str(OOM_LIMIT))
            if os.path.exists(os.path.join(self.v1_dir, "memory.memsw.limit_in_bytes")):
                with open(os.path.join(self.v1_dir, "memory.memsw.limit_in_bytes"), "w") as f:
                    f.write(str(OOM_LIMIT))
            self.kind = "cgroup v1 memory.limit_in_bytes"
        else:
            raise OSError("no memory controller in cgroup v2 or v1")

    def enter(self):
        """preexec_fn: the child joins the v1 memory cgroup (v2 limits apply through cgroup-spawn)."""
        if self.v1_dir:
            with open(os.path.join(self.v1_dir, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def oom_kills(self):
        """The kernel's own count of OOM kills in this cgroup (memory.events, or v1's memory.oom_control)."""
        path = (os.path.join(self.v1_dir, "memory.oom_control") if self.v1_dir
                else os.path.join(self.v2_dir, "memory.events"))
        for line in open(path):
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return None

    def remove(self):
        if self.v1_dir:
            remove_cgroups([self.v1_dir])


def main():
    parser = suite_options(modes=True)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    checks = Checks()
    charts = ChartDefinitions()
    skipped = set()

    tag = "%06x" % random.randrange(1 << 24)
    work = tempfile.mkdtemp(prefix="ebpf-syscall-")
    workload = os.path.join(work, "sysw-" + tag)  # a per-run name: this run's app group alone
    shutil.copy(os.path.join(build, "syscall-workload"), workload)
    group = "sys" + tag
    config = os.path.join(work, "etc")
    write_config(config, MODULES, ["apps = yes", "cgroups = yes", "ebpf load mode = %s" % args.mode],
                 "%s: sysw-%s\n" % (group, tag))
    os.makedirs(os.path.join(config, "ebpf.d"))
    with open(os.path.join(config, "ebpf.d", "sync.conf"), "w") as f:
        f.write("[syscalls]\n    msync = no\n")

    root = cgroup2_root()
    plain, service = "ebpf_sys_" + tag, "ebpf-sys-%s" % tag
    run_dirs = {"cgroup": os.path.join(root, plain),
                "service": os.path.join(root, "system.slice", service + ".service")}
    oom_dirs = {"cgroup": os.path.join(root, "ebpf_oom_" + tag),
                "service": os.path.join(root, "system.slice", "ebpf-oom-%s.service" % tag)}
    cgroup_dirs = list(run_dirs.values()) + list(oom_dirs.values())
    make_cgroups(cgroup_dirs)
    limits = []

    plugin, stderr, output = start_plugin(build, config, args.attach)
    try:
        if not check_sends_data(checks, plugin, output, stderr, "plugin sends data (%s mode)" % args.mode):
            return finish_run(checks, args, skipped)
        output.wait("netdata.ebpf_attach_path", 1, 10)  # a self chart: later in the first cycle's output
        running = {m for m in MODULES
                   if any(output.value("netdata.ebpf_attach_path", "%s_%s" % (m, p)) == 1 for p in ATTACH_PATHS)}
        if args.attach and args.attach != "tracepoint":
            # oomkill has only the oom:mark_victim tracepoint, as upstream
            if "oomkill" not in running:
                print("# oomkill: not run with --attach %s (tracepoint only)" % args.attach)
                skipped.add("oomkill")
        if args.attach == "trampoline" and "mount" not in running:
            # mount counts at fexit, which needs bpf_get_func_ret (5.17+): the plugin must say so
            why = [line for line in read_all(stderr).splitlines() if "mount" in line and "bpf_get_func_ret" in line]
            if why:
                print("# mount: not run with --attach trampoline (%s)" % why[0].strip())
                skipped.add("mount")
        for module in MODULES:
            if module not in skipped:
                checks.check(module in running, "%s runs" % module, module)
        owned_progs, owned_links, _ = owned_ids(plugin.pid)
        system_before = {c: output.value(chart, dim) or 0 for c, (chart, dim) in charts.by_counter("system").items()}

        spawn = os.path.join(build, "cgroup-spawn")
        for run, directory in run_dirs.items():
            arguments = [word for k, v in RUNS[run].items() for word in ("--" + k.replace("_", "-"), str(v))]
            scratch = os.path.join(work, "dir-" + run)
            os.makedirs(scratch)
            subprocess.run([spawn, directory, workload] + arguments + ["--dir", scratch],
                           check=True, capture_output=True, text=True)
        kills, kernel_kills = {}, {}
        if "oomkill" not in skipped:
            for run, directory in oom_dirs.items():
                try:
                    limit = MemoryLimit(root, directory, tag)
                except OSError as error:
                    print("# oomkill: %s; no OOM kill can be caused here" % error)
                    skipped.add("oomkill")
                    break
                limits.append(limit)
                done = subprocess.run([spawn, directory, workload] + OOM_WORKLOAD[run],
                                      capture_output=True, text=True, preexec_fn=limit.enter)
                kills[run] = done.returncode == 128 + 9
                checks.check(kills[run], "%s: the workload (%s) was OOM-killed (%s; exit %s)"
                             % (run, " ".join(OOM_WORKLOAD[run]), limit.kind, done.returncode), "oomkill")
                # The kernel may kill more than the workload in its cgroup (seen on 6.18 and
                # 7.2, now and then: two kills): the plugin must count what the kernel counted.
                kernel_kills[run] = limit.oom_kills()
                checks.check(kernel_kills[run] is not None and kernel_kills[run] >= 1,
                             "%s: the kernel counts %s OOM kill(s) in its cgroup" % (run, kernel_kills[run]), "oomkill")

        expect = {"apps": {}, "cgroup": {}, "services": {}}
        for c in SHM_CALLS:
            counter = c + "_call"
            expect["apps"][counter] = expected("cgroup")[counter] + expected("service")[counter]
            expect["cgroup"][counter] = expected("cgroup")[counter]
            expect["services"][counter] = expected("service")[counter]
        if "oomkill" not in skipped:
            expect["apps"]["oomkill"] = sum(kernel_kills.values())
            expect["oom_cgroup"] = {"oomkill": kernel_kills.get("cgroup")}
            expect["oom_service"] = {"oomkill": kernel_kills.get("service")}

        def actual(scope, counter):
            chart, dim = charts.by_counter("cgroup" if scope == "oom_cgroup" else
                                           "services" if scope == "oom_service" else scope)[counter]
            if scope == "apps":
                return output.value(chart, sanitize(group))
            if scope == "services":
                return output.value(chart, sanitize(service))
            if scope == "oom_service":
                return output.value(chart, sanitize("ebpf-oom-%s" % tag))
            name = plain if scope == "cgroup" else "ebpf_oom_" + tag
            return output.value("cgroup_%s.%s" % (sanitize(name), chart), dim)

        settle(expect, actual)
        check_expected(checks, expect, actual, module_of)

        # sync and mount: exact in the kernel table of the workload's cgroup
        names = {"sync": [c + "_call" for c in SYNC_CALLS],
                 "mount": ["mount_call", "umount_call", "mount_error", "umount_error"]}
        for module in ("sync", "mount"):
            if module in skipped:
                continue
            for run, directory in run_dirs.items():
                got = cgroup_table_counters(plugin.pid, module, os.stat(directory).st_ino)
                want = [expected(run)[c] for c in names[module]]
                checks.check(got == want, "%s: kernel cgroup_table for the %s run %s = %s (expected %s)"
                             % (module, run, names[module], got, want), module)
        system_expected = {c: expected("cgroup")[c] + expected("service")[c] for c in expected("cgroup")}
        with output.lock:
            declared = [l for l in output.lines if l.startswith("CHART mem.memory_map ")]
        checks.check(not declared, "msync off in [syscalls]: mem.memory_map not declared (%d CHART lines)"
                     % len(declared), "sync")
        del system_expected["msync_call"]
        for counter, value in sorted(system_expected.items()):
            if module_of(counter) in skipped:
                continue
            chart, dim = charts.by_counter("system")[counter]
            got = output.value(chart, dim)
            grew = None if got is None else got - system_before[counter]
            checks.check(grew is not None and grew >= value,
                         "system %s %s grew by %s >= %d" % (chart, dim, grew, value), module_of(counter))

        if args.expect_path:
            verdicts = check_verdicts(args.build)
            for module in MODULES:
                if module in skipped:
                    continue
                got = {p: output.value("netdata.ebpf_attach_path", "%s_%s" % (module, p)) for p in ATTACH_PATHS}
                want_path = args.expect_path
                if not args.attach and verdicts.get(module, {}).get(want_path) != "ok":
                    # auto, where the expected path cannot apply (mount's trampoline before 5.17):
                    # the first path --check says works for it
                    want_path = next((p for p in ATTACH_PATHS if verdicts.get(module, {}).get(p) == "ok"), None)
                want = {p: int(p == want_path) for p in ATTACH_PATHS}
                if module == "oomkill":
                    want = {p: int(p == "tracepoint") for p in ATTACH_PATHS}
                checks.check(got == want, "%s attach path (self chart says %s)" % (module, got), module)

        code = stop_plugin(plugin, 5)
        checks.check(code == 0, "plugin exits 0 when stdin closes (got %s)" % code)
        output.thread.join(timeout=30)  # the plugin has exited: its last lines, however slow the reader
        left = left_in_kernel(owned_progs, owned_links, 20)
        checks.check(not left, "none of its programs and links is left in the kernel (%s)" % sorted(left))
        check_protocol(checks, output.lines)
        not_implemented = [l for l in read_all(stderr).splitlines() if "not implemented" in l]
        checks.check(not not_implemented, "no 'not implemented' line (%s)" % not_implemented)
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        remove_cgroups(cgroup_dirs)
        for limit in limits:
            limit.remove()
        shutil.rmtree(work, ignore_errors=True)
    return finish_run(checks, args, skipped)


def finish_run(checks, args, skipped):
    """A module skipped here is "skip" in the results, whatever its checks said."""
    return finish(checks, args.results, MODULES, {m: "skip" for m in skipped}, over_failure=True)


if __name__ == "__main__":
    sys.exit(main())
