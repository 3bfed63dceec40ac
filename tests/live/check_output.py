"""`ebpf.plugin --check`'s output, read once per kernel.

--check loads every module on every attach path: seconds on the host, close to a minute in a
guest under emulation. tests/live/run.sh and tests/matrix/guest-suite.sh run it once and name
the file in EBPF_PLUGIN_CHECK_OUTPUT; each suite then reads that instead of running it again.
"""
import functools
import os
import subprocess


@functools.cache
def plugin_check_output(build):
    saved = os.environ.get("EBPF_PLUGIN_CHECK_OUTPUT")
    if saved:
        with open(saved) as f:
            return f.read()
    return subprocess.run([os.path.join(build, "ebpf.plugin"), "--check"], capture_output=True, text=True).stdout


def flows_unavailable(build):
    """Why this kernel can have no flows, when --check says so for every path ("n/a: ..."); "" when
    it may have them."""
    lines = [line.split(": ", 1)[1].strip() for line in plugin_check_output(build).splitlines()
             if line.startswith("flows on ")]
    if not lines or not all(line.startswith("n/a: ") for line in lines):
        return ""
    return "; ".join(sorted(set(line[len("n/a: "):] for line in lines)))


def check_flows_refused(checks, build, reason, env=None):
    """Where the kernel can have no flows: `--records flows` ends at once, saying why."""
    done = subprocess.run([os.path.join(build, "ebpf.plugin"), "--records", "flows", "1"], capture_output=True,
                          text=True, timeout=60, env=env)
    said = [line for line in done.stderr.splitlines() if "flows:" in line]
    checks.check(done.returncode != 0 and len(said) == 1 and all(part in said[0] for part in reason.split("; ")),
                 "flows: this kernel can have none (%s): --records flows exits %d saying why: %s"
                 % (reason, done.returncode, said))


def flows_path(build):
    """The path the flows take in auto mode: the tracepoints, else trampolines (--check's lines)."""
    said = {line.split()[2].rstrip(":"): line.split(": ", 1)[1].strip()
            for line in plugin_check_output(build).splitlines() if line.startswith("flows on ")}
    return next((path for path in ("tracepoint", "trampoline") if said.get(path) == "ok"), None)
