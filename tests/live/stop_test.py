#!/usr/bin/env python3
"""Live test of how the plugin stops, ticks and logs, with the real plugin:
  - SIGTERM, SIGINT and stdin EOF stop it within 2 s while stdout is
    blocked (a reader that stopped reading), releasing every BPF object;
  - SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM stop it (exit 0, no core
    file), and so does SIGTERM during start-up;
  - the wall clock stepped 1 h back or forward (LD_PRELOAD shim over
    clock_gettime(CLOCK_REALTIME), built here from clock_step_shim.c) gives
    at most one odd interval and never stops the updates;
  - stdout closed or /dev/full: exit 0 within 2 s with one line saying why;
  - stdin at EOF at start-up: one line says the input closed;
  - stderr: every line in Netdata's error.log format, argv bytes escaped
    (no forged line, no escape sequence, no C1 byte), 60,000 bad
    apps_groups.conf lines give a few lines and one summary.
usage: stop_test.py [--build DIR]. Prints one line per check and "N passed, M failed".
"""
import argparse
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# A stop is prompt when it takes well under the agent's patience: the plugin acts on a signal at
# once, then the kernel detaches each syscall tracepoint after an RCU grace period (about 65 ms
# each on an idle host, longer on a loaded one: 1.2 s seen with load average 10).
STOP_SECONDS = 2.0
from common import Checks, finish, left_in_kernel, owned_ids, write_config  # noqa: E402

LOG_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: ebpf\.plugin (ERROR|INFO ) : MAIN : [^\x00-\x1f\x7f]*$")
F_SETPIPE_SZ = 1031


class Plugin:
    """One run of the plugin with the test's configuration; stderr kept in a file."""

    def __init__(self, work, build, stdout=subprocess.PIPE, stdin=subprocess.PIPE, argv=(), env=None,
                 shell_prefix=None):
        self.stderr_path = os.path.join(work, "stderr.%d" % time.monotonic_ns())
        self.stderr = open(self.stderr_path, "wb")
        environment = dict(os.environ, NETDATA_USER_CONFIG_DIR=os.path.join(work, "etc"),
                           NETDATA_STOCK_CONFIG_DIR=os.path.join(work, "none"), **(env or {}))
        command = [os.path.join(build, "ebpf.plugin"), "1", *argv]
        if shell_prefix:
            command = ["sh", "-c", shell_prefix + ' "$0" "$@"', *command]
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=self.stderr, env=environment,
                                        cwd=work)

    def stderr_bytes(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()

    def wait_for_stderr(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if text in self.stderr_bytes():
                return True
            time.sleep(0.05)
        return text in self.stderr_bytes()

    def wait(self, timeout):
        """Exit code, or "hung" (then killed)."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "hung"


def in_event_loop(pid, timeout=30):
    """Waits until the plugin dropped its capabilities, just before its loop starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = open("/proc/%d/status" % pid).read()
        except OSError:
            return False
        if "CapEff:\t0000000000000000" in status and "ebpf.plugin" in os.path.realpath("/proc/%d/exe" % pid):
            return True
        time.sleep(0.05)
    return False


def write_test_config(work, apps_groups=""):
    write_config(os.path.join(work, "etc"), ("process", "fd"), ["apps = no", "cgroups = no"], apps_groups)


def reader(stream, lines):
    for raw in stream:
        lines.append(raw.decode(errors="replace").rstrip("\n"))


def blocked_stdout_stops(checks, work, build, how, stderr_too=False):
    """The reader stops reading; `how` (SIGTERM, SIGINT or EOF) must still stop the plugin within STOP_SECONDS.
    stderr_too: stderr is that pipe as well (`ebpf.plugin 1 2>&1 | sleep 60`)."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
    plugin = Plugin(work, build, stdout=write_end, shell_prefix="exec 2>&1; exec" if stderr_too else None)
    os.close(write_end)
    if stderr_too:
        how += " (stderr on the same pipe)"
    try:
        in_event_loop(plugin.process.pid)
        # It writes every second: bytes in the pipe unchanged for 1.5 s means its writes wait.
        deadline, queued, changed = time.monotonic() + 15, 0, time.monotonic()
        while time.monotonic() < deadline and plugin.process.poll() is None:
            count = bytearray(4)
            fcntl.ioctl(read_end, termios.FIONREAD, count)
            if int.from_bytes(count, sys.byteorder) != queued:
                queued, changed = int.from_bytes(count, sys.byteorder), time.monotonic()
            elif queued and time.monotonic() - changed > 1.5:
                break
            time.sleep(0.1)
        full = queued > 0 and time.monotonic() - changed > 1.5
        progs, links, _ = owned_ids(plugin.process.pid)
        asked = time.monotonic()
        if how == "EOF":
            plugin.process.stdin.close()
        else:
            os.kill(plugin.process.pid, getattr(signal, how.split()[0]))
        code = plugin.wait(timeout=5)
        took = time.monotonic() - asked
        checks.check(full and code == 0 and took <= STOP_SECONDS,
                     "stdout blocked (%d bytes unread): %s stops it with 0 within %g s (got %s after %.2f s)"
                     % (queued, how, STOP_SECONDS, code, took))
        left = left_in_kernel(progs, links)
        checks.check(progs and not left, "after %s: none of its %d programs and %d links is left in the kernel (%s)"
                     % (how, len(progs), len(links), sorted(left)))
    finally:
        if plugin.process.poll() is None:
            plugin.process.kill()
            plugin.process.wait()
        os.close(read_end)


def signal_stops(checks, work, build, name):
    plugin = Plugin(work, build)
    lines = []
    threading.Thread(target=reader, args=(plugin.process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + 30
    while not any(l == "END" for l in lines) and time.monotonic() < deadline and plugin.process.poll() is None:
        time.sleep(0.05)
    asked = time.monotonic()
    plugin.process.send_signal(getattr(signal, name))
    code = plugin.wait(timeout=5)
    took = time.monotonic() - asked
    cores = [f for f in os.listdir(work) if f.startswith("core")]
    said = ("received %s; stopping" % name).encode() in plugin.stderr_bytes()
    checks.check(code == 0 and took <= STOP_SECONDS and not cores and said,
                 "%s is a stop: exit %s after %.2f s, core files %s, says so: %s" % (name, code, took, cores, said))


def startup_signal_stops(checks, work, build):
    plugin = Plugin(work, build)
    while not os.path.realpath("/proc/%d/exe" % plugin.process.pid).endswith("ebpf.plugin"):
        time.sleep(0.001)
    time.sleep(0.05)  # reading its configuration, loading its programs
    asked = time.monotonic()
    plugin.process.send_signal(signal.SIGTERM)
    code = plugin.wait(timeout=5)
    took = time.monotonic() - asked
    checks.check(code == 0 and took <= STOP_SECONDS, "SIGTERM during start-up: exit %s after %.2f s" % (code, took))


def clock_step(checks, work, build, shim, seconds):
    """The wall clock jumps `seconds` 3 s into the loop; updates keep coming every second."""
    plugin = Plugin(work, build, env={"LD_PRELOAD": shim, "CLOCK_STEP_AFTER": "3", "CLOCK_STEP_SECONDS": str(seconds)})
    lines = []
    threading.Thread(target=reader, args=(plugin.process.stdout, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while not any(l == "END" for l in lines) and time.monotonic() < deadline and plugin.process.poll() is None:
            time.sleep(0.05)
        time.sleep(8)
        intervals = [int(l.split()[2]) / 1e6 for l in list(lines)
                     if l.startswith("BEGIN system.process_thread ") and len(l.split()) == 3]
        odd = [round(i, 3) for i in intervals if not 0.8 <= i <= 1.2]
        checks.check(len(intervals) >= 6 and len(odd) <= 1,
                     "wall clock stepped %+d s: %d updates in 8 s, odd intervals %s" % (seconds, len(intervals), odd))
    finally:
        plugin.process.kill()
        plugin.process.wait()


def stdout_unusable(checks, work, build):
    plugin = Plugin(work, build, stdout=subprocess.DEVNULL, shell_prefix="exec >&-; exec")
    code = plugin.wait(timeout=5)
    took = time.monotonic() - plugin.started
    lines = plugin.stderr_bytes().splitlines()
    checks.check(code == 0 and took <= STOP_SECONDS and len(lines) == 1 and b"stdout is closed" in lines[0],
                 "stdout closed: exit %s after %.2f s, stderr %s" % (code, took, lines))

    full = open("/dev/full", "wb")
    plugin = Plugin(work, build, stdout=full)
    full.close()
    plugin.wait_for_stderr(b"fd: attached")
    attached = time.monotonic()
    code = plugin.wait(timeout=5)
    took = time.monotonic() - attached
    said = [l for l in plugin.stderr_bytes().splitlines() if b"stdout" in l]
    checks.check(code == 0 and took <= 1.5 and len(said) == 1 and b"No space left on device" in said[0],
                 "stdout /dev/full: exit %s %.2f s after attaching, says %s" % (code, took, said))


def stdin_eof_at_start(checks, work, build):
    plugin = Plugin(work, build, stdin=subprocess.DEVNULL)
    code = plugin.wait(timeout=30)
    said = [l for l in plugin.stderr_bytes().splitlines() if b"stdin" in l]
    checks.check(code == 0 and len(said) == 1 and b"stdin closed" in said[0] and b"stopping" in said[0],
                 "stdin EOF at start: exit %s, says %s" % (code, said))


def hostile_stderr(checks, work, build):
    bad_lines = 60000
    write_test_config(work, "".join("g%d:\n" % i for i in range(bad_lines)))
    forged = b"x\nebpf.plugin: forged line\x1b[2J\x9b31m\xc2\x9b\\"  # raw C1 byte, then UTF-8 encoded
    plugin = Plugin(work, build, stdin=subprocess.DEVNULL, argv=[forged])
    plugin.wait(timeout=60)
    text = plugin.stderr_bytes()
    lines = text.splitlines()
    write_test_config(work)
    checks.check(lines and all(LOG_LINE.match(l) for l in lines),
                 "every stderr line is one Netdata error.log line (%d lines; first not: %s)"
                 % (len(lines), next((l for l in lines if not LOG_LINE.match(l)), None)))
    checks.check(b"\x1b" not in text and b"\x9b" not in text and not any(b"forged" in l[:40] for l in lines),
                 "argv bytes escaped: no raw ESC or C1 byte, no forged line")
    checks.check(b"unknown argument 'x\\x0aebpf.plugin: forged line\\x1b[2J\\x9b31m\\xc2\\x9b\\\\'" in text,
                 "the argument is shown escaped")
    summary = [l for l in lines if b"more messages like this were not logged" in l]
    group_lines = [l for l in lines if b"has no process names" in l and l not in summary]
    checks.check(len(group_lines) == 10 and len(summary) == 1 and (b"%d more" % (bad_lines - 10)) in summary[0],
                 "%d bad apps_groups.conf lines: %d lines and summary %s" % (bad_lines, len(group_lines), summary))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../build"))
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    checks = Checks()
    work = tempfile.mkdtemp(prefix="ebpf-stop-")
    try:
        write_test_config(work)
        shim = os.path.join(work, "clock_step_shim.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim,
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "clock_step_shim.c"), "-ldl"],
                       check=True)
        for how in ("SIGTERM", "SIGINT", "EOF"):
            blocked_stdout_stops(checks, work, build, how)
        blocked_stdout_stops(checks, work, build, "SIGTERM", stderr_too=True)
        for name in ("SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"):
            signal_stops(checks, work, build, name)
        startup_signal_stops(checks, work, build)
        for seconds in (-3600, 3600):
            clock_step(checks, work, build, shim, seconds)
        stdout_unusable(checks, work, build)
        stdin_eof_at_start(checks, work, build)
        hostile_stderr(checks, work, build)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish(checks)


if __name__ == "__main__":
    sys.exit(main())
