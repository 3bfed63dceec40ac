#!/usr/bin/env python3
"""Live test of the record stream with its real sinks:
  - `ebpf.plugin --records test` prints valid JSON lines only (no plugins.d
    protocol), numbered from 1 without a gap, with host, timestamp and every
    field type; it stops on SIGTERM and when stdout's reader goes away, and
    refuses names it cannot print;
  - the journal sink: a systemd-journald started here (unless one runs) gets
    every record once, read back with `journalctl -o json`, fields upper-cased;
  - the file sink rotated at a small size keeps every line, each file under
    the size, in JSON and in InfluxDB line protocol;
  - the plugin with ebpf.d/records.conf declares netdata.ebpf_records and
    opens the file; without it, no such chart.
usage: records_test.py [--build DIR]. Prints one line per check and "N passed, M failed".
"""
import argparse
import glob
import json
import select
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, finish, journal_bytes, start_journald  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXT = 'say "hi"\\ line\nnext\ttab \x01 caf\u00e9'


def test_record_ok(record, sequence):
    return (record.get("source") == "test" and record.get("host") == socket.gethostname()
            and record.get("sequence") == sequence and record.get("negative") == -sequence
            and record.get("ratio") == sequence / 4 and record.get("odd") == (sequence % 2 == 1)
            and record.get("text") == TEXT and record.get("timestamp", "").endswith("Z")
            and list(record)[:3] == ["timestamp", "host", "source"])


def stdout_mode(checks, plugin):
    proc = subprocess.Popen([plugin, "--records", "test"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=5)
    lines = out.decode().splitlines()
    records = []
    valid = True
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            valid = False
    checks.check(proc.returncode == 0 and valid and len(records) >= 6,
                 f"--records test: {len(records)} lines, all JSON, exit {proc.returncode} after SIGTERM")
    checks.check(all(test_record_ok(r, i + 1) for i, r in enumerate(records)),
                 "--records test: numbered 1..N without a gap, host, timestamp and every field type")
    summary = f"records: {len(records)} emitted, {len(records)} written to stdout, 0 dropped"
    checks.check(summary in err.decode(), f"--records test: stderr says '{summary}'")

    # The reader goes away after one line: the plugin stops by itself.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([plugin, "--records", "test"], stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    first = os.read(read_end, 4096)
    os.close(read_end)
    start = time.monotonic()
    try:
        proc.wait(timeout=4)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    checks.check(first.startswith(b"{") and proc.returncode == 0 and time.monotonic() - start < 3.5,
                 f"--records test: stops (exit {proc.returncode}) within {time.monotonic() - start:.1f}s "
                 "once stdout's reader is gone")

    result = subprocess.run([plugin, "--records", "nope"], capture_output=True, text=True, timeout=10)
    checks.check(result.returncode == 1 and "--records: unknown name 'nope'" in result.stderr,
                 "--records nope: exit 1 with an error naming it")


def journal_sink(checks, emit):
    journald = start_journald()
    try:
        run = uuid.uuid4().hex
        count = 500
        result = subprocess.run([emit, "--journal", "--count", str(count), "--run", run],
                                capture_output=True, text=True, timeout=60)
        counts = json.loads(result.stdout)["sinks"]["journal"]
        checks.check(counts["written"] == count and counts["dropped"] == 0,
                     f"journal sink: {counts['written']} of {count} written, {counts['dropped']} dropped")
        entries = []
        for _ in range(50):
            out = subprocess.run(["journalctl", "-o", "json", f"RUN={run}"], capture_output=True, text=True).stdout
            entries = [json.loads(line) for line in out.splitlines()]
            if len(entries) >= count:
                break
            time.sleep(0.2)
        sequences = sorted(int(e["SEQUENCE"]) for e in entries)
        checks.check(sequences == list(range(1, count + 1)),
                     f"journal sink: journalctl -o json reads back {len(entries)} records, each sequence once")
        first = next((e for e in entries if e.get("SEQUENCE") == "1"), {})
        checks.check(first.get("SOURCE") == "test" and first.get("HOST") == socket.gethostname()
                     and first.get("NEGATIVE") == "-1" and first.get("RATIO") == "0.25" and first.get("ODD") == "true"
                     and journal_bytes(first.get("TEXT")) == TEXT and first.get("SYSLOG_IDENTIFIER") == "ebpf.plugin"
                     and first.get("PRIORITY") == "6" and "CODE_FILE" not in first
                     and first.get("MESSAGE", "").startswith(f"test run={run} sequence=1 negative=-1")
                     and "\\x0a" in first.get("MESSAGE", ""),
                     "journal sink: fields upper-cased with exact values, TEXT byte for byte, MESSAGE one line")
    finally:
        if journald:
            journald.terminate()
            journald.wait(timeout=5)


def file_sink(checks, emit, work):
    path = os.path.join(work, "records.json")
    count, size = 5000, 8192
    result = subprocess.run([emit, "--file", path, "--max-size", str(size), "--keep", "1000", "--count", str(count)],
                            capture_output=True, text=True, timeout=60)
    counts = json.loads(result.stdout)["sinks"]["file"]
    checks.check(counts["written"] == count and counts["dropped"] == 0,
                 f"file sink: {counts['written']} of {count} written, {counts['dropped']} dropped")
    rotated = sorted(glob.glob(path + ".*"), key=lambda p: -int(p.rsplit(".", 1)[1]))
    files = rotated + [path]
    sequences, valid = [], True
    for name in files:
        for line in open(name, encoding="utf-8"):
            try:
                sequences.append(json.loads(line)["sequence"])
            except ValueError:
                valid = False
    checks.check(len(files) > 20 and all(os.path.getsize(f) <= size for f in files),
                 f"file sink: rotated into {len(files)} files, each at most {size} bytes")
    checks.check(valid and sequences == list(range(1, count + 1)),
                 f"file sink: {len(sequences)} lines, every one JSON, sequences 1..{count} in order, none lost")


def read_first_update(proc, timeout=30):
    """The plugin's output of its first update (up to a chart's second BEGIN): every chart once."""
    lines, begun, deadline = [], set(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if not ready:
            continue
        line = proc.stdout.readline().decode()
        if not line:
            break
        if line.startswith("BEGIN "):
            chart = line.split()[1]
            if chart in begun:
                break
            begun.add(chart)
        lines.append(line)
    return "".join(lines)


def influx_file_sink(checks, emit, work):
    """Line protocol, rotated: every record one line of the expected shape."""
    path = os.path.join(work, "records.influx")
    count, size = 2000, 4096
    result = subprocess.run([emit, "--influx", "--file", path, "--max-size", str(size), "--keep", "1000",
                             "--count", str(count), "--run", "r1"], capture_output=True, text=True, timeout=60)
    counts = json.loads(result.stdout)["sinks"]["file"]
    files = sorted(glob.glob(path + ".*"), key=lambda p: -int(p.rsplit(".", 1)[1])) + [path]
    host = socket.gethostname().replace(" ", "\\ ").replace(",", "\\,").replace("=", "\\=")
    text = 'say \\"hi\\"\\\\ line next tab   caf\u00e9'
    expected = [f'test,host={host},run=r1 sequence={n}i,negative=-{n}i,ratio={n / 4:g},odd={str(n % 2 == 1).lower()},'
                f'text="{text}"' for n in range(1, count + 1)]
    got = [line.rsplit(" ", 1)[0] for f in files for line in open(f, encoding="utf-8").read().splitlines()]
    times_ok = all(line.rsplit(" ", 1)[1].isdigit() and len(line.rsplit(" ", 1)[1]) == 19
                   for f in files for line in open(f, encoding="utf-8").read().splitlines())
    checks.check(counts["written"] == count and counts["dropped"] == 0 and len(files) > 10
                 and all(os.path.getsize(f) <= size for f in files) and got == expected and times_ok,
                 f"file sink in line protocol: {len(got)} lines in {len(files)} files, each record as expected, "
                 "time in ns")


def plugin_mode(checks, plugin, work):
    """The self chart appears with a configured sink, and only then."""
    for configured in (True, False):
        user = os.path.join(work, f"etc-{configured}")
        os.makedirs(os.path.join(user, "ebpf.d"))
        path = os.path.join(work, f"plugin-{configured}.json")
        if configured:
            with open(os.path.join(user, "ebpf.d", "records.conf"), "w") as conf:
                conf.write(f"[records]\n    file = {path}\n    file max size = 1M\n")
            # a sink starts the flows: this host's own are left out, for an exact 0
            with open(os.path.join(user, "ebpf.d", "network.conf"), "w") as conf:
                conf.write("[network connections]\n    netlog filter = tcp; udp\n")
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=user,
                   NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        proc = subprocess.Popen([plugin, "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        out = read_first_update(proc)
        proc.communicate(timeout=10)  # closes stdin: the agent is gone
        declared = "CHART netdata.ebpf_records " in out
        if configured:
            checks.check(declared and "DIMENSION file_dropped " in out and os.path.exists(path)
                         and "SET emitted = 0" in out,
                         "plugin with records.conf: netdata.ebpf_records declared, file sink opened, "
                         "0 emitted (every flow filtered out)")
        else:
            checks.check(not declared and not os.path.exists(path),
                         "plugin without records.conf: no netdata.ebpf_records chart")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    checks = Checks()
    plugin = os.path.join(args.build, "ebpf.plugin")
    emit = os.path.join(args.build, "records-emit")
    with tempfile.TemporaryDirectory() as work:
        stdout_mode(checks, plugin)
        journal_sink(checks, emit)
        file_sink(checks, emit, work)
        influx_file_sink(checks, emit, work)
        plugin_mode(checks, plugin, work)
    return finish(checks)


if __name__ == "__main__":
    sys.exit(main())
