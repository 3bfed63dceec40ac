#!/usr/bin/env python3
"""Live test of the httpflow records (`ebpf.plugin --records httpflow`) and charts: the real plugin
and kernel, Debian's python3 http.server (HTTP/1.1, keep-alive) in one private network namespace as
a service cgroup, and tests/live/http_client.py in another as a plain cgroup, joined by a veth pair.

The client makes requests of known methods and paths over kept-alive connections (one ends with a
404 that closes it), a pipelined batch of three in one write, fresh connections for POST and DELETE
(501) and for a path longer than the configured `path length` (cut, truncated = true), a body larger
than the capture, and two requests over IPv6; then six over HTTPS (python's ssl module, libssl) to
the same server behind OpenSSL (tests/live/https_server.py), kept alive and pipelined too. Every request is reported exactly once on each side:
the client's (outgoing) and the server's (incoming), with its method, path, status, HTTP version,
bytes read and written exactly as the client counted them (its MSG_PEEK reads left out), count 1,
tls (the plaintext through uprobes on SSL_read_ex/SSL_write_ex), ports, pid, process, app group,
cgroup and service, and a latency above 0 and below the run's time. The plugin's normal run with
`[http flows] enabled = yes` and a file sink writes the same records and charts the requests per
status class for both app groups, the client's cgroup and the server's service. Only the test's own
addresses and processes are looked at.

usage: http_test.py [--build DIR] [--results FILE]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, cgroup2_root, finish, make_cgroups, remove_cgroups  # noqa: E402
from flows_test import ALL_MODULES, RecordReader, last_values  # noqa: E402
from netns import Namespaces  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLIENT = os.path.join(HERE, "http_client.py")
MODULES = ("http",)  # what the kernel matrix reports of this suite
PATH_LENGTH = 64
LONG_PATH = "/" + "p" * 300
CONNECTIONS = [
    [[["GET", "/a.txt"]], [["HEAD", "/a.txt"]], [["GET", "/big.bin"]], [["GET", "/sub"]], [["GET", "/missing"]]],
    [[["GET", "/a.txt"], ["GET", "/a.txt?x=1"], ["HEAD", "/big.bin"]], [["GET", "/sub/"]]],
    [[["POST", "/form"]]],
    [[["DELETE", "/x"]]],
    [[["GET", LONG_PATH]]],
]
CONNECTIONS_V6 = [[[["GET", "/a.txt"]], [["GET", "/big.bin"]]]]
CONNECTIONS_TLS = [
    [[["GET", "/a.txt"]], [["HEAD", "/a.txt"]], [["GET", "/big.bin"]]],
    [[["GET", "/a.txt"], ["GET", "/sub/"]]],
    [[["DELETE", "/x"]]],
]


class HttpChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "httpflow: " + text)


def program_name(side, tag):
    return "ht%s-%s" % (side[0], tag)


def start_client(ns, program, plan, cgroup=None, quiet=False):
    def enter_cgroup():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
                procs.write(str(os.getpid()))
    return subprocess.Popen(["ip", "netns", "exec", ns.client_ns, program, CLIENT, json.dumps(plan)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=enter_cgroup,
                            stderr=subprocess.DEVNULL if quiet else None)


def run_client(ns, program, plan, cgroup=None):
    """The client's requests as it counted them; it keeps running until the records are in."""
    client = start_client(ns, program, plan, cgroup)
    done = []
    for line in client.stdout:
        if line.strip() == "done":
            break
        done.append(json.loads(line))
    return client, done


def key(record, side):
    """What a record must say about a request, in the client's terms."""
    client = side == "client"
    return (record["method"], record["path"], record["status_code"], record["http_version"], record["truncated"],
            record["count"], record["tls"], record["bytes_written" if client else "bytes_read"],
            record["bytes_read" if client else "bytes_written"],
            int(record["src_port" if client else "dst_port"]))


def expected_key(request):
    path = request["path"][:PATH_LENGTH]
    return (request["method"], path, request["status"], "1.1", len(request["path"]) > PATH_LENGTH, 1,
            request["tls"], request["request_bytes"], request["response_bytes"], request["port"])


def mine(records, ns, side):
    servers = {ns.server_ip, ns.server_ip6}
    ip = "dst_ip" if side == "client" else "src_ip"
    direction = "outgoing" if side == "client" else "incoming"
    return [r for r in records if r.get("source") == "httpflow" and r[ip] in servers and r["direction"] == direction
            and not r["path"].startswith("/probe")]


def check_side(checks, run, records, ns, side, requests, owner, started):
    got = mine(records, ns, side)
    want = collections.Counter(expected_key(r) for r in requests)
    have = collections.Counter(key(r, side) for r in got)
    checks.check(have == want, f"{run}: {side}: each of the {len(requests)} requests once, with method, path, "
                 f"status, version, truncated, count, tls, bytes and port"
                 + ("" if have == want else f": missing {want - have}, unexpected {have - want}"))
    owners = {(r["process_name"], r["app_group"], r["cgroup"], r["service"]) for r in got}
    want_owner = (owner["name"], owner["name"], owner["cgroup"], owner["service"])
    pids = {r["pid"] for r in got}
    ok = owners == {want_owner} and pids == owner["pids"]
    checks.check(ok, f"{run}: {side}: pid, process, app group, cgroup and service {sorted(owner['pids'])} "
                 f"{want_owner}" + ("" if ok else f": got {owners}, pids {pids}"))
    bound = (time.monotonic() - started) * 1e9
    latencies = [r["latency"] for r in got]
    checks.check(latencies and all(0 < v < bound for v in latencies),
                 f"{run}: {side}: latency above 0 and below the run's time, min {min(latencies or [0])} ns, "
                 f"max {max(latencies or [0])} ns")
    families = collections.Counter(r["family"] for r in got)
    checks.check(families == {"IPv4": sum(1 for r in requests if r["v4"]), "IPv6": sum(1 for r in requests if not r["v4"])},
                 f"{run}: {side}: family IPv4 and IPv6 as connected: {dict(families)}")


def check_charts(checks, lines, requests, tag):
    last, _ = last_values(lines)
    classes = collections.Counter("%dxx" % (r["status"] // 100) for r in requests)
    want, got = {}, {}
    for c in ("2xx", "3xx", "4xx", "5xx", "other"):
        for side in ("client", "server"):
            want[(f"apps.ebpf_http_requests_{c}", program_name(side, tag))] = classes.get(c, 0)
        want[(f"cgroup_http_test_{tag}.ebpf_http_requests", c)] = classes.get(c, 0)
        want[(f"services.ebpf_http_requests_{c}", f"http-test-{tag}")] = classes.get(c, 0)
    got = {k: last.get(k) for k in want}
    checks.check(got == want, "charts: requests per status class per app group, cgroup and service"
                 + ("" if got == want else f": got {got}, want {want}"))
    latency = [last.get((f"cgroup_http_test_{tag}.ebpf_http_latency", "latency")),
               last.get(("apps.ebpf_http_latency", program_name("client", tag)))]
    checks.check(all(v is not None and 0 < v < 10_000_000 for v in latency),
                 f"charts: a time to first byte above 0 and below 10 s (µs): {latency}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = HttpChecks()
    tag = "%06x" % random.getrandbits(24)
    port = random.randint(20000, 30000)
    root = cgroup2_root()
    cgroups = {"server": os.path.join(root, "system.slice", f"http-test-{tag}.service"),
               "client": os.path.join(root, f"http_test_{tag}")}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as user, Namespaces("http") as ns:
        make_cgroups(cgroups.values())
        os.makedirs(os.path.join(user, "ebpf.d"))
        www = os.path.join(user, "www")
        os.makedirs(os.path.join(www, "sub"))
        for name, size in (("a.txt", 123), ("big.bin", 6000), (os.path.join("sub", "index.html"), 50)):
            with open(os.path.join(www, name), "w") as f:
                f.write("x" * size)
        with open(os.path.join(user, "ebpf.d", "network.conf"), "w") as conf:
            conf.write(f"[http flows]\n    enabled = yes\n    path length = {PATH_LENGTH}\n")
        with open(os.path.join(user, "apps_groups.conf"), "w") as conf:
            conf.write("".join("%s: %s\n" % ((program_name(side, tag),) * 2) for side in ("server", "client")))
        sink = os.path.join(user, "records.json")
        with open(os.path.join(user, "ebpf.d", "records.conf"), "w") as conf:
            conf.write(f"[records]\n    file = {sink}\n")
        with open(os.path.join(user, "ebpf.d.conf"), "w") as conf:
            conf.write("[global]\n    cgroups = yes\n[ebpf programs]\n" +
                       "".join(f"    {m} = {'yes' if m == 'sync' else 'no'}\n" for m in ALL_MODULES))
        programs = {}
        for side in ("server", "client", "probe"):
            programs[side] = os.path.join(user, program_name(side, tag))
            os.symlink(sys.executable, programs[side])
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=user, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        plugin = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "--records", "httpflow", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        reader = RecordReader(plugin)
        charts = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        chart_lines = []
        threading.Thread(target=lambda: chart_lines.extend(charts.stdout), daemon=True).start()

        def enter_server_cgroup():
            with open(os.path.join(cgroups["server"], "cgroup.procs"), "w") as procs:
                procs.write(str(os.getpid()))
        def http_server(program, port, cgroup_of):
            return subprocess.Popen(["ip", "netns", "exec", ns.server_ns, program, "-m", "http.server",
                                     "--protocol", "HTTP/1.1", "--bind", "::", "--directory", www, str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=cgroup_of)
        server = http_server(programs["server"], port, enter_server_cgroup)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
                        "-keyout", os.path.join(user, "key.pem"), "-out", os.path.join(user, "cert.pem")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tls_server = subprocess.Popen(["ip", "netns", "exec", ns.server_ns, programs["server"],
                                       os.path.join(HERE, "https_server.py"), "::", str(port + 2), www,
                                       os.path.join(user, "cert.pem"), os.path.join(user, "key.pem")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      preexec_fn=enter_server_cgroup)
        # the probes' server is a process of its own, outside the checked app groups and cgroups
        probe_server = http_server(programs["probe"], port + 1, None)
        clients = []
        try:
            # attached once a probe request is reported by both plugins
            # (a minute: the servers start slowly in a guest under emulation)
            deadline, attached, n = time.monotonic() + 60, False, 0
            while not attached and time.monotonic() < deadline and plugin.poll() is None:
                n += 1
                probe = {"server": ns.server_ip, "port": port + 1, "connections": [[[["GET", f"/probe{n}"]]]]}
                proc = start_client(ns, programs["probe"], probe, quiet=True)
                try:
                    proc.communicate(input="", timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                time.sleep(1.5)
                in_sink = os.path.exists(sink) and "/probe" in open(sink).read()
                attached = in_sink and any(r.get("path", "").startswith("/probe") for r in reader.snapshot())
            checks.check(attached, "both runs of the plugin report a probe request within 60 s")
            requests = []
            for server_ip, tls, plan in ((ns.server_ip, False, CONNECTIONS), (ns.server_ip6, False, CONNECTIONS_V6),
                                         (ns.server_ip, True, CONNECTIONS_TLS)):
                client, done = run_client(ns, programs["client"], {"server": server_ip, "port": port + 2 * tls,
                                                                   "tls": tls, "connections": plan}, cgroups["client"])
                clients.append(client)
                for r in done:
                    r["v4"], r["tls"] = server_ip == ns.server_ip, tls
                requests += done
            planned = sum(len(batch) for c in CONNECTIONS + CONNECTIONS_V6 + CONNECTIONS_TLS for batch in c)
            checks.check(len(requests) == planned, f"the client made its {len(requests)} requests of {planned}")
            # `ip netns exec` execs the program: the same pid
            owners = {"client": {"pids": {str(c.pid) for c in clients}, "name": program_name("client", tag),
                                 "cgroup": f"http_test_{tag}", "service": ""},
                      "server": {"pids": {str(server.pid), str(tls_server.pid)}, "name": program_name("server", tag),
                                 "cgroup": f"http-test-{tag}", "service": f"http-test-{tag}"}}
            time.sleep(3)
        finally:
            for client in clients:
                client.communicate(input="", timeout=10)
            plugin.terminate()
            charts.terminate()
            plugin.wait(timeout=20)
            charts.wait(timeout=20)
            for proc in (server, probe_server, tls_server):
                proc.terminate()
                proc.wait(timeout=10)
            remove_cgroups(cgroups.values())
        reader.thread.join(timeout=5)
        records = reader.snapshot()
        stderr = [line for proc in (plugin, charts) for line in proc.stderr.read().splitlines()]
        complaints = [line for line in stderr if ("network.conf" in line or "httpflow" in line) and " INFO " not in line]
        checks.check(not complaints, "no complaint about [http flows] or from httpflow on stderr"
                     + ("" if not complaints else f": {complaints}"))
        checks.check(sum("httpflow: HTTPS through " in line for line in stderr) == 2,
                     "both runs say they see HTTPS through libssl")
        for side in ("client", "server"):
            check_side(checks, "--records httpflow", records, ns, side, requests, owners[side], started)
        with open(sink) as f:
            sink_records = [json.loads(line) for line in f]
        for side in ("client", "server"):
            have = collections.Counter(key(r, side) for r in mine(sink_records, ns, side))
            want = collections.Counter(key(r, side) for r in mine(records, ns, side))
            checks.check(have == want, f"file sink: {side}: the same {sum(want.values())} requests as --records httpflow")
        check_charts(checks, chart_lines, requests, tag)
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
