#!/usr/bin/env python3
"""Live test of the bash command log (DataKit's `bash` records): the real
plugin and kernel, an interactive bash driven through a pty (python's pty
module), in a cgroup and app group of this run's own.

N commands typed at the prompt (one longer than the 511 bytes kept, and an empty
line, which is no command) are N records, each once, in order, with the right
cmd, pid, user, uid, cgroup and app group: from `--records bash`, with /bin/bash
and /usr/bin/bash both configured (one file on Debian 12: probed once), and from
the plugin's normal run into a records.conf file sink and the journal (read back
with journalctl; a journald of the test's own when none runs), whose charts
count them per app group and cgroup. `bash -c` and a bash reading a script from a pipe
(readline unused) give none. A normal run with `rate limit = 2` given a flood of
typed-ahead lines lets some through and counts the rest as dropped: together
exactly the flood. A setuid-root copy started by nobody does not probe a
configured binary only root can read (and says so), records the others' lines,
and holds no capability. Only this run's bash pids are looked at (others run things
concurrently); the drop count is host-wide, so a concurrent interactive bash
typing in that second would show.

usage: bash_test.py [--build DIR]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import grp
import json
import os
import pty
import random
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, cgroup2_root, finish, make_cgroups, remove_cgroups  # noqa: E402
from records_test import start_journald  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ALL_MODULES = ("process", "socket", "cachestat", "sync", "dcstat", "swap", "vfs", "filesystem", "disk", "mount", "fd",
               "hardirq", "softirq", "oomkill", "shm")
PROMPT = b"bash-test-ready> "
FLOOD = 8
MODULES = ("bash",)  # what the kernel matrix reports of this suite


class BashChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "bash: " + text)


class Plugin:
    """The plugin with a config dir; stdout and stderr lines kept by threads."""

    def __init__(self, build, config, args):
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=config, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        self.proc = subprocess.Popen([os.path.join(build, "ebpf.plugin")] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.out, self.err = [], []
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, l=lines: l.extend(s), daemon=True).start()

    def wait_attached(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            if any("bash: readline() probed in" in line for line in list(self.err)):
                return True
            time.sleep(0.05)
        return False

    def records(self, pids):
        found = []
        for line in list(self.out):
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("source") == "bash" and record.get("pid") in pids:
                    found.append(record)
        return found

    def stop(self):
        self.proc.send_signal(2)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.2)  # the reader threads take the last lines
        return self.proc.returncode


class SetuidPlugin(Plugin):
    """`--records bash` from a setuid-root copy, started by nobody, the agent's user: `binaries` lists /bin/bash and a
    copy of it only root can read."""

    def __init__(self, build, work, apps_groups):
        os.chmod(work, 0o755)
        self.plugin = os.path.join(work, "ebpf.plugin")
        shutil.copy(os.path.join(build, "ebpf.plugin"), self.plugin)
        # as Debian installs it (4750 root:netdata) for the agent's user, nobody here (its login group is
        # nogroup): only that user (and root) may log other users' commands
        os.chown(self.plugin, 0, grp.getgrnam("nogroup").gr_gid)
        os.chmod(self.plugin, 0o4750)
        secret = os.path.join(work, "secret")
        os.mkdir(secret, 0o700)
        self.hidden = os.path.join(secret, "bash")
        shutil.copy("/bin/bash", self.hidden)
        config = os.path.join(work, "config")
        os.mkdir(config, 0o755)
        os.mkdir(os.path.join(config, "ebpf.d"), 0o755)
        for name, text in (("ebpf.d/bash.conf", f"[bash]\n    binaries = /bin/bash {self.hidden}\n"),
                           ("apps_groups.conf", apps_groups)):
            with open(os.path.join(config, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(config, name), 0o644)
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
             "env", f"NETDATA_USER_CONFIG_DIR={config}", f"NETDATA_STOCK_CONFIG_DIR={work}/none",
             self.plugin, "--records", "bash", "1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, l=lines: l.extend(s), daemon=True).start()

    def capabilities(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return {line.split(":")[0]: line.split()[1] for line in f if line.startswith("Cap")}


class InteractiveBash:
    """bash -i on a pty, started as `argv0` (its app group's pattern) in `cgroup`."""

    def __init__(self, argv0, cgroup):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
                os.execve("/bin/bash", [argv0, "--norc", "--noprofile", "-i"],
                          {"PS1": PROMPT.decode(), "TERM": "dumb", "PATH": "/usr/bin:/bin", "HISTFILE": "/dev/null"})
            finally:
                os._exit(127)
        self.output = b""
        self.wait_prompt(1)

    def wait_prompt(self, count, timeout=10):
        deadline = time.time() + timeout
        while self.output.count(PROMPT) < count and time.time() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    break
        return self.output.count(PROMPT) >= count

    def type_lines(self, lines, wait=True):
        prompts = self.output.count(PROMPT)
        for line in lines:
            os.write(self.fd, line.encode() + b"\n")
            prompts += 1
            if wait:
                self.wait_prompt(prompts)
        if not wait:
            self.wait_prompt(prompts)

    def end(self):
        os.write(self.fd, b"\x04")  # EOF at the prompt: readline returns NULL, no record
        self.wait_prompt(10 ** 6, timeout=2)
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return status


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def last_values(lines):
    last, chart = {}, None
    for line in lines:
        words = line.split()
        if words[:1] == ["BEGIN"]:
            chart = words[1]
        elif words[:1] == ["SET"] and len(words) == 4 and words[3]:
            last[(chart, words[1])] = int(words[3])
    return last


def write_config(directory, bash_conf, apps_groups, sink=None, journal=False):
    os.makedirs(os.path.join(directory, "ebpf.d"))
    with open(os.path.join(directory, "ebpf.d", "bash.conf"), "w") as f:
        f.write("[bash]\n" + "".join("    %s\n" % line for line in bash_conf))
    with open(os.path.join(directory, "apps_groups.conf"), "w") as f:
        f.write(apps_groups)
    with open(os.path.join(directory, "ebpf.d.conf"), "w") as f:
        f.write("[global]\n    cgroups = yes\n[ebpf programs]\n" +
                "".join(f"    {m} = {'yes' if m == 'sync' else 'no'}\n" for m in ALL_MODULES))
    if sink:
        with open(os.path.join(directory, "ebpf.d", "records.conf"), "w") as f:
            f.write(f"[records]\n    file = {sink}\n    journal = {'yes' if journal else 'no'}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = BashChecks()
    tag = "%06x" % random.getrandbits(24)
    group, argv0 = f"bt-{tag}", f"bash-test-{tag}"
    cgroup_name = f"bash_test_{tag}"
    cgroup = os.path.join(cgroup2_root(), cgroup_name)
    apps_groups = f"{group}: *{argv0}*\n"
    long_word = "x" * 600
    commands = [f"echo {tag} one", f": {tag} two  spaces", f"true '{tag}' \"three\"", "", f": {tag} {long_word}",
                f"echo {tag} five"]
    typed = [c for c in commands if c]  # an empty line is no command
    want_cmds = [c[:511] for c in typed]
    make_cgroups([cgroup])
    journald = start_journald()  # a journald of the test's own when none runs
    try:
        with tempfile.TemporaryDirectory() as user:
            records_dir, normal_dir, flood_dir = (os.path.join(user, d) for d in ("records", "normal", "flood"))
            write_config(records_dir, ["binaries = /bin/bash /usr/bin/bash"], apps_groups)
            sink = os.path.join(user, "records.json")
            write_config(normal_dir, ["enabled = yes"], apps_groups, sink, journal=True)
            standalone = Plugin(args.build, records_dir, ["--records", "bash", "1"])
            normal = Plugin(args.build, normal_dir, ["1"])
            attached = standalone.wait_attached() and normal.wait_attached()
            checks.check(attached, "both plugins probe readline() (stderr: %r)" %
                         "".join(standalone.err + normal.err)[-400:])
            checks.check(sum("probed in /bin/bash" in line and "/usr/bin/bash" not in line
                             for line in standalone.err) == 1,
                         "/bin/bash and /usr/bin/bash, one file, are probed once")

            shell = InteractiveBash(argv0, cgroup)
            shell.type_lines(commands)
            pid = str(shell.pid)
            others = []
            for script in ([["/bin/bash", "-c", f": {tag} non-interactive"], None],
                           [["/bin/bash"], f": {tag} from a pipe\n"]):
                proc = subprocess.Popen(script[0], stdin=subprocess.PIPE, text=True)
                proc.communicate(script[1])
                others.append(str(proc.pid))
            got_all = wait_for(lambda: len(standalone.records({pid})) >= len(typed) and os.path.exists(sink) and
                               sum(1 for _ in open(sink)) >= len(typed))
            status = shell.end()
            time.sleep(2.5)  # two more reports: nothing more may come
            charts = last_values(normal.out)
            checks.check(standalone.stop() == 0 and normal.stop() == 0, "both plugins exit 0 at SIGINT")
            checks.check(got_all and os.WIFEXITED(status), "the interactive bash ran its commands and ended at EOF")

            journal = []
            for _ in range(50):
                out = subprocess.run(["journalctl", "-o", "json", "SOURCE=bash", f"CGROUP={cgroup_name}"],
                                     capture_output=True, text=True).stdout
                journal = [json.loads(line) for line in out.splitlines()]
                if len(journal) >= len(typed):
                    break
                time.sleep(0.2)
            # journald's fields are strings, the record's names upper-cased (message: FIELD_MESSAGE, as
            # MESSAGE is the journal's own)
            journal = [{"cmd": e.get("CMD"), "pid": e.get("PID"), "user": e.get("USER"), "uid": int(e.get("UID", -1)),
                        "cgroup": e.get("CGROUP"), "service": e.get("SERVICE", ""), "app_group": e.get("APP_GROUP"),
                        "truncated": e.get("TRUNCATED") == "true", "message": e.get("FIELD_MESSAGE", ""),
                        "timestamp": e.get("TIMESTAMP")} for e in journal]
            for name, records in (("--records bash", standalone.records({pid})),
                                  ("file sink", [json.loads(l) for l in open(sink) if json.loads(l).get("pid") == pid]),
                                  ("journal sink", [r for r in journal if r["pid"] == pid])):
                cmds = [r["cmd"] for r in records]
                checks.check(cmds == want_cmds, f"{name}: {len(typed)} commands typed are {len(typed)} records, in "
                             f"order, each once, the long one cut to 511 bytes: {[c[:40] for c in cmds]}")
                shape = {(r["pid"], r["user"], r["uid"], r["cgroup"], r["service"], r["app_group"]) for r in records}
                checks.check(shape == {(pid, "root", 0, cgroup_name, "", group)},
                             f"{name}: pid, user, uid, cgroup, service and app group right: {shape}")
                checks.check([r["truncated"] for r in records] == [len(c) > 511 for c in typed],
                             f"{name}: only the long line is marked truncated")
                checks.check(all(r["message"] == f"{r['timestamp']} pid:`{pid}` user:`root` cmd:`{r['cmd']}`"
                                 for r in records), f"{name}: message in DataKit's form")
                if name == "journal sink":
                    continue  # read by cgroup: the other bash processes were never in it
                other = standalone.records(set(others)) if name.startswith("--") else \
                    [1 for l in open(sink) if json.loads(l).get("pid") in others]
                checks.check(not other, f"{name}: bash -c and a bash reading a pipe give no record ({len(other)})")
            want = {("apps.ebpf_bash_commands", group): len(typed),
                    (f"cgroup_{cgroup_name}.ebpf_bash_commands", "commands"): len(typed)}
            got = {key: charts.get(key) for key in want}
            checks.check(got == want, f"charts: commands per app group and cgroup: got {got}, want {want}")
            checks.check((charts.get(("netdata.ebpf_bash", "read")) or 0) >= len(typed) and
                         charts.get(("netdata.ebpf_bash", "rate_dropped")) == 0,
                         "charts: netdata.ebpf_bash has the lines read, none dropped by the rate limit: %s" %
                         {k[1]: v for k, v in charts.items() if k[0] == "netdata.ebpf_bash"})

            cost = {key: charts.get(key) for key in [("netdata.ebpf_kernel_memory", "bash"),
                                                     ("netdata.ebpf_bpf_runs", "bash_uprobe"),
                                                     ("netdata.ebpf_bpf_time", "bash_uprobe")]}
            checks.check(all(v and v > 0 for v in cost.values()) and
                         cost[("netdata.ebpf_bpf_runs", "bash_uprobe")] >= len(commands),
                         f"self charts: the bash program's kernel memory, runs (at least the {len(commands)} lines "
                         f"typed) and time: {cost}")

            # setuid, started by nobody: a binary nobody cannot read is not probed; the rest works
            # with no capability left
            with tempfile.TemporaryDirectory(dir="/var/tmp") as work:  # /tmp may be nosuid
                setuid = SetuidPlugin(args.build, work, apps_groups)
                checks.check(setuid.wait_attached(), "setuid, started by nobody: /bin/bash probed (stderr: %r)" %
                             "".join(setuid.err)[-300:])
                time.sleep(0.5)
                caps = setuid.capabilities() if setuid.proc.poll() is None else {}
                checks.check(any(f"bash: {setuid.hidden}: Permission denied; not probed" in line
                                 for line in setuid.err),
                             "setuid: a binary only root can read is not probed, said on stderr")
                shell = InteractiveBash(argv0, cgroup)
                shell.type_lines([f": {tag} setuid one", f": {tag} setuid two"])
                spid = str(shell.pid)
                wait_for(lambda: len(setuid.records({spid})) >= 2)
                shell.end()
                setuid.stop()
                got = [(r["cmd"], r["user"], r["app_group"]) for r in setuid.records({spid})]
                checks.check(got == [(f": {tag} setuid {n}", "root", group) for n in ("one", "two")],
                             f"setuid: 2 commands typed are 2 records with user and app group: {got}")
                checks.check(caps and all(int(v, 16) == 0 for k, v in caps.items() if k != "CapBnd"),
                             f"setuid: no capability left after attach: {caps}")

            # a flood over `rate limit = 2`: what is not a record is counted as dropped
            flood_sink = os.path.join(user, "flood.json")
            write_config(flood_dir, ["enabled = yes", "rate limit = 2"], apps_groups, flood_sink)
            flood = Plugin(args.build, flood_dir, ["1"])
            checks.check(flood.wait_attached(), "the rate-limited plugin probes readline()")
            time.sleep(1.5)
            shell = InteractiveBash(argv0, cgroup)
            shell.type_lines([f": {tag} flood {i}" for i in range(FLOOD)], wait=False)
            fpid = str(shell.pid)
            shell.end()
            time.sleep(2.5)
            flood.stop()
            charts = last_values(flood.out)
            passed = [json.loads(l) for l in open(flood_sink) if json.loads(l).get("pid") == fpid] \
                if os.path.exists(flood_sink) else []
            dropped = charts.get(("netdata.ebpf_bash", "rate_dropped"))
            checks.check(0 < len(passed) < FLOOD and dropped is not None and len(passed) + dropped == FLOOD,
                         f"rate limit: {len(passed)} records and {dropped} dropped of a flood of {FLOOD}")
    finally:
        remove_cgroups([cgroup])
        if journald:
            journald.terminate()
            journald.wait(timeout=5)
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
