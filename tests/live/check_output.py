"""`ebpf.plugin --check`'s output, read once per kernel.

--check loads every module on every attach path: seconds on the host, close to a minute in a
guest under emulation. tests/matrix/guest-suite.sh runs it once and names the file in
EBPF_PLUGIN_CHECK_OUTPUT; each suite then reads that instead of running it again.
"""
import os
import subprocess


def plugin_check_output(build):
    saved = os.environ.get("EBPF_PLUGIN_CHECK_OUTPUT")
    if saved:
        with open(saved) as f:
            return f.read()
    return subprocess.run([os.path.join(build, "ebpf.plugin"), "--check"], capture_output=True, text=True).stdout
