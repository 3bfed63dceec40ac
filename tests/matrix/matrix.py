#!/usr/bin/env python3
"""Kernel matrix: the verifier pass and the live suite on the host kernel and
in Debian guest kernels (tools/vm-run), every attach path forced in turn plus
auto mode. Prints a table module x attach path x kernel and writes it to
docs/MATRIX.md. Exits 1 if anything that should work did not.

usage: matrix.py [--kernels "host 5.10 6.1 6.12 7.2"] [--doc docs/MATRIX.md] [--jobs 2]
"""
import argparse
import ast
import concurrent.futures
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PATHS = ["trampoline", "kprobe", "tracepoint"]
SUITES = ("live", "cache", "syscall", "latency")  # tests/live/<suite>_test.py


@functools.cache
def host_check_output():
    return subprocess.run([os.path.join(REPO, "build/ebpf.plugin"), "--check"], capture_output=True,
                          text=True).stdout


def plugin_modules():
    """Every module the plugin has, in its order: the "<path> (<module> programs)" lines of --check."""
    modules = []
    for line in host_check_output().splitlines():
        words = line.partition(": ")[0].split()
        if len(words) == 3 and words[2] == "programs)" and words[1].lstrip("(") not in modules:
            modules.append(words[1].lstrip("("))
    return modules


def suite_of_modules():
    """module -> the suite that counts it: each suite's MODULES = (...) (a module without one fails)."""
    suites = {}
    for suite in SUITES:
        tree = ast.parse(open(os.path.join(REPO, "tests/live/%s_test.py" % suite)).read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and [getattr(n, "id", "") for n in node.targets] == ["MODULES"]:
                suites.update((module, suite) for module in ast.literal_eval(node.value))
    return suites


def host_check():
    """Attach paths the host kernel refuses, with the reason (ebpf.plugin --check)."""
    out = host_check_output()
    refused = {}
    for line in out.splitlines():
        label, _, verdict = line.partition(": ")
        path = label.split()[0]
        # a path our own programs fail on, where the empty probe loads, is our defect
        if path in PATHS and verdict.startswith("refused") and not label.endswith(" programs)"):
            refused[path] = verdict[len("refused: "):]
    return refused


# About the seconds each guest's suite takes on 2 cores alone: the order to start them in.
GUEST_SECONDS = {"6.1": 615, "6.12": 510, "7.2": 465, "5.10": 450}

# A guest that writes nothing to its results for this long has stopped (its kernel hung): each
# step in it is limited to STEP_TIMEOUT (480 s) by guest-suite.sh and writes when it starts and ends.
STALL_SECONDS = 600


def last_progress(results):
    """The newest modification time under `results` (the guest writes there over 9p)."""
    return max([entry.stat().st_mtime for entry in os.scandir(results)] + [0])


def boot_guest(command, results):
    """Runs vm-run; stops it when the guest makes no progress for STALL_SECONDS.
    Returns (exit status, its stderr, whether it was stopped for stalling)."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        guest = subprocess.Popen(command, cwd=REPO, stderr=errors, text=True)
        started, stalled = time.time(), False
        while guest.poll() is None:
            time.sleep(5)
            if time.time() - max(started, last_progress(results)) > STALL_SECONDS:
                stalled = True
                guest.terminate()  # vm-run stops qemu and cleans up on SIGTERM
                try:
                    guest.wait(60)
                except subprocess.TimeoutExpired:
                    guest.kill()
                    guest.wait()
        errors.seek(0)
        return guest.returncode, errors.read(), stalled


def run_suite(kernel, results, tcg_thread):
    """Runs tests/matrix/guest-suite.sh in `kernel` (a guest on `tcg_thread` TCG threads); returns
    (attach paths it refused, exit status, what went wrong with the guest itself: a crash or a stall,
    "" when nothing)."""
    suite = os.path.join(REPO, "tests/matrix/guest-suite.sh")
    started = time.time()
    trouble = ""
    if kernel == "host":
        refused = host_check()
        paths = [p for p in PATHS if p not in refused]
        auto = paths[0] if paths else "tracepoint"
        code = subprocess.run([suite, results, " ".join(paths), auto]).returncode
    else:
        refused = {}
        command = [os.path.join(REPO, "tools/vm-run"), "--kernel", kernel, "--timeout", "2400",
                   "--tcg-thread", tcg_thread, "--",
                   suite, results, " ".join(PATHS), "trampoline"]
        for attempt in (1, 2):
            code, errors, stalled = boot_guest(command, results)
            sys.stderr.write(errors)
            # The guest kernel itself can crash or hang under emulation: seen once in 6.12, an int3
            # left by live code patching hit by an interrupt (multi-threaded TCG); once in 6.1, a
            # guest that wrote nothing for 30 minutes. One more boot then, said here, which
            # resumes after the last finished step; a second crash or stall fails the kernel.
            crashed = code == 125 and "stopped without an exit status" in errors and \
                any(word in errors for word in ("Oops", "Kernel panic", "BUG:"))
            if stalled:
                trouble = "the guest made no progress for %d s (console: %s)" % (
                    STALL_SECONDS, " | ".join(errors.strip().splitlines()[-6:]) or "empty")
            elif crashed:
                trouble = "the guest kernel crashed (console above)"
            else:
                break
            print("# %s (boot %d): %s" % (kernel, attempt, trouble), flush=True)
            if attempt == 1:
                print("# %s: booting it once more, resuming after the last finished step" % kernel, flush=True)
    print("# %s: suite finished in %.0f s (exit %d)" % (kernel, time.time() - started, code), flush=True)
    return refused, code, trouble


def read_results(results):
    verify = {}
    try:
        for line in open(os.path.join(results, "verify")):
            words = line.split(None, 4)
            if len(words) == 5 and words[0] == "verify":
                verify[(words[1], words[2], words[3])] = words[4].strip()
    except OSError:
        pass
    live = {}
    for run in PATHS + ["auto"]:
        # live-*.json: process, fd, vfs, socket; cache-*.json: cachestat, dcstat, swap;
        # syscall-*.json: sync, mount, shm, oomkill; latency-*.json: hardirq, softirq, disk, filesystem, mdflush
        for suite in SUITES:
            try:
                result = json.load(open(os.path.join(results, "%s-%s.json" % (suite, run))))
            except (OSError, ValueError):
                continue
            merged = live.setdefault(run, {"passed": 0, "failed": 0, "modules": {}})
            merged["passed"] += result.get("passed", 0)
            merged["failed"] += result["failed"]
            merged["modules"].update(result["modules"])
    try:
        release = open(os.path.join(results, "kernel")).read().strip()
    except OSError:
        release = "?"
    return release, verify, live, module_checks(results), fallbacks(results)


def module_checks(results):
    """--check's "<path> (<module> programs): <verdict>" lines, by (module, path)."""
    found = {}
    try:
        for line in open(os.path.join(results, "check")):
            label, _, verdict = line.strip().partition(": ")
            words = label.split()
            if len(words) == 3 and words[2] == "programs)":
                found[(words[1].lstrip("("), words[0])] = verdict
    except OSError:
        pass
    return found


FALLBACKS = {"map reads without capabilities": "keeps CAP_BPF"}


def fallbacks(results):
    """What --check said this kernel lacks, in the words of the column header."""
    found = []
    try:
        for line in open(os.path.join(results, "check")):
            label, _, verdict = line.partition(": ")
            feature = label.split(" (")[0]
            if feature in FALLBACKS and verdict.startswith("refused"):
                found.append(FALLBACKS[feature])
    except OSError:
        pass
    return found


SUITE_OF = suite_of_modules()
# Suites run once where guest-suite.sh plans them, a row each: tests/live/<name>_test.py
ONCE_SUITES = {"flows": "netflow records", "nat": "NAT tags (conntrack)", "self": "self monitoring, limits",
               "traces": "Fluent Bit's traces", "bash": "bash command log", "netview": "network viewer",
               "dns": "DNS flows (dnsflow)", "http": "HTTP flows (httpflow)"}
NOT_RUN = "verifier pass only (its suite runs in tests/live on the host and in the guests)"
AUTO_ONLY = "verifier pass (its suite runs here in auto mode, on every path in the 6.1 guest)"


def suite_plan(results, name):
    """Suites guest-suite.sh left out on this kernel (suites-not-run) or ran in auto mode only."""
    try:
        return open(os.path.join(results, name)).read().split()
    except OSError:
        return []


def cell(module, path, verify, checked, live, refused, not_run=(), auto_only=()):
    """(text, ok) for one module and forced attach path on one kernel."""
    verdicts = [verify.get((module, path, mode), "missing") for mode in ("entry", "return")]
    # --check must say what --verify finds: "ok" exactly where both modes load and attach
    said = checked.get((module, path), "missing")
    if (said == "ok") != all(v == "ok" for v in verdicts):
        return "FAIL: --check says '%s', --verify '%s'" % (said, " / ".join(verdicts)), False
    if path in refused:
        return "refused by kernel (%s)" % refused[path], True
    if all(v.startswith("n/a") for v in verdicts):
        return verdicts[0], True
    bad = [v for v in verdicts if v != "ok"]
    if bad:
        return "FAIL verify: %s" % bad[0], False
    if SUITE_OF.get(module) in not_run:
        return NOT_RUN, True
    if SUITE_OF.get(module) in auto_only:
        return AUTO_ONLY, True
    result = live.get(path)
    if not result:
        return "FAIL: live suite did not run", False
    if result["modules"].get(module) == "skip":
        return "skipped (see the log)", True
    if result["modules"].get(module) != "pass":
        return "FAIL live (%d checks failed)" % result["failed"], False
    return "pass", True


def step_summary(results):
    """guest-suite.sh's steps file: those that timed out, failed to start or never ended."""
    ended, notes = {}, []
    try:
        lines = open(os.path.join(results, "steps")).read().split("\n")
    except OSError:
        return "no step started"
    for words in (line.split() for line in lines):
        if len(words) == 4 and words[0] == "end":
            ended[words[1]] = words[2]
    for words in (line.split() for line in lines):
        if len(words) == 3 and words[0] == "start":
            status = ended.get(words[1])
            if status is None:
                notes.append("%s never ended" % words[1])
            elif status == "124":
                notes.append("%s timed out" % words[1])
    return "; ".join(notes) or "every step ended"


def once_cell(name, results, kernel):
    """(text, ok) for a suite run once on one kernel."""
    if name not in suite_plan(results, "suites-once"):
        where = "tracepoint path" if name in ("flows", "nat", "netview") else "auto"
        return ("runs in tests/live (%s)" % where if kernel == "host" else
                "not run here (time; the host and other guests run it)"), True
    try:
        result = json.load(open(os.path.join(results, name + ".json")))
    except (OSError, ValueError):
        return "FAIL: its suite left no result", False
    if result["modules"].get(name) == "skip":
        return "skipped: the kernel cannot (the plugin says why; see the log)", True
    if result["modules"].get(name) != "pass":
        return "FAIL (%d checks failed)" % result["failed"], False
    if name not in ("flows", "nat"):
        return "pass", True
    # the flows take the first path --check says ok
    chosen = next((line.split()[2].rstrip(":") for line in open(os.path.join(results, "check"))
                   if line.startswith("flows on ") and line.rstrip().endswith(": ok")), "?")
    return "pass (flows on %s)" % chosen, True


def diagnosis(kernel, results, code, seconds, trouble):
    """What a failed kernel left: its exit status, its steps, the logs without a result, each log's
    last lines."""
    lines = ["# %s failed: suite exit %d after %.0f s%s" % (kernel, code, seconds,
                                                       " (the guest timed out)" if code == 124 else ""),
             "#   steps: %s" % step_summary(results)]
    if trouble:
        lines.append("#   guest: %s" % trouble)
    names = sorted(os.listdir(results))
    for name in names:
        if not name.endswith(".log"):
            continue
        stem = name[:-4]
        if stem + ".json" in names and '"failed": 0' in open(os.path.join(results, stem + ".json")).read():
            continue
        tail = open(os.path.join(results, name), errors="replace").read().strip().splitlines()[-4:]
        lines.append("#   %s%s: %s" % (name, "" if stem + ".json" in names else " (no result)",
                                       " | ".join(tail) or "empty"))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernels", default="host 5.10 6.1 6.12 7.2")
    parser.add_argument("--doc", default=os.path.join(REPO, "docs/MATRIX.md"))
    # Two guests at once, each on one TCG thread (its two CPUs emulated in turn): with a host
    # thread per guest CPU, live code patching (a trampoline attached or detached under load) crashed
    # 7.2's kernel ("Oops: int3") and locked 5.10's up (soft lockups) again and again, alone or beside
    # another guest; on one thread each, 5.10 and 7.2 passed the same steps every time, side by side.
    parser.add_argument("--jobs", type=int, default=2, help="guests booted at once")
    parser.add_argument("--tcg-thread", choices=("multi", "single"), default="single",
                        help="qemu TCG threads of each guest (tools/vm-run --tcg-thread)")
    args = parser.parse_args()
    kernels = args.kernels.split()

    columns, failures, diagnoses = [], 0, []
    modules = plugin_modules()
    rows = {(m, p): [] for m in modules for p in PATHS + ["auto"]}
    rows.update({(name, "once"): [] for name in ONCE_SUITES})
    def results_of(kernel):
        return os.path.join(REPO, "tests/results/matrix", kernel)

    def run_kernel(kernel):
        subprocess.run(["rm", "-rf", results_of(kernel)])
        os.makedirs(results_of(kernel))
        started = time.time()
        return run_suite(kernel, results_of(kernel), args.tcg_thread) + (time.time() - started,)

    # The host first and alone (its live suite checks the plugin's update intervals), then the
    # guests (with --jobs 2 side by side: one host CPU each), the longest first.
    # 5.10 runs last and alone too: beside another guest (multi-threaded TCG) its cachestat counts drifted.
    runs = {"host": run_kernel("host")} if "host" in kernels else {}
    guests = sorted((k for k in kernels if k not in ("host", "5.10")), key=lambda k: -GUEST_SECONDS.get(k, 0))
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs.update(zip(guests, pool.map(run_kernel, guests)))
    if "5.10" in kernels:
        runs["5.10"] = run_kernel("5.10")
    for kernel in kernels:
        results = results_of(kernel)
        refused, code, trouble, seconds = runs[kernel]
        release, verify, live, checked, lacks = read_results(results)
        failures_before = failures
        columns.append("%s (%s%s)" % (kernel, release, "".join("; " + f for f in lacks)))
        for module in modules:
            for path in PATHS:
                text, ok = cell(module, path, verify, checked, live, refused, suite_plan(results, "suites-not-run"),
                                suite_plan(results, "suites-auto-only"))
                rows[(module, path)].append(text)
                failures += not ok
            auto = live.get("auto")
            verdict = auto["modules"].get(module) if auto else None
            if SUITE_OF.get(module) in suite_plan(results, "suites-not-run"):
                rows[(module, "auto")].append(NOT_RUN)
                continue
            ok = verdict in ("pass", "skip")
            # auto takes the first path whose programs load here (what --check says)
            chosen = next((p for p in PATHS if checked.get((module, p)) == "ok"), None)
            chose = ("chose %s" % chosen) if chosen else "no path here: says why"
            rows[(module, "auto")].append("skipped (see the log)" if verdict == "skip" else
                                          ("pass (%s)" % chose) if ok else "FAIL")
            failures += not ok
        for name in ONCE_SUITES:
            text, ok = once_cell(name, results, kernel)
            rows[(name, "once")].append(text)
            failures += not ok
        for name in sorted(os.listdir(results)):
            if name.endswith(".log"):
                for line in open(os.path.join(results, name)):
                    if line.startswith("not ok"):
                        print("# %s %s: %s" % (kernel, name, line.strip()))
        if failures > failures_before:
            diagnoses.append(diagnosis(kernel, results, code, seconds, trouble))

    header = "| module | attach path | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 2)]
    for (module, path), cells in rows.items():
        label = {"auto": "auto, entry mode",
                 "once": "%s (%s_test.py)" % (ONCE_SUITES.get(module), module)}.get(path, path + ", return mode")
        lines.append("| %s | %s | %s |" % (module, label, " | ".join(cells)))
    table = "\n".join(lines)
    print(table)
    with open(args.doc, "w") as doc:
        doc.write("# Kernel matrix\n\n"
                  "Written by `tests/matrix/run.sh` (part of the README's test command) on %s.\n\n"
                  "Each cell: the verifier pass loaded and attached the module's programs for that path in\n"
                  "entry and return mode, and the live suite, with that path forced, counted the workload\n"
                  "exactly per app group, cgroup and service, and `ebpf.plugin --check` said \"ok\" for\n"
                  "exactly the paths the verifier pass loaded. `auto` rows: the plugin chose the path itself\n"
                  "(it must choose trampoline where the kernel allows it) and counted exactly in entry mode.\n"
                  "Rows named after a suite (`flows_test.py`, ...): that suite passed once in auto mode; the\n"
                  "netflow suites run where the flows take the trampoline path (the host: tracepoint).\n"
                  "Guests boot Debian's kernels under qemu (`tools/vm-run`). A column header names the\n"
                  "fallbacks `ebpf.plugin --check` reported there (see README, Attach paths).\n\n%s\n"
                  % (time.strftime("%Y-%m-%d"), table))
    for text in diagnoses:  # last, where a CI log's tail shows it
        print(text)
    print("%d passed, %d failed" % (sum(len(c) for c in rows.values()) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
