#!/usr/bin/env python3
"""Live test of the cachestat, dcstat and swap modules: the real plugin, real
BPF programs on the running kernel, build/cache-workload with known work.

Each of two workload runs starts in a setup cgroup, moves itself into its
measured cgroup (a plain cgroup, then a systemd-like service), and back
before it exits (its exit marks its own mapped pages accessed). There it
reads a file twice after dropping it from the page cache, stats an existing
and a missing name N times each, creates M new files and unlinks them. The
measured cgroup and service must show exactly:
  cachestat: misses = the file's pages (first pass), hits = its pages (second
  pass; the first may hit a few, see second_pass_hits), no dirtied pages; dcstat: references = 2N (one lookup_fast per stat),
  slow lookups = 2M (d_lookup per create and per unlink), misses = M (the
  creates' lookups find nothing). The app group (both runs, setup included)
  shows the sum of all four cgroups. swap: attached on the expected path, its
  charts declared; a third workload (its own app group and cgroup, memory.max
  8 MiB, swap allowed) writes 4096 pages (not zero-filled, no huge pages) and
  reads them back, on a zram swap device set up for it (swapped off and
  removed after). Its cgroup and app group show exactly the kernel's swap-outs
  and swap-ins in pages (the cgroup's memory.stat pswpout/pswpin where it has
  them, 7.2; else /proc/vmstat: nothing else swaps in a guest), one call per
  page: 4 KiB pages, no large folio, zram reads no ahead, zswap is off.
Where no attach path tried can run these modules (they have no tracepoints:
the host, or a forced tracepoint path), the check is that the plugin says why
in one stderr line per module and in --check, and declares none of their charts.

usage: cache_test.py [--attach PATH] [--expect-path PATH] [--build DIR] [--results FILE]
Prints one line per check and closes with "N passed, M failed".
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (ATTACH_PATHS, Checks, check_expected, check_log_lines, check_protocol,  # noqa: E402
                    check_sends_data, check_verdicts, cgroup2_root, finish, left_in_kernel, make_cgroups, owned_ids,
                    read_all, remove_cgroups, sanitize, series, settle, start_plugin, stop_plugin, suite_options,
                    wait_stable, write_config)

MODULES = ("cachestat", "dcstat", "swap")
RUNS = {"cgroup": {"stats": 200, "creates": 50}, "service": {"stats": 70, "creates": 20}}
SWAP_LIMIT, SWAP_PAGES = 8 << 20, 4096  # the swap workload's cgroup memory.max, and the pages it writes (16 MiB)


def data_file():
    """A regular file of 1-4 MiB under /usr/share that no process maps (the same on every run)."""
    for top, dirs, files in os.walk("/usr/share"):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            if os.path.isfile(path) and not os.path.islink(path) and 1 << 20 <= os.path.getsize(path) <= 4 << 20:
                return path
    raise SystemExit("no file of 1-4 MiB under /usr/share")


def expected(run, pages):
    n, m = RUNS[run]["stats"], RUNS[run]["creates"]
    return {"cachestat_misses": pages, "cachestat_page_dirtied": 0,
            "dc_reference": 2 * n, "dc_slow": 2 * m, "dc_miss": m}


# counter -> (cgroup chart part, dimension), for the cgroup and service charts
CHART_OF = {"cachestat_misses": ("cachestat_misses", "miss"), "cachestat_hits": ("cachestat_hits", "hit"),
            "cachestat_page_dirtied": ("cachestat_dirties", "dirty"), "dc_reference": ("dc_reference", "reference"),
            "dc_slow": ("dc_not_cache", "slow"), "dc_miss": ("dc_not_found", "miss")}
MODULE_OF = {c: ("cachestat" if c.startswith("cachestat") else "dcstat") for c in CHART_OF}


def chart_module(chart):
    part = chart.split(".", 1)[-1]
    if part.startswith("cachestat"):
        return "cachestat"
    if part.startswith("dc_"):
        return "dcstat"
    return "swap" if part.startswith("swap") else None


def swap_counts(cgroup):
    """(swap-ins, swap-outs) in pages, and where from: the cgroup's memory.stat when it has them, else
    /proc/vmstat (the whole system: nothing else swaps in a guest)."""
    for path in (os.path.join(cgroup, "memory.stat"), "/proc/vmstat"):
        try:
            stat = dict(line.split() for line in open(path))
        except OSError:
            continue
        if "pswpin" in stat and "pswpout" in stat:
            return int(stat["pswpin"]), int(stat["pswpout"]), path
    raise SystemExit("no pswpin/pswpout in memory.stat or /proc/vmstat")


class ZramSwap:
    """A zram swap device of highest priority (zram: its memory is no cgroup's), zswap off while it is on;
    remove() undoes whatever start() did."""

    def __init__(self):
        self.sys = self.device = self.zswap = None
        self.hot = self.on = False

    def start(self):
        if not os.path.exists("/sys/class/zram-control"):
            subprocess.run(["modprobe", "zram"], capture_output=True)  # the guest loads it at boot
        if os.path.exists("/sys/class/zram-control/hot_add"):
            number, self.hot = int(open("/sys/class/zram-control/hot_add").read()), True
        elif os.path.exists("/sys/block/zram0") and open("/sys/block/zram0/disksize").read().strip() == "0":
            number = 0
        else:
            raise OSError("no zram device (module zram)")
        self.sys, self.device = "/sys/block/zram%d" % number, "/dev/zram%d" % number
        with open(os.path.join(self.sys, "disksize"), "w") as f:
            f.write(str(4 * SWAP_PAGES * 4096))
        subprocess.run(["mkswap", self.device], check=True, capture_output=True)
        zswap = "/sys/module/zswap/parameters/enabled"
        if os.path.exists(zswap) and open(zswap).read().strip() == "Y":  # zswap keeps pages from the device
            with open(zswap, "w") as f:
                f.write("N")
            self.zswap = zswap
        subprocess.run(["swapon", "-p", "32767", self.device], check=True, capture_output=True)
        self.on = True

    def remove(self):
        if self.on:
            subprocess.run(["swapoff", self.device], check=True, capture_output=True)
        if self.zswap:
            with open(self.zswap, "w") as f:
                f.write("Y")
        if self.sys:
            with open(os.path.join(self.sys, "reset"), "w") as f:
                f.write("1")
        if self.hot:
            with open("/sys/class/zram-control/hot_remove", "w") as f:
                f.write(self.sys[len("/sys/block/zram"):])


def make_swap_traffic(checks, build, workload, cgroup):
    """SWAP_PAGES written then read back by `workload` in `cgroup` (memory.max SWAP_LIMIT, swap
    allowed), on a zram swap device: {"in": pages, "out": pages, "source": where the kernel's counts are from}."""
    parent = os.path.dirname(cgroup)
    if "memory" not in open(os.path.join(parent, "cgroup.controllers")).read().split():
        raise OSError("no memory controller in %s" % parent)
    with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
        f.write("+memory")
    with open(os.path.join(cgroup, "memory.max"), "w") as f:
        f.write(str(SWAP_LIMIT))
    zram = ZramSwap()
    try:
        zram.start()
        before = swap_counts(cgroup)
        started = time.time()
        subprocess.run([os.path.join(build, "cgroup-spawn"), cgroup, workload, "--swap", str(SWAP_PAGES)],
                       check=True, capture_output=True, text=True)
        after = swap_counts(cgroup)
        print("# swap: %d pages through %s (memory.max %d MiB%s) in %.1f s" % (
            SWAP_PAGES, zram.device, SWAP_LIMIT >> 20, ", zswap turned off" if zram.zswap else "",
            time.time() - started), flush=True)
        return {"in": after[0] - before[0], "out": after[1] - before[1], "source": after[2]}
    finally:
        zram.remove()
        if zram.device:
            swaps = open("/proc/swaps").read()
            checks.check(zram.device not in swaps and (not zram.hot or not os.path.exists(zram.sys)),
                         "swap: %s off and %s afterwards" % (zram.device, "removed" if zram.hot else "reset"), "swap")


def check_swap(checks, output, traffic, cgroup, group):
    """The workload's cgroup and app group show the swap calls the kernel counted in pages: one call per
    page (4 KiB pages, no huge pages, zram: no readahead, no zswap)."""
    if not checks.check(traffic["out"] >= SWAP_PAGES - SWAP_LIMIT // 4096 and traffic["in"] > 0,
                        "swap: the workload went to swap and back (%d pages out, %d in, from %s; %d written "
                        "with %d pages of memory.max)" % (traffic["out"], traffic["in"], traffic["source"],
                                                         SWAP_PAGES, SWAP_LIMIT // 4096), "swap"):
        return
    name = sanitize(os.path.basename(cgroup))
    want = {("cgroup_%s.swap_write_call" % name, "write"): traffic["out"],
            ("cgroup_%s.swap_read_call" % name, "read"): traffic["in"],
            ("apps.swap_write_call", sanitize(group)): traffic["out"],
            ("apps.swap_read_call", sanitize(group)): traffic["in"]}
    deadline = time.time() + 10
    while time.time() < deadline and any(output.value(*k) != v for k, v in want.items()):
        time.sleep(0.2)
    for (chart, dim), value in want.items():
        got = output.value(chart, dim)
        checks.check(got == value, "swap: %s %s = %s (expected %d: one call per page %s, %s)"
                     % (chart, dim, got, value, "swapped out" if "write" in chart else "swapped in",
                        traffic["source"]), "swap")


def runnable(verdicts, path):
    return verdicts.get(path) == "ok"


def not_runnable(checks, output, stderr_lines, said, tried):
    """No tried path can run the module here: the plugin must say why, once, and chart nothing of it."""
    for module in MODULES:
        lines = [l for l in stderr_lines if ": %s: no attach path works on this kernel; module disabled (" % module in l]
        checks.check(len(lines) == 1 and all("%s: " % p in lines[0] for p in tried),
                     "%s: one stderr line says why no path runs it (%d lines)" % (module, len(lines)), module)
        verdicts = said[module]
        checks.check(all(re.match(r"(n/a|refused): ", verdicts.get(p, "")) for p in tried)
                     and ("tracepoint" not in tried or "no tracepoint" in verdicts["tracepoint"]),
                     "%s: --check says why %s cannot run it" % (module, "/".join(tried)), module)
        charts = {c for (c, _) in output.snapshot()[0] if chart_module(c) == module}
        attach = [output.value("netdata.ebpf_attach_path", "%s_%s" % (module, p)) for p in ATTACH_PATHS]
        checks.check(not charts and attach == [None] * 3,
                     "%s: none of its charts, no attach path value on the self chart" % module, module)


def main():
    parser = suite_options()
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    checks = Checks()
    tag = "%06x" % random.randrange(1 << 24)
    work = tempfile.mkdtemp(prefix="ebpf-cache-")
    workload = os.path.join(work, "ecw-" + tag)  # a per-run name: its app group is this run's alone
    shutil.copy(os.path.join(build, "cache-workload"), workload)
    swap_workload = os.path.join(work, "ecs-" + tag)  # the swap workload's own app group
    shutil.copy(os.path.join(build, "cache-workload"), swap_workload)
    group, swap_group = "cache" + tag, "swap" + tag
    config = os.path.join(work, "etc")
    # process: a module that runs everywhere keeps the plugin up
    write_config(config, MODULES + ("process",), ["apps = yes", "cgroups = yes"],
                 "%s: ecw-%s\n%s: ecs-%s\n" % (group, tag, swap_group, tag))

    root = cgroup2_root()
    plain, service = "ebpf_cache_" + tag, "ebpf-cache-%s" % tag
    measured = {"cgroup": os.path.join(root, plain),
                "service": os.path.join(root, "system.slice", service + ".service")}
    setup = {run: os.path.join(root, "ebpf_cache_setup_%s_%s" % (run, tag)) for run in RUNS}
    swap_cgroup = os.path.join(root, "ebpf_cache_swap_" + tag)
    cgroup_dirs = list(measured.values()) + list(setup.values()) + [swap_cgroup]
    make_cgroups(cgroup_dirs)

    plugin, stderr, output = start_plugin(build, config, args.attach)
    try:
        if not check_sends_data(checks, plugin, output, stderr, "plugin sends data"):
            return finish(checks, args.results, MODULES)
        time.sleep(1.2)  # one more update: the self chart's values
        paths = {m: next((p for p in ATTACH_PATHS if output.value("netdata.ebpf_attach_path", "%s_%s" % (m, p)) == 1),
                         None) for m in MODULES}
        print("# attach paths: %s" % paths, flush=True)
        verdicts = check_verdicts(build)
        said = {m: verdicts.get(m, {}) for m in MODULES}
        tried = [args.attach] if args.attach else list(ATTACH_PATHS)
        if not any(paths.values()):
            # none attached: right only where no path they need is here (the host: tracepoints only)
            for module in MODULES:
                checks.check(not any(runnable(said[module], p) for p in tried),
                             "%s: not attached, and --check says no path tried applies" % module, module)
            not_runnable(checks, output, read_all(stderr).splitlines(), said, tried)
            return stop(checks, plugin, output, stderr, None, args)
        if args.expect_path:
            for module in MODULES:
                checks.check(paths[module] == args.expect_path, "%s uses %s (self chart says %s)"
                             % (module, args.expect_path, paths[module]), module)
        owned_progs, owned_links, attached = owned_ids(plugin.pid)
        checks.check(owned_progs and owned_progs <= attached, "every program the plugin holds is attached "
                     "(%d programs, %d attached)" % (len(owned_progs), len(attached & owned_progs)))

        traffic = None
        if paths["swap"]:
            try:
                traffic = make_swap_traffic(checks, build, swap_workload, swap_cgroup)
            except (OSError, subprocess.CalledProcessError) as error:
                checks.check(False, "swap: swap traffic made in %s (%s)" % (swap_cgroup, error), "swap")
        source = data_file()
        pages = {}
        for run in RUNS:
            dcdir = os.path.join("/dev/shm", "ebpf-cache-%s-%s" % (tag, run))  # tmpfs: no dirtied pages
            os.makedirs(dcdir)
            try:
                done = subprocess.run([os.path.join(build, "cgroup-spawn"), setup[run], workload,
                                       "--cgroup", measured[run], "--leave-to", setup[run], "--file", source, "--dir", dcdir,
                                       "--stats", str(RUNS[run]["stats"]), "--creates", str(RUNS[run]["creates"]),
                                       "--pause", "2500"],
                                      check=True, capture_output=True, text=True)
            finally:
                shutil.rmtree(dcdir, ignore_errors=True)
            pages[run] = json.loads(done.stdout)["pages"]
        print("# read %s (%d pages) twice per run" % (source, pages["cgroup"]), flush=True)

        def actual(scope, counter):
            part, dim = CHART_OF[counter]
            if scope == "cgroup":
                return output.value("cgroup_%s.%s" % (sanitize(plain), part), dim)
            if scope == "setup":
                return None
            return output.value("services.%s" % part, sanitize(service))

        want = {"cgroup": expected("cgroup", pages["cgroup"]), "service": expected("service", pages["service"])}
        settle(want, actual, 20, report=False)  # values settle within a cycle or two
        check_expected(checks, {s: {c: v for c, v in counters.items() if paths[MODULE_OF[c]]}
                                for s, counters in want.items()}, actual, MODULE_OF.get)

        # The app group: both runs, setup included, i.e. the sum of the four cgroups. Read once both
        # have settled: the workload's exit (its unmapped pages) can fall between the plugin's read of
        # the cgroup tables and of the per-process ones, and then shows in the app group a cycle later.
        def group_and_cgroups():
            values = {}
            for counter in ("dc_reference", "dc_slow", "dc_miss", "cachestat_hits", "cachestat_misses"):
                if paths[MODULE_OF[counter]] is None:
                    continue
                part, dim = CHART_OF[counter]
                cgroups = [output.value("cgroup_%s.%s" % (sanitize(os.path.basename(d)), part), dim)
                           for d in setup.values()] + [actual("cgroup", counter), actual("service", counter)]
                values[counter] = (output.value("apps.%s" % part, sanitize(group)), cgroups)
            return values

        wait_stable(group_and_cgroups,
                    lambda now: all(got == sum(v or 0 for v in cgroups) for got, cgroups in now.values()), 20)
        for counter, (got, cgroups) in sorted(group_and_cgroups().items()):
            total = sum(v or 0 for v in cgroups)
            checks.check(got == total, "apps %s = %s (expected the sum of its cgroups %s = %d)"
                         % (counter, got, cgroups, total), MODULE_OF[counter])

        if paths["cachestat"]:
            second_pass_hits(checks, output, pages, "cgroup_%s." % sanitize(plain), None, "cgroup")
            second_pass_hits(checks, output, pages, "services.", sanitize(service), "service")
        if paths["swap"]:
            declared = {l.split()[1] for l in output.lines if l.startswith("CHART ")}
            checks.check("system.swapcalls" in declared, "swap: system.swapcalls declared", "swap")
            if traffic:
                check_swap(checks, output, traffic, swap_cgroup, swap_group)
        return stop(checks, plugin, output, stderr, (owned_progs, owned_links), args)
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        remove_cgroups(cgroup_dirs)
        shutil.rmtree(work, ignore_errors=True)


def second_pass_hits(checks, output, pages, prefix, dim, run):
    """The second pass is exactly the file's pages in hits. The first pass may hit too: a page
    accessed again while it is read in (7.2) is a hit by upstream's formula. Its interval's ratio
    is that pass's, and a later one (the second pass) is 100."""
    hits = series(output, prefix + "cachestat_hits", dim or "hit")
    misses = series(output, prefix + "cachestat_misses", dim or "miss")
    ratios = series(output, prefix + "cachestat_ratio", dim or "ratio")
    print("# %s hits, misses, ratio, update by update: %s %s %s" % (run, hits[:6], misses[:6], ratios[:6]),
          flush=True)
    first = misses.index(pages[run]) if pages[run] in misses else None  # the update after the first pass
    if not checks.check(first is not None and len(hits) > first, "%s: the first pass's misses are charted" % run,
                        "cachestat"):
        return
    checks.check(hits[-1] - hits[first] == pages[run], "%s: second pass hits = %d (expected %d, first pass hits %d)"
                 % (run, hits[-1] - hits[first], pages[run], hits[first]), "cachestat")
    ratio = hits[first] * 100 // (hits[first] + pages[run])
    checks.check(ratio in ratios and 100 in ratios[ratios.index(ratio) + 1:],
                 "%s: cachestat_ratio %d %% in the first pass's interval, 100 later" % (run, ratio), "cachestat")


def stop(checks, plugin, output, stderr, owned, args):
    code = stop_plugin(plugin, 5)
    checks.check(code == 0, "plugin exits 0 when stdin closes (got %s)" % code)
    output.thread.join(timeout=30)  # the plugin has exited: its last lines, however slow the reader
    if owned:
        left = left_in_kernel(*owned, 50)  # freed after a grace period: seconds under emulation
        checks.check(not left, "none of its programs and links is left in the kernel (%s)" % sorted(left))
    check_protocol(checks, output.lines)
    check_log_lines(checks, read_all(stderr).splitlines())
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
