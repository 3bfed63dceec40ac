"""live_test.py's cgroup cases: a cgroup removed and created again (--recreate), cgroups
with odd names (--recreate) and deep short-lived process trees (--tree)."""
import os
import subprocess
import time

from common import sanitize, series, wait_stable
from live_counts import MODULE_OF, RUNS, expected_counters

def odd_cgroups(checks, output, charts, root, tag, spawn, workload, cgroup_dirs):
    """Cgroups named with a leading '.' and 20 levels deep are charted like any other."""
    part, dim = charts.by_counter("cgroup")["open_call"]
    deep = os.path.join("ebpf_deep_" + tag, *["d"] * 19)
    for relative, chart_name in ((".ebpf_dot_" + tag, "-ebpf_dot_" + tag),
                                 (deep, sanitize(deep.replace("/", "_")))):
        directory = os.path.join(root, relative)
        os.makedirs(directory)
        parts = relative.split("/")
        cgroup_dirs.extend(os.path.join(root, *parts[:i]) for i in range(len(parts), 0, -1))
        opens = 13
        subprocess.run([spawn, directory, workload, "--opens", str(opens)], check=True, capture_output=True)
        chart = "cgroup_%s.%s" % (chart_name, part)
        deadline = time.time() + 15
        while time.time() < deadline and output.value(chart, dim) != opens:
            time.sleep(0.2)
        checks.check(output.value(chart, dim) == opens, "cgroup %s (%d levels): %s %s = %s (expected %d)"
                     % (relative.split("/")[0], len(parts), chart, dim, output.value(chart, dim), opens))


def recreate_cgroup(checks, output, charts, root, tag, spawn, workload, cgroup_dirs):
    """A cgroup removed, then created again under the same name: its charts go
    obsolete within a few cycles and stay quiet, and the new one continues from
    the old totals (the agent must never see a counter go backwards)."""
    name = "ebpf_again_" + tag
    directory = os.path.join(root, name)
    part, dim = charts.by_counter("cgroup")["open_call"]
    chart = "cgroup_%s.%s" % (sanitize(name), part)
    opens = 11

    def run_workload():
        os.makedirs(directory)
        cgroup_dirs.append(directory)
        subprocess.run([spawn, directory, workload, "--opens", str(opens)], check=True, capture_output=True)

    def wait_for(condition, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline and not condition():
            time.sleep(0.2)
        return condition()

    def lines_from(start):
        with output.lock:
            return output.lines[start:]

    run_workload()
    checks.check(wait_for(lambda: output.value(chart, dim) == opens, 15),
                 "cgroup %s: %s %s = %s (expected %d)" % (name, chart, dim, output.value(chart, dim), opens))
    os.rmdir(directory)
    cgroup_dirs.remove(directory)
    removed_at, start = time.time(), len(lines_from(0))
    obsolete = lambda: any(l.startswith("CHART %s " % chart) and "'obsolete'" in l for l in lines_from(start))
    gone = wait_for(obsolete, 10)
    checks.check(gone, "removed cgroup's charts obsolete after %.1f s (at most 10)" % (time.time() - removed_at))
    time.sleep(2)
    after = lines_from(start)
    cut = next((i for i, l in enumerate(after) if l.startswith("CHART %s " % chart) and "'obsolete'" in l), 0)
    begins = [l for l in after[cut:] if l == "BEGIN " + chart or l.startswith("BEGIN %s " % chart)]
    checks.check(gone and not begins, "no update of an obsolete chart (%d BEGIN lines)" % len(begins))

    run_workload()
    checks.check(wait_for(lambda: output.value(chart, dim) == 2 * opens, 15),
                 "re-created cgroup %s continues: %s = %s (expected %d)"
                 % (name, dim, output.value(chart, dim), 2 * opens))
    sent = series(output, chart, dim)
    checks.check(sent == sorted(sent), "%s %s never goes backwards (sent %s)" % (chart, dim, sent))


def check_tree(count, checks, output, charts, spawn, shell, cgroup_dir, group, plain, return_mode, vfs_path):
    """Deep short-lived trees whose parents exit before the plugin reads them:
    the app group counts exactly what the cgroup counts."""
    script = ('for i in $(seq %d); do bash -c "/bin/true; /bin/true"; '
              'bash -c "(/bin/true; /bin/true) & exec /bin/true"; done' % count)
    subprocess.run([spawn, cgroup_dir, shell, "-c", script], check=True, capture_output=True)
    deadline = time.time() + 20  # the subshells left behind may outlive the spawn
    while open(os.path.join(cgroup_dir, "cgroup.procs")).read().strip() and time.time() < deadline:
        time.sleep(0.1)
    counters = sorted(expected_counters(RUNS["cgroup"], return_mode, vfs_path, 0))

    def values(scope):
        found = {}
        for counter in counters:
            chart, dim = charts.by_counter(scope)[counter]
            found[counter] = (output.value(chart, sanitize(group)) if scope == "apps"
                              else output.value("cgroup_%s.%s" % (sanitize(plain), chart), dim))
        return found

    wait_stable(lambda: (values("apps"), values("cgroup")), lambda now: now[0] == now[1])
    apps, cgroup = values("apps"), values("cgroup")
    # per iteration at least: bash, its /bin/true child, the subshell and its two children
    checks.check((cgroup["create_process"] or 0) >= 4 * count,
                 "tree: the cgroup saw %s process creations for %d trees" % (cgroup["create_process"], count))
    for counter in counters:
        checks.check(apps[counter] == cgroup[counter], "tree: apps %s = %s, cgroup %s"
                     % (counter, apps[counter], cgroup[counter]), MODULE_OF[counter])