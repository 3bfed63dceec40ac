#!/usr/bin/env python3
"""Live test of the table modules: hardirq, softirq, disk, filesystem and mdflush.

latency_test.py [--attach PATH] [--expect-path PATH] [--build DIR] [--results FILE]

Runs the plugin standalone with only these modules and checks what the test causes:
  softirq     loopback TCP traffic: NET_RX time grows, every vector within wall time x CPUs
  hardirq     timer ticks: local_timer time grows (x86), IRQ dimensions named as /proc/interrupts
  disk        O_DIRECT reads and writes on a loop device over a file: the requests in its
              histogram equal the kernel's own count (/sys/block/loopN/stat) and the calls made;
              detached, its chart goes obsolete
  filesystem  an ext4 image mounted on a loop device: opens, reads, writes and fsyncs counted
              exactly in its histograms; unmounted, its charts go obsolete. Where no attach path
              can run it (no trampoline, no kprobe), the plugin must say why and go on.
  mdflush     an md RAID1 array (mdadm --build) over two loop devices: N write + fsync(2) on
              /dev/mdX are N flush requests in its dimension. Where md_mod is not loaded or no
              attach path can run it, the plugin must say why and go on.
A module the forced path cannot run must say so on stderr and leave the others running.
Prints one line per check and closes with "N passed, M failed".
"""
import mmap
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_output import plugin_check_output  # noqa: E402
from common import (Checks, finish, protocol_check, read_all, start_plugin, suite_options,  # noqa: E402
                    write_config)

MODULES = ("hardirq", "softirq", "disk", "filesystem", "mdflush")
TRACEPOINT_ONLY = ("hardirq", "softirq", "disk")


class ModuleChecks(Checks):
    """Checks of one module each, named in the line; a workload can be skipped."""

    def __init__(self):
        super().__init__()
        self.skipped_modules = set()

    def skip(self, text, module):
        """A workload this kernel cannot run (no loop or ext4 support): said, counted neither way."""
        print("skip - %s: %s" % (module, text), flush=True)
        self.skipped_modules.add(module)

    def check(self, ok, text, module):
        return super().check(ok, module + ": " + text, module)


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items()}


def wait_cycles(output, seconds=2.5):
    """Lets the plugin read its tables at least twice after what was done."""
    time.sleep(seconds)
    output.wait_updates(2)


def check_softirq(checks, output, cpus):
    chart = "system.softirq_latency"
    before, start = output.chart(chart), time.monotonic()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    received = []
    reader = threading.Thread(target=lambda: received.append(sum(iter(lambda: len(peer.recv(1 << 16)), 0))))
    reader.start()
    block = b"x" * (1 << 16)
    for _ in range(800):  # 50 MiB
        client.sendall(block)
    client.close()
    reader.join()
    peer.close()
    server.close()
    wait_cycles(output)
    grown, elapsed_ns = delta(output.chart(chart), before), (time.monotonic() - start) * 1e9
    checks.check(received == [800 << 16], "50 MiB went over loopback (%s bytes)" % received, "softirq")
    checks.check(set(grown) == {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED",
                                "HRTIMER", "RCU"}, "the ten vectors are dimensions (%s)" % sorted(grown), "softirq")
    checks.check(grown.get("NET_RX", 0) > 0, "NET_RX time grew with the loopback traffic (%d ns)"
                 % grown.get("NET_RX", 0), "softirq")
    bad = {k: v for k, v in grown.items() if not 0 <= v <= elapsed_ns * cpus}
    checks.check(not bad, "every vector's time within 0 and wall time x %d CPUs (%.0f ns): %s"
                 % (cpus, elapsed_ns * cpus, bad or "yes"), "softirq")


def check_hardirq(checks, output, cpus):
    chart = "system.hardirq_latency"
    before, start = output.chart(chart), time.monotonic()
    time.sleep(1)  # timer ticks meanwhile
    wait_cycles(output)
    now = output.chart(chart)
    grown, elapsed_ns = delta(now, before), (time.monotonic() - start) * 1e9
    names = set()
    for line in open("/proc/interrupts"):
        words = line.split()
        if words and re.fullmatch(r"\d+:", words[0]):
            names.add(re.sub(r"[^A-Za-z0-9_.-]", "_", words[0][:-1] + "_" + words[-1]))
    vectors = {"apic_thermal", "apic_threshold", "apic_error", "apic_deferred_error", "apic_spurious", "func_call",
               "func_call_single", "reschedule", "local_timer", "irq_work", "x86_platform_ipi"}
    unknown = set(now) - names - vectors
    checks.check(now and not unknown, "dimensions are /proc/interrupts' <irq>_<name> or x86 vectors "
                 "(%d dimensions, unknown: %s)" % (len(now), sorted(unknown)), "hardirq")
    if os.path.exists("/sys/kernel/tracing/events/irq_vectors/local_timer_entry"):
        checks.check(grown.get("local_timer", 0) > 0, "local_timer time grew over %.1f s (%d ns)"
                     % (elapsed_ns / 1e9, grown.get("local_timer", 0)), "hardirq")
    bad = {k: v for k, v in grown.items() if not 0 <= v <= elapsed_ns * cpus}
    checks.check(not bad, "every IRQ's time within 0 and wall time x %d CPUs: %s" % (cpus, bad or "yes"), "hardirq")


def completed_requests(device):
    fields = open("/sys/block/%s/stat" % device).read().split()
    return int(fields[0]) + int(fields[4]) + (int(fields[11]) if len(fields) > 11 else 0) + \
        (int(fields[15]) if len(fields) > 15 else 0)


def settle():
    """Waits for udev's probes of a new device, where udev runs."""
    try:
        subprocess.run(["udevadm", "settle"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    except FileNotFoundError:
        pass


def has_loop_devices():
    return os.path.exists("/dev/loop-control") or os.path.exists("/sys/module/loop")


def has_ext4():
    return any(line.split()[-1] == "ext4" for line in open("/proc/filesystems") if line.split())


def check_disk(checks, output, work):
    if not has_loop_devices():
        return checks.skip("this kernel has no loop devices (the loop module is not loaded)", "disk")
    image = os.path.join(work, "disk.img")
    with open(image, "wb") as f:
        f.truncate(16 << 20)
    device = subprocess.run(["losetup", "-f", "--show", image], capture_output=True, text=True)
    if not checks.check(device.returncode == 0, "losetup over a 16 MiB file (%s)" % (device.stdout.strip() or
                        device.stderr.strip()), "disk"):
        return
    name = os.path.basename(device.stdout.strip())
    chart = "disk_latency_io." + name
    try:
        settle()
        time.sleep(1)
        wait_cycles(output, 1.5)
        before, stat_before = sum(output.chart(chart).values()), completed_requests(name)
        writes, reads = 64, 16
        buffer = mmap.mmap(-1, 4096)
        buffer.write(b"d" * 4096)
        fd = os.open(device.stdout.strip(), os.O_RDWR | os.O_DIRECT)
        for i in range(writes):
            os.pwritev(fd, [buffer], i * 4096)
        for i in range(reads):
            os.preadv(fd, [buffer], i * 4096)
        os.close(fd)
        wait_cycles(output)
        histogram = output.chart(chart)
        requests, kernel = sum(histogram.values()) - before, completed_requests(name) - stat_before
        line = output.chart_line(chart) or ""
        checks.check("'%s' 'disk.latency_io'" % name in line and len(histogram) == 24,
                     "%s declared with family %s, context disk.latency_io, 24 bins (%d)"
                     % (chart, name, len(histogram)), "disk")
        checks.check(requests == kernel, "requests in the histogram = the kernel's completed requests "
                     "(%d, /sys/block/%s/stat: %d)" % (requests, name, kernel), "disk")
        checks.check(requests == writes + reads, "requests = %d O_DIRECT writes + %d reads (%d)"
                     % (writes, reads, requests), "disk")
        slow = sum(v for k, v in histogram.items() if k.endswith("s-_2s") or k.endswith("s-_4s") or "Inf" in k)
        checks.check(slow == 0, "no request in the bins of a second or more (%d)" % slow, "disk")
    finally:
        subprocess.run(["losetup", "-d", device.stdout.strip()])
    gone = False
    for _ in range(10):
        output.wait_updates(1)
        gone = "obsolete" in (output.chart_line(chart) or "")
        if gone:
            break
        time.sleep(0.5)
    checks.check(gone, "%s goes obsolete once the device is detached" % chart, "disk")


def has_md_flush_request():
    """md_mod loaded: its md_flush_request is in the kernel's symbols."""
    with open("/proc/kallsyms") as symbols:
        return any(line.split()[2:3] == ["md_flush_request"] for line in symbols)


def check_mdflush(checks, output, work):
    if not has_loop_devices() or not os.path.exists("/sys/module/raid1"):
        return checks.skip("this kernel has no %s (its module is not loaded)"
                           % ("loop devices" if not has_loop_devices() else "raid1"), "mdflush")
    if not shutil.which("mdadm"):
        return checks.skip("mdadm is not installed (tools/install-deps.sh test)", "mdflush")
    unit = next(n for n in range(100, 128) if not os.path.exists("/sys/block/md%d" % n))
    name, md, chart = "md%d" % unit, "/dev/md%d" % unit, "mdstat.mdstat_flush"
    loops = []
    try:
        for half in ("a", "b"):
            image = os.path.join(work, "md-%s.img" % half)
            with open(image, "wb") as f:
                f.truncate(16 << 20)
            loop = subprocess.run(["losetup", "-f", "--show", image], capture_output=True, text=True)
            if not checks.check(loop.returncode == 0, "losetup over a 16 MiB file (%s)"
                                % (loop.stdout.strip() or loop.stderr.strip()), "mdflush"):
                return
            loops.append(loop.stdout.strip())
        # --build: no superblock, so md itself writes nothing (no resync, no metadata updates)
        built = subprocess.run(["mdadm", "--build", md, "--level=1", "--raid-devices=2"] + loops,
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if not checks.check(built.returncode == 0, "RAID1 %s built over %s (%s)"
                            % (md, " ".join(loops), (built.stderr or built.stdout).strip()), "mdflush"):
            return
        settle()
        fd = os.open(md, os.O_RDWR)
        try:
            def write_and_fsync(count):
                """count times: a 4 KiB write, then fsync: one empty flush request to md."""
                before = output.chart(chart).get(name, 0)
                for i in range(count):
                    os.pwrite(fd, b"m" * 4096, i * 4096)
                    os.fsync(fd)
                wait_cycles(output)
                return output.chart(chart).get(name, 0) - before

            wait_cycles(output)
            one = write_and_fsync(1)
            checks.check(one == 1, "one write + fsync on %s is one flush request (%d)" % (md, one), "mdflush")
            fsyncs = 12
            grown = write_and_fsync(fsyncs)
            checks.check(grown == fsyncs, "%s's dimension grew by the %d fsyncs made (%d)"
                         % (name, fsyncs, grown), "mdflush")
        finally:
            os.close(fd)
        line = output.chart_line(chart) or ""
        checks.check("'MD flushes' 'flushes' 'flush (eBPF)' 'md.flush' stacked 2101 " in line,
                     "%s declared as upstream's (%s)" % (chart, line.strip()), "mdflush")
    finally:
        if os.path.exists("/sys/block/%s/md/array_state" % name):
            subprocess.run(["mdadm", "--stop", md], capture_output=True)
        for loop in loops:
            subprocess.run(["losetup", "-d", loop])


def check_filesystem(checks, output, work):
    if not has_loop_devices() or not has_ext4():
        return checks.skip("this kernel has no %s (its module is not loaded)"
                           % ("loop devices" if not has_loop_devices() else "ext4"), "filesystem")
    image, mountpoint = os.path.join(work, "ext4.img"), os.path.join(work, "mnt")
    os.makedirs(mountpoint)
    with open(image, "wb") as f:
        f.truncate(32 << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", image], capture_output=True, text=True)
    mounted = made.returncode == 0 and subprocess.run(["mount", "-o", "loop", image, mountpoint]).returncode == 0
    if not checks.check(mounted, "an ext4 image mounted (%s)" % made.stderr.strip(), "filesystem"):
        return
    ops = {"read": "filesystem.ext4_read_latency", "write": "filesystem.ext4_write_latency",
           "open": "filesystem.ext4_open_latency", "sync": "filesystem.ext4_sync_latency"}
    try:
        wait_cycles(output)
        before = {op: sum(output.chart(chart).values()) for op, chart in ops.items()}
        opens, writes, reads, syncs = 5, 40, 30, 7
        path = os.path.join(mountpoint, "file")
        for i in range(opens):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if i == 0:
                for _ in range(writes):
                    os.write(fd, b"w" * 4096)
                for j in range(reads):
                    os.pread(fd, 4096, j * 4096)
                for _ in range(syncs):
                    os.fsync(fd)
            os.close(fd)
        wait_cycles(output)
        grown = {op: sum(output.chart(chart).values()) - before[op] for op, chart in ops.items()}
        declared = all("'ext4_latency'" in (output.chart_line(chart) or "") for chart in ops.values())
        checks.check(declared, "the four ext4 charts declared in family ext4_latency", "filesystem")
        expected = {"open": opens, "write": writes, "read": reads, "sync": syncs}
        checks.check(grown == expected, "calls in the histograms = calls made: %s (expected %s)"
                     % (grown, expected), "filesystem")
    finally:
        subprocess.run(["umount", mountpoint])
    gone = False
    for _ in range(10):
        output.wait_updates(1)
        gone = all("obsolete" in (output.chart_line(chart) or "") for chart in ops.values())
        if gone:
            break
        time.sleep(0.5)
    checks.check(gone, "the ext4 charts go obsolete once it is unmounted", "filesystem")


def main():
    parser = suite_options()
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    checks = ModuleChecks()
    cpus = os.cpu_count()

    # Which path each module takes here: the first whose programs load and attach (--check).
    check_out = plugin_check_output(build)
    usable = {}
    for module in MODULES:
        ok = [p for p in ("trampoline", "kprobe", "tracepoint")
              if re.search(r"^%s \(%s programs\): ok$" % (p, module), check_out, re.M)]
        usable[module] = ok[0] if ok else None
    if args.attach:
        for module in MODULES:
            if module in TRACEPOINT_ONLY:
                usable[module] = "tracepoint" if args.attach == "tracepoint" and usable[module] else None
            elif args.attach == "tracepoint":
                usable[module] = None
            elif usable[module]:
                usable[module] = args.attach
    # filesystem, with ext4 here: the expected path where one is given; else ("any") it runs on
    # trampoline or kprobe, or says why not: --check loads with fewer privileges than a run has
    # (no CAP_SYS_ADMIN, which a module's BTF and some kernels' kprobes need), so it cannot tell.
    # mdflush likewise where md_mod (a kernel module too) is loaded.
    for module, present in (("filesystem", has_ext4()), ("mdflush", has_md_flush_request())):
        if present and args.attach != "tracepoint":
            usable[module] = args.expect_path if args.expect_path in ("trampoline", "kprobe") else "any"
            # unless the kernel itself refuses that path (not a missing privilege of --check)
            if re.search(r"^%s: refused: (the kernel refuses|this kernel has no)" % usable[module], check_out, re.M):
                usable[module] = None

    work = tempfile.mkdtemp(prefix="ebpf-latency-")
    config = os.path.join(work, "etc")
    write_config(config, MODULES, ["apps = no", "cgroups = no"])
    plugin, stderr, output = start_plugin(build, config, args.attach)
    # Data, or the plugin's exit when none of them could start.
    deadline = time.time() + 180  # loading under software emulation is slow
    while output.ends == 0 and plugin.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    if plugin.poll() is not None:
        log = read_all(stderr)
        for module in MODULES:
            said = ("%s: no attach path works on this kernel; module disabled" % module) in log
            checks.check(said and usable[module] in (None, "any"),
                         "cannot run on this path and says why on stderr (expected: %s)"
                         % (usable[module] or "disabled"), module)
        checks.check(plugin.returncode == 1 and "no module could start; disabling the plugin" in log,
                     "the plugin disables itself (exit %s)" % plugin.returncode, "all")
        return finish_run(checks, args)
    try:
        # one more cycle after the first (update every = 1), with room for an emulated guest
        if not checks.check(output.wait_updates(1, 10), "plugin sends data", "all"):
            sys.stdout.write(read_all(stderr))
            return finish_run(checks, args)
        attach = output.chart("netdata.ebpf_attach_path")
        log = read_all(stderr)
        for module in MODULES:
            in_use = [p for p in ("trampoline", "kprobe", "tracepoint") if attach.get("%s_%s" % (module, p)) == 1]
            if usable[module] == "any":
                usable[module] = in_use[0] if in_use in (["trampoline"], ["kprobe"]) else None
            if usable[module]:
                checks.check(in_use == [usable[module]], "attached with %s (chart says %s)"
                             % (usable[module], in_use), module)
            else:
                # one line: disabled, and each path's reason
                why = re.findall(r"%s: no attach path works on this kernel; module disabled \(\w+: .+\)" % module, log)
                checks.check(not in_use and why, "cannot run here and says why on stderr, module disabled "
                             "(%s)" % why[:1], module)
        checks.check("not implemented" not in log, "no 'not implemented' line", "all")
        if usable["softirq"]:
            check_softirq(checks, output, cpus)
        if usable["hardirq"]:
            check_hardirq(checks, output, cpus)
        if usable["disk"]:
            check_disk(checks, output, work)
        if usable["filesystem"]:
            check_filesystem(checks, output, work)
        if usable["mdflush"]:
            check_mdflush(checks, output, work)
    finally:
        plugin.stdin.close()
        try:
            plugin.wait(10)
        except subprocess.TimeoutExpired:
            plugin.kill()
    checks.check(plugin.returncode == 0, "plugin exits 0 on stdin EOF (%s)" % plugin.returncode, "all")
    verdict = protocol_check(output.lines)
    checks.check(verdict.returncode == 0, "protocol-check accepts the output %s"
                 % (verdict.stdout + verdict.stderr).strip()[:300], "all")
    return finish_run(checks, args)


def finish_run(checks, args):
    if checks.skipped_modules:
        print("# skipped workloads: %s" % " ".join(sorted(checks.skipped_modules)), flush=True)
    return finish(checks, args.results, MODULES, {m: "skip" for m in checks.skipped_modules})


if __name__ == "__main__":
    sys.exit(main())
