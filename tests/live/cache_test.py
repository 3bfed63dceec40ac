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
  charts declared (no swap device to exercise here).
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
                    write_config)

MODULES = ("cachestat", "dcstat", "swap")
RUNS = {"cgroup": {"stats": 200, "creates": 50}, "service": {"stats": 70, "creates": 20}}


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
    group = "cache" + tag
    config = os.path.join(work, "etc")
    # process: a module that runs everywhere keeps the plugin up
    write_config(config, MODULES + ("process",), ["apps = yes", "cgroups = yes"], "%s: ecw-%s\n" % (group, tag))

    root = cgroup2_root()
    plain, service = "ebpf_cache_" + tag, "ebpf-cache-%s" % tag
    measured = {"cgroup": os.path.join(root, plain),
                "service": os.path.join(root, "system.slice", service + ".service")}
    setup = {run: os.path.join(root, "ebpf_cache_setup_%s_%s" % (run, tag)) for run in RUNS}
    cgroup_dirs = list(measured.values()) + list(setup.values())
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

        # The app group: both runs, setup included, i.e. the sum of the four cgroups.
        for counter in ("dc_reference", "dc_slow", "dc_miss", "cachestat_hits", "cachestat_misses"):
            if paths[MODULE_OF[counter]] is None:
                continue
            part, dim = CHART_OF[counter]
            cgroups = [output.value("cgroup_%s.%s" % (sanitize(os.path.basename(d)), part), dim)
                       for d in setup.values()] + [actual("cgroup", counter), actual("service", counter)]
            total = sum(v or 0 for v in cgroups)
            got = output.value("apps.%s" % part, sanitize(group))
            checks.check(got == total, "apps %s = %s (expected the sum of its cgroups %s = %d)"
                         % (counter, got, cgroups, total), MODULE_OF[counter])

        if paths["cachestat"]:
            second_pass_hits(checks, output, pages, "cgroup_%s." % sanitize(plain), None, "cgroup")
            second_pass_hits(checks, output, pages, "services.", sanitize(service), "service")
        if paths["swap"]:
            declared = {l.split()[1] for l in output.lines if l.startswith("CHART ")}
            checks.check("system.swapcalls" in declared, "swap: system.swapcalls declared", "swap")
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
    output.thread.join(timeout=2)
    if owned:
        left = left_in_kernel(*owned)
        checks.check(not left, "none of its programs and links is left in the kernel (%s)" % sorted(left))
    check_protocol(checks, output.lines)
    check_log_lines(checks, read_all(stderr).splitlines())
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
