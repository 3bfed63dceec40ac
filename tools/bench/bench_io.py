"""Part "io" of bench.py: the vfs and socket modules' BPF time per counted
pwrite/pread of 4 KiB on a file and per loopback TCP send/receive of 4 KiB,
over empty programs on the same hooks, and the loops' wall time with no
programs, the empty ones and the plugin's (vfs and socket on, apps and cgroups
on, the stock files otherwise)."""
import os
import subprocess

import bench

HOOKS = ("sys_exit_pwrite64", "sys_exit_pread64", "sock_send_length", "sock_recv_length")
TARGET_RW_NS = 150   # BPF time per counted read or write (issue 7)
TARGET_WALL = 1.05   # each loop within 5 % of its time under the empty programs


def write_config(work):
    user = os.path.join(work, "etc-io")
    os.makedirs(user)
    with open(os.path.join(user, "ebpf.d.conf"), "w") as f:
        f.write("[global]\n    ebpf load mode = entry\n    apps = yes\n    cgroups = yes\n"
                "    update every = 1\n[ebpf programs]\n    vfs = yes\n    socket = yes\n")
        for other in ("cachestat dcstat disk fd filesystem hardirq mdflush mount oomkill process shm softirq "
                      "sync swap").split():
            f.write("    %s = no\n" % other)
    with open(os.path.join(user, "apps_groups.conf"), "w") as f:
        f.write("bench: ebpf-bench\n")
    return user


def measure(build, work, stock, args):
    def run():
        out = subprocess.run([os.path.join(build, "ebpf-bench"), "io", str(args.pairs), str(args.rounds)],
                             capture_output=True, text=True, check=True).stdout
        return {phase: int(ns) / 1e9 for phase, ns in (line.split() for line in out.splitlines())}
    return bench.event_cost(build, write_config(work), stock, 0, 0, 0, args.repeats, run)


def print_io(args, per_program, wall):
    print("\n## vfs and socket per event (%d runs of %d pwrite+pread pairs and %d loopback TCP sends, 4 KiB)\n"
          % (args.repeats, args.pairs, args.rounds))
    empty = {hook: bench.cost(v) for (label, hook), v in per_program.items() if label == "empty program"}
    print("| hook | program | events | ns/event | empty program ns/event | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    worst_rw = 0.0
    for hook in HOOKS:
        for (label, h), v in sorted(per_program.items()):
            if h != hook or label == "empty program" or not v[1]:
                continue
            base = empty.get(hook)
            print("| %s | %s | %d | %.1f | %s | %s |" % (hook, label, v[1], bench.cost(v), bench.fmt(base),
                                                       "%.2f" % (bench.cost(v) / base) if base else "-"))
            if hook.startswith("sys_exit_p"):
                worst_rw = max(worst_rw, bench.cost(v))
    print("\nTarget per counted read or write <= %d ns of BPF time: %s (%.0f ns)" % (
        TARGET_RW_NS, bench.verdict(worst_rw <= TARGET_RW_NS), worst_rw))
    print("\n| loop | none | empty programs | plugin | plugin / none | plugin / empty |")
    print("|---|---:|---:|---:|---:|---:|")
    for phase in wall["none"]:
        n, b, p = wall["none"][phase], wall["baseline"][phase], wall["plugin"][phase]
        print("| %s | %.3f s | %.3f s | %.3f s | %.2f | %.2f |" % (phase, n, b, p, p / n, p / b))
    print("\nTarget each loop <= %.2fx its time under the empty programs: %s" % (TARGET_WALL, ", ".join(
        "%s %s" % (phase, bench.verdict(wall["plugin"][phase] / wall["baseline"][phase] <= TARGET_WALL))
        for phase in wall["none"])))
