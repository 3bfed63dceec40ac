#!/usr/bin/env python3
"""Live test of the dnsflow records and DNS charts: the real plugin and kernel,
DNS between two private network namespaces joined by a veth pair.

The server namespace has a real dnsmasq (answers known names, NXDOMAIN for the
other names of .test, over UDP and TCP), a server that answers SERVFAIL to
everything (dnsmasq 2.90 has no option for it: a dead upstream gets REFUSED,
or no answer) and one that reads queries and never answers (tests/live/dns_peer.py).
A client in a cgroup and app group of its own makes Q lookups of each kind
through glibc (getaddrinfo: A and AAAA together, by sendmmsg; resolv.conf
pointing at each server in turn, timeout:1 attempts:1) and Q raw queries of each
kind (UDP, TCP to dnsmasq, and UDP over IPv6 to dnsmasq), and sends G datagrams
of garbage to port 53.
Per domain and rcode the client's records count exactly: 2Q for glibc's known
and unknown names, Q for each raw kind, and for glibc's SERVFAIL and
unanswered lookups what those servers read (glibc resends to them); timeouts
have rcode -1. The servers' side (incoming) counts the same, named by their
process. Latencies are above 0 and below 1 s. The plugin's normal run, with a
file sink, writes the same client records to its file, and its DNS charts pass
tools/protocol-check.py, with a latency per answering server, the garbage
counted as unparsed and the programs' cost in the self charts; `--check` says
the programs load. A third run with a 64 KiB ring buffer gets B queries at
once: those it reports and those counted as ring_full add up to B exactly.
The answers name the flows' destinations: with `--records dnsflow,flows`, C
TCP connections to each address of a name dnsmasq gives (IPv4 and IPv6) have
it as dst_domain in their netflow records, and so have the DNS queries they
carry and H HTTP requests to that name (httpflow); the TCP connections to the
same server before that answer have none, nor have the HTTP server's records
(its client's address was never an answer).

Where --check says the kernel cannot ("n/a": Debian's 5.10 and 6.1), `--records dnsflow` must exit
saying the same reason, and the suite reports "skip".

usage: dns_test.py [--build DIR] [--results FILE]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from check_output import plugin_check_output  # noqa: E402
from common import Checks, cgroup2_root, finish, make_cgroups, remove_cgroups  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(HERE, "dns_peer.py")
Q = 5        # queries of each kind
GARBAGE = 7  # datagrams to port 53 that are no DNS message
CONNECTS = 3  # lookups of CONNECT_NAME, each followed by a TCP connection to each address it gives
CONNECT_NAME = "conn.test"  # dnsmasq's IPv4 and IPv6 addresses
HTTP_REQUESTS = 4  # GETs to CONNECT_NAME:HTTP_PORT (python's http.server beside dnsmasq)
HTTP_PORT = 8053
BURST = 1000  # queries at once to an address with no server, for a ring buffer of 64 KiB (110 events)
TIMEOUT = 2  # [dns flows] timeout, seconds
MODULES = ("dns",)  # what the kernel matrix reports of this suite
ALL_MODULES = ("process", "socket", "cachestat", "sync", "dcstat", "swap", "vfs", "filesystem", "disk", "mount", "fd",
               "hardirq", "softirq", "oomkill", "shm")


class DnsChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "dns: " + text)


class Namespaces(netns.Namespaces):
    """A server namespace (dnsmasq .1, SERVFAIL .3, silent .4, none at .5) and a client one (.2)."""

    def __init__(self, tag):
        super().__init__("dns", tag, extra_server_ips=3, peer=PEER, stderr=subprocess.PIPE)
        self.dnsmasq, self.client, self.dnsmasq6, self.client6 = (self.server_ip, self.client_ip,
                                                                  self.server_ip6, self.client_ip6)
        self.servfail, self.silent, self.nobody = self.extra_server_ips


class Reader:
    def __init__(self, stream, parse):
        self.items, self.lock = [], threading.Lock()
        self.thread = threading.Thread(target=self.read, args=(stream, parse), daemon=True)
        self.thread.start()

    def read(self, stream, parse):
        for line in stream:
            with self.lock:
                self.items.append(parse(line))

    def snapshot(self):
        with self.lock:
            return list(self.items)


def counts(records, **match):
    """(domain, rcode) -> summed count over the records with these tags."""
    got = collections.Counter()
    for r in records:
        if all(r.get(k) == v for k, v in match.items()):
            got[(r["domain"], r["rcode"])] += r["count"]
    return dict(got)


def chart_values(lines):
    """(chart, dimension) -> every value set; and the charts declared."""
    values, declared, chart = collections.defaultdict(list), set(), None
    for line in lines:
        words = line.split()
        if words[:1] == ["CHART"]:
            declared.add(words[1])
        elif words[:1] == ["BEGIN"]:
            chart = words[1]
        elif words[:1] == ["SET"] and len(words) == 4 and words[3]:
            values[(chart, words[1])].append(int(words[3]))
    return values, declared


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = DnsChecks()
    if subprocess.run(["which", "dnsmasq"], capture_output=True).returncode != 0:
        checks.check(False, "dnsmasq is installed (tools/install-deps.sh test)")
        return finish(checks, args.results, MODULES)
    said = [line for line in plugin_check_output(args.build).splitlines() if line.startswith("dns flows on ")]
    if said and ": n/a: " in said[0]:
        return check_dns_refused(checks, args, said[0].split(": n/a: ", 1)[1])
    tag = "%06x" % random.getrandbits(24)
    client_cgroup = os.path.join(cgroup2_root(), f"dns_test_{tag}")
    names = {side: f"dn{letter}-{tag}" for side, letter in
             (("client", "c"), ("probe", "p"), ("servfail", "f"), ("silent", "q"))}
    with tempfile.TemporaryDirectory() as user, Namespaces(tag) as ns:
        make_cgroups([client_cgroup])
        os.makedirs(os.path.join(user, "ebpf.d"))
        with open(os.path.join(user, "ebpf.d", "network.conf"), "w") as conf:
            conf.write(f"[dns flows]\nenabled = yes\ntimeout = {TIMEOUT}\n")
        with open(os.path.join(user, "apps_groups.conf"), "w") as conf:
            conf.write("".join(f"{name}: {name}\n" for name in names.values()))
        sink = os.path.join(user, "records.json")
        with open(os.path.join(user, "ebpf.d", "records.conf"), "w") as conf:
            conf.write(f"[records]\nfile = {sink}\n")
        with open(os.path.join(user, "ebpf.d.conf"), "w") as conf:
            conf.write("[global]\ncgroups = yes\n[ebpf programs]\n" +
                       "".join(f"{m} = {'yes' if m == 'sync' else 'no'}\n" for m in ALL_MODULES))
        programs = {}
        for side, name in names.items():
            programs[side] = os.path.join(user, name)
            os.symlink(sys.executable, programs[side])
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=user, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        plugin = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "--records", "dnsflow,flows,httpflow", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        records = Reader(plugin.stdout, json.loads)
        charts = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        chart_lines = Reader(charts.stdout, str)
        # and with a ring buffer too small for the burst: what does not fit is counted
        small = os.path.join(user, "small")
        os.makedirs(os.path.join(small, "ebpf.d"))
        small_sink = os.path.join(user, "small.json")
        shutil.copy(os.path.join(user, "ebpf.d.conf"), small)
        with open(os.path.join(small, "ebpf.d", "network.conf"), "w") as conf:
            conf.write(f"[dns flows]\nenabled = yes\ntimeout = {TIMEOUT}\nring buffer size = 64\n")
        with open(os.path.join(small, "ebpf.d", "records.conf"), "w") as conf:
            conf.write(f"[records]\nfile = {small_sink}\n")
        small_run = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(env, NETDATA_USER_CONFIG_DIR=small))
        small_lines = Reader(small_run.stdout, str)
        log = os.path.join(user, "dnsmasq.log")
        dnsmasq = ns.run(ns.server_ns, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                         "--bind-interfaces", f"--listen-address={ns.dnsmasq},{ns.dnsmasq6}", "--local=/test/",
                         "--log-queries", f"--log-facility={log}",
                         f"--pid-file={os.path.join(user, 'dnsmasq.pid')}",  # not /run/dnsmasq: none in a guest
                         *[f"--host-record={kind}known.test,10.9.9.9" for kind in ("g", "r", "t", "r6")],
                         f"--host-record={CONNECT_NAME},{ns.dnsmasq},{ns.dnsmasq6}", peer=False)
        servfail = ns.run(ns.server_ns, programs["servfail"], "servfail", ns.servfail)
        silent = ns.run(ns.server_ns, programs["silent"], "silent", ns.silent)
        client_runs = []
        http_server = None
        try:
            checks.check(servfail.stdout.readline().strip() == "ready" and
                         silent.stdout.readline().strip() == "ready", "the SERVFAIL and silent servers listen")
            deadline = time.monotonic() + 60  # a guest under emulation starts slowly
            attached = False
            ns.resolve_with(ns.dnsmasq)
            while not attached and time.monotonic() < deadline and plugin.poll() is None:
                probe = json.dumps([["udp", ns.dnsmasq, "probe.test", 1]])
                ns.run(ns.client_ns, programs["probe"], "client", probe).communicate(timeout=10)
                time.sleep(1.2)
                attached = any(r.get("domain") == "probe.test" for r in records.snapshot())
            checks.check(attached, "the plugin reports DNS (a probe query seen)")
            while time.monotonic() < deadline and not all(any(line.startswith("BEGIN ") for line in r.snapshot())
                                                          for r in (chart_lines, small_lines)):
                time.sleep(0.2)
            plans = [
                (ns.dnsmasq, [["glibc", "", "gknown.test", Q], ["glibc", "", "gnx.test", Q],
                              ["udp", ns.dnsmasq, "rknown.test", Q], ["udp", ns.dnsmasq, "rnx.test", Q],
                              ["tcp", ns.dnsmasq, "tknown.test", Q], ["udp", ns.servfail, "rfail.test", Q],
                              ["udp", ns.silent, "rsilent.test", Q], ["garbage", ns.dnsmasq, "", GARBAGE],
                              ["udp", ns.dnsmasq6, "r6known.test", Q]]),
                (ns.servfail, [["glibc", "", "gfail.test", Q]]),
                (ns.silent, [["glibc", "", "gsilent.test", Q]]),
            ]
            for server, plan in plans:
                ns.resolve_with(server)
                run = ns.run(ns.client_ns, programs["client"], "client", json.dumps(plan), cgroup=client_cgroup)
                out = run.stdout.readline()  # it stays until its stdin closes: its app group is read while it lives
                client_runs.append((run, json.loads(out) if out else run.stderr.read()))
            time.sleep(1.5)  # the flows above reported before the answers that name their destination
            ns.resolve_with(ns.dnsmasq)
            http_server = ns.run(ns.server_ns, sys.executable, "-m", "http.server", "--bind", ns.dnsmasq,
                                 "--directory", user, str(HTTP_PORT), peer=False)
            connect = ns.run(ns.client_ns, programs["client"], "client",
                             json.dumps([["connect", "", CONNECT_NAME, CONNECTS],
                                         ["http", str(HTTP_PORT), CONNECT_NAME, HTTP_REQUESTS]]), cgroup=client_cgroup)
            out = connect.stdout.readline()
            connect_result = json.loads(out) if out else connect.stderr.read()
            client_runs.append((connect, None))
            time.sleep(1.5)  # a report of the small ring's run between the queries above and the burst
            before_burst = len(small_lines.snapshot())
            burst = ns.run(ns.client_ns, programs["client"], "client",
                           json.dumps([["burst", ns.nobody, "burst.test", BURST]]), cgroup=client_cgroup)
            burst_out = burst.stdout.readline()
            client_runs.append((burst, None))
            time.sleep(TIMEOUT + 2.5)  # the unanswered queries time out, and two more reports
        finally:
            for run, _ in client_runs:
                run.communicate(timeout=10)
            served = {name: peer.communicate(timeout=10)[0].strip() for name, peer in
                      (("servfail", servfail), ("silent", silent))}  # stdin closed: the count
            dnsmasq.terminate()
            dnsmasq.wait(timeout=10)
            if http_server:
                http_server.terminate()
                http_server.wait(timeout=10)
            plugin.send_signal(2)
            _, errors = plugin.communicate(timeout=20)
            charts.stdin.close()
            charts.wait(timeout=20)
            chart_lines.thread.join(timeout=5)
            small_run.stdin.close()
            small_run.wait(timeout=20)
            small_lines.thread.join(timeout=5)
            remove_cgroups([client_cgroup])
        records.thread.join(timeout=5)
        checks.check(plugin.returncode == 0, f"plugin exits 0 at SIGINT (stderr: {errors.strip()[-300:]!r})")
        with open(sink) as f:
            sunk = [json.loads(line) for line in f if '"dnsflow"' in line]
        with open(small_sink) as f:
            small_sunk = [json.loads(line) for line in f if '"burst.test"' in line]
        with open(log) as f:
            dnsmasq_log = f.read()
    dns_records = [r for r in records.snapshot() if r["source"] == "dnsflow"]
    flow_records = [r for r in records.snapshot() if r["source"] == "netflow"]
    check_results(checks, ns, client_runs, served, [r for r in dns_records if r["domain"] != CONNECT_NAME],
                  [r for r in sunk if r["domain"] != CONNECT_NAME], chart_lines.snapshot(), dnsmasq_log,
                  names, "process names from /proc" in errors)
    http_records = [r for r in records.snapshot() if r["source"] == "httpflow"]
    check_domains(checks, ns, client_runs, connect, connect_result, dns_records, flow_records, http_records)
    lines = small_lines.snapshot()
    full = chart_values(lines[:before_burst])[0].get(("netdata.ebpf_dns_dropped", "ring_full"), [0])[-1]
    full_after = chart_values(lines)[0].get(("netdata.ebpf_dns_dropped", "ring_full"), [0])[-1]
    reported = sum(r["count"] for r in small_sunk if r["src_ip"] == ns.client and r["rcode"] == -1)
    checks.check(burst_out.strip() == f"[{BURST}]" and 0 < reported < BURST and reported + full_after - full == BURST,
                 f"a 64 KiB ring buffer and {BURST} queries at once: {reported} reported, and the "
                 f"{full_after - full} that found the ring full counted on netdata.ebpf_dns_dropped")
    lines = [line for line in plugin_check_output(args.build).splitlines() if line.startswith("dns flows")]
    checks.check(lines == ["dns flows on cgroup_skb: ok"], f"--check: {lines}")
    return finish(checks, args.results, MODULES)


def check_domains(checks, ns, client_runs, connect, result, dns_records, flow_records, http_records):
    """The flows, DNS queries and HTTP requests to the addresses conn.test's answers gave are named by it."""
    addresses = sorted([ns.dnsmasq, ns.dnsmasq6])
    want = [[[address, 0] for address in addresses]] * CONNECTS + [[200] * HTTP_REQUESTS]
    checks.check(result == want, f"the client looked {CONNECT_NAME} up {CONNECTS} times and connected to "
                 f"{addresses}: {result}")
    for address in addresses:
        mine = [r for r in flow_records if r["pid"] == str(connect.pid) and r["dst_ip"] == address
                and r["dst_port"] == "53" and r["transport"] == "tcp"]
        opened = sum(r["tcp_established"] for r in mine)
        domains = {r["dst_domain"] for r in mine}
        checks.check(opened == CONNECTS and domains == {CONNECT_NAME},
                     f"netflow: the {CONNECTS} TCP connections to {address} have dst_domain {CONNECT_NAME}: "
                     f"{opened} connections, dst_domain {domains}")
        queries = [r for r in dns_records if r["domain"] == CONNECT_NAME and r["transport"] == "tcp"
                   and r["direction"] == "outgoing" and r["dst_ip"] == address]
        checks.check(sum(r["count"] for r in queries) == CONNECTS and
                     {r["dst_domain"] for r in queries} == {CONNECT_NAME},
                     f"dnsflow: the {CONNECTS} TCP queries to {address} have dst_domain {CONNECT_NAME}: "
                     f"{[(r['count'], r['dst_domain']) for r in queries]}")
    for direction, remote, domain in (("outgoing", ns.dnsmasq, CONNECT_NAME), ("incoming", ns.client, "")):
        mine = [r for r in http_records if r["direction"] == direction and r["dst_ip"] == remote and
                str(HTTP_PORT) in (r["src_port"], r["dst_port"])]
        checks.check(sum(r["count"] for r in mine) == HTTP_REQUESTS and {r["dst_domain"] for r in mine} == {domain},
                     f"httpflow: the {HTTP_REQUESTS} requests, {direction}, have dst_domain '{domain}': "
                     f"{[(r['count'], r['dst_domain'], r['status_code']) for r in mine]}")
    first = client_runs[0][0]
    before = [r for r in flow_records if r["pid"] == str(first.pid) and r["dst_ip"] == ns.dnsmasq
              and r["transport"] == "tcp"]
    checks.check(sum(r["tcp_established"] for r in before) == Q and {r["dst_domain"] for r in before} == {""},
                 f"netflow: the {Q} earlier TCP queries' connections to {ns.dnsmasq}, before any answer named it, "
                 f"have no dst_domain: {[(r['tcp_established'], r['dst_domain']) for r in before]}")


def check_dns_refused(checks, args, reason):
    """Where the kernel can have no DNS flows (--check's "n/a"): `--records dnsflow` ends at once saying why."""
    done = subprocess.run([os.path.join(args.build, "ebpf.plugin"), "--records", "dnsflow", "1"], capture_output=True,
                          text=True, timeout=60)
    said = [line for line in done.stderr.splitlines() if "dnsflow" in line]
    checks.check(done.returncode != 0 and len(said) == 1 and reason in said[0],
                 f"this kernel can have none ({reason}): --records dnsflow exits {done.returncode} saying why: {said}")
    return finish(checks, args.results, MODULES, labels={"dns": "skip"})


def check_results(checks, ns, client_runs, served, records, sunk, chart_lines, dnsmasq_log, names, names_from_proc):
    results = [result for _, result in client_runs if result is not None]
    checks.check(all(isinstance(r, list) for r in results), f"the client's three runs finished: {results}")
    if not all(isinstance(r, list) for r in results):
        return
    first = results[0]
    want_seen = [[0] * Q, [3] * Q, [0] * Q, [3] * Q, [0] * Q, [2] * Q, ["timeout"] * Q]
    checks.check(first[0] == ["found"] * Q and first[1] != ["found"] * Q and first[2:7] == want_seen[2:] and
                 first[8] == [0] * Q,
                 f"the client saw the answers it should: {first}")
    servfail_read, silent_read = int(served["servfail"]), int(served["silent"])
    glibc_fail, glibc_silent = servfail_read - Q, silent_read - Q
    checks.check(glibc_fail >= 2 * Q and glibc_silent >= 2 * Q,
                 f"glibc sent A and AAAA to the SERVFAIL and silent servers: they read {servfail_read} and "
                 f"{silent_read} queries, {Q} of each raw")
    want = {("gknown.test", 0): 2 * Q, ("gnx.test", 3): 2 * Q, ("rknown.test", 0): Q, ("rnx.test", 3): Q,
            ("tknown.test", 0): Q, ("rfail.test", 2): Q, ("rsilent.test", -1): Q,
            ("gfail.test", 2): glibc_fail, ("gsilent.test", -1): glibc_silent}
    client = [r for r in records if r["src_ip"] == ns.client and r.get("domain") not in ("probe.test", "burst.test")]
    got = counts(client, direction="outgoing")
    checks.check(got == want, f"client side: queries per domain and rcode exactly {want}" +
                 ("" if got == want else f", got {got}"))
    tcp = counts(client, transport="tcp")
    checks.check(tcp == {("tknown.test", 0): Q}, f"client side: the TCP queries are the {Q} to tknown.test: {tcp}")
    owners = {(r["pid"], r["process_name"], r["app_group"], r["cgroup"], r["direction"], r["dst_port"], r["src_port"])
              for r in client}
    pids = {str(run.pid) for run, _ in client_runs}
    checks.check({o[0] for o in owners} <= pids and {o[1:] for o in owners} ==
                 {(names["client"], names["client"], os.path.basename(client_cgroup_name(names)), "outgoing", "53",
                   "*")}, f"client side: pid, process, app group, cgroup, direction and ports {sorted(owners)}")
    latencies_ok = all(0 < r["latency"] <= r["latency_max"] < 10**9 if r["rcode"] >= 0 else
                       r["latency"] == 0 and r["latency_max"] == 0 for r in client)
    checks.check(latencies_ok and client, "client side: latency and latency_max above 0 and below 1 s when "
                 "answered, 0 when timed out")
    ipv6 = [r for r in records if r["src_ip"] == ns.client6]
    got6 = counts(ipv6, direction="outgoing", family="IPv6", dst_ip=ns.dnsmasq6, process_name=names["client"])
    checks.check(got6 == {("r6known.test", 0): Q} and len(got6) == len(counts(ipv6)),
                 f"client side over IPv6: {Q} queries to r6known.test answered NOERROR: {counts(ipv6)}")
    server6 = counts([r for r in records if r["src_ip"] == ns.dnsmasq6], direction="incoming", family="IPv6",
                     process_name="dnsmasq")
    checks.check(server6 == {("r6known.test", 0): Q}, f"server side over IPv6: the same {Q} at dnsmasq: {server6}")
    server_want = {
        ns.dnsmasq: ({k: v for k, v in want.items() if k[0][1:] in ("known.test", "nx.test")}, "dnsmasq"),
        ns.servfail: ({("rfail.test", 2): Q, ("gfail.test", 2): glibc_fail}, names["servfail"]),
        ns.silent: ({("rsilent.test", -1): Q, ("gsilent.test", -1): glibc_silent}, ""),
    }
    for server, (want_server, process) in server_want.items():
        mine = [r for r in records if r["src_ip"] == server and r["direction"] == "incoming"
                and r["domain"] != "probe.test"]
        got = counts(mine)
        if names_from_proc and process == "dnsmasq":
            # the name read from /proc (the kernel's programs cannot): dnsmasq's child for each TCP
            # query has exited by then, and only those may have none
            mine = [r for r in mine if r["process_name"] or r["transport"] != "tcp"]
        shape = {(r["process_name"], r["src_port"], r["dst_port"]) for r in mine}
        ok = got == want_server and shape == {(process, "53", "*")}
        checks.check(ok, f"server side {server}: incoming queries per domain and rcode {want_server}, process "
                     f"'{process}'" + ("" if ok else f"; got {got} {shape}"))
    logged = sum(dnsmasq_log.count(f"query[{t}] {k}.test from {ns.client}") for t in ("A", "AAAA")
                 for k in ("gknown", "gnx", "rknown", "rnx", "tknown"))
    logged += dnsmasq_log.count(f"query[A] r6known.test from {ns.client6}")
    checks.check(logged == 8 * Q, f"dnsmasq's own log has the {8 * Q} queries the records count: {logged}")
    sunk_client = counts([r for r in sunk if r["src_ip"] == ns.client and r["domain"] not in ("probe.test", "burst.test")],
                         direction="outgoing")
    checks.check(sunk_client == want, "the normal run's file sink has the same client records" +
                 ("" if sunk_client == want else f": {sunk_client}"))
    verdict = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "protocol-check.py")],
                             input="".join(chart_lines), capture_output=True, text=True)
    checks.check(verdict.returncode == 0 and chart_lines, "the normal run's output, DNS charts included, passes "
                 f"tools/protocol-check.py ({(verdict.stderr or verdict.stdout).strip()[:200]})")
    values, declared = chart_values(chart_lines)
    want_charts = {"ip.ebpf_dns_queries", "ip.ebpf_dns_latency", "netdata.ebpf_dns_dropped"}
    checks.check(want_charts <= declared, f"the DNS charts are declared: {sorted(want_charts & declared)}")
    latency = {server: max(values.get(("ip.ebpf_dns_latency", server), [0]) or [0])
               for server in (ns.dnsmasq, ns.servfail)}
    checks.check(all(0 < v < 10**6 for v in latency.values()) and
                 ("ip.ebpf_dns_latency", ns.silent) not in values,
                 f"latency chart: a mean above 0 and below 1 s for each answering server (µs), none for the "
                 f"silent one: {latency}")
    unparsed = values.get(("netdata.ebpf_dns_dropped", "unparsed"), [0])
    checks.check(unparsed[-1] - unparsed[0] >= GARBAGE,
                 f"dropped chart: the {GARBAGE} garbage datagrams counted as unparsed ({unparsed[0]} -> {unparsed[-1]})")
    cost = {key: max(values.get(key, [0])) for key in [("netdata.ebpf_kernel_memory", "dns"),
                                                       ("netdata.ebpf_bpf_runs", "dns_cgroup_skb"),
                                                       ("netdata.ebpf_bpf_time", "dns_cgroup_skb")]}
    checks.check(all(v > 0 for v in cost.values()), f"self charts: the DNS programs' kernel memory, runs and time: {cost}")
    timeouts = values.get(("ip.ebpf_dns_queries", "timeout"), [0])
    checks.check(timeouts[-1] - timeouts[0] >= Q + glibc_silent,
                 f"queries chart: the client's {Q + glibc_silent} timeouts counted ({timeouts[0]} -> {timeouts[-1]})")


def client_cgroup_name(names):
    return "dns_test_" + names["client"].split("-")[1]


if __name__ == "__main__":
    sys.exit(main())
