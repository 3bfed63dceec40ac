#!/usr/bin/env python3
"""Live test of the netflow records (`ebpf.plugin --records flows`): the real
plugin and kernel, TCP connections between two private network namespaces
joined by a veth pair (tests/live/flows_peer.py runs both ends).

The client makes C connections (one over IPv6; the server's socket is dual-stack,
so its IPv4 connections are IPv4-mapped), each with its own request and answer sizes:
most from a bound port outside the host's ephemeral range, two from ephemeral
ports (folded to "*"), one that holds its request across intervals, one whose
acknowledgements an nftables rule drops for a second (its segments are
retransmitted); then a burst of 200 short connections from ephemeral ports
(summed per side: exactly their bytes, 200 established, 200 closed); and a
connected UDP socket exchanges datagrams with an unconnected one (only the
connected side is reported, with exactly its bytes; on the trampoline path,
which hooks tcp_sendmsg and tcp_recvmsg, no UDP at all). The filter
`dst_port == 5002` is configured: the client's flows to 5002 are left out, the
server's side of them is not. Per connection and side, summed over its records:
bytes_read and bytes_written exactly as sent, tcp_established and tcp_closed 1,
retransmits as the kernel counted them on that side (TCP_INFO: > 0 on the dropped
connection; under emulation a slow ACK can cause one elsewhere), 0 < rtt < the exchange's time,
direction, ports, pid, process name, cgroup, service and app group right (the
server runs as a service cgroup, the client in a plain one, each in an app
group of its own); and no other record for the namespaces' addresses. Only the
test's own addresses are looked at. The plugin's normal run, with a records.conf
file sink and journal sink, writes the same flows to its file and to a journald
(started here unless one runs; read back with journalctl) at the same time.

usage: flows_test.py [--build DIR]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
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
from check_output import check_flows_refused, flows_path, flows_unavailable  # noqa: E402
from netns import Namespaces  # noqa: E402
from common import (Checks, cgroup2_root, finish, journal_bytes, make_cgroups, remove_cgroups,  # noqa: E402
                    start_journald)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(HERE, "flows_peer.py")
PORTS = (5001, 5002)
PROBE_PORT = 5003  # connections that tell the plugin is attached; not checked
UDP = {"port": 5005, "sizes": [100, 250, 700]}  # a connected client, an unconnected server
BURST = {"port": 5004, "count": 200, "request": 1000, "answer": 3000}  # + i bytes for the i-th
FILTER = "dst_port == 5002"
MODULES = ("flows",)  # what the kernel matrix reports of this suite
ALL_MODULES = ("process", "socket", "cachestat", "sync", "dcstat", "swap", "vfs", "filesystem", "disk", "mount", "fd",
           "hardirq", "softirq", "oomkill", "shm")


class FlowChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "flows: " + text)


class RecordReader:
    """Collects the plugin's stdout lines in a thread."""

    def __init__(self, proc):
        self.records, self.lock = [], threading.Lock()
        self.thread = threading.Thread(target=self.read, args=(proc,), daemon=True)
        self.thread.start()

    def read(self, proc):
        for line in proc.stdout:
            with self.lock:
                self.records.append(json.loads(line))

    def snapshot(self):
        with self.lock:
            return list(self.records)


def plan_connections(ephemeral_low, ns):
    base = random.randint(20000, ephemeral_low - 100) if ephemeral_low > 20100 else 1100
    connections = []
    for i in range(7):
        c = {"port": PORTS[1] if i in (4, 5) else PORTS[0], "request": 10000 * (i + 1) + 123 * i,
             "answer": 20000 * (i + 1) + 321 * i}
        if i not in (3, 5):
            c["bind"] = base + i
        if i == 0:
            c["hold"] = 1.5
        if i == 2:
            c["drop"] = 1.0
        if i == 6:
            c["server"], c["client"] = ns.server_ip6, ns.client_ip6
        connections.append(c)
    return connections


def sums(records):
    total = {k: 0 for k in ("bytes_read", "bytes_written", "retransmits", "tcp_established", "tcp_closed")}
    for r in records:
        for k in total:
            total[k] += r[k]
    return total


class Cgroups:
    def __init__(self, paths):
        self.paths = list(paths)

    def __enter__(self):
        make_cgroups(self.paths)
        return self

    def __exit__(self, *exc):
        remove_cgroups(self.paths)  # its processes are gone a moment after they exit


def mine(records, ns):
    """The records of the test's connections, the probes left out."""
    return [r for r in records if {r["src_ip"], r["dst_ip"]} in ({ns.server_ip, ns.client_ip},
                                                                 {ns.server_ip6, ns.client_ip6})
            and str(PROBE_PORT) not in (r["src_port"], r["dst_port"])]


def split_sides(records, ns, c, d):
    """The records of one connection: its client's and its server's."""
    client_port = str(d["port"]) if c.get("bind") else "*"
    client, server = c.get("client", ns.client_ip), c.get("server", ns.server_ip)
    return {
        "client": [r for r in records if r["src_ip"] == client and r["dst_ip"] == server
                   and r["src_port"] == client_port and r["dst_port"] == str(c["port"])],
        "server": [r for r in records if r["src_ip"] == server and r["dst_ip"] == client
                   and r["src_port"] == str(c["port"]) and r["dst_port"] == client_port],
    }


def side_sums(records, ns, connections, done):
    return {(i, side): sums(found) for i, (c, d) in enumerate(zip(connections, done))
            for side, found in split_sides(records, ns, c, d).items() if found}


def journal_records(ns, pid, count):
    """The netflow records process `pid` sent the journal for the test's addresses (journalctl -o
    json, names lower-cased, numbers parsed), waiting up to 10 s for `count` of them."""
    found = []
    for _ in range(50):
        out = subprocess.run(["journalctl", "-o", "json", f"_PID={pid}", "SOURCE=netflow", f"DST_IP={ns.server_ip}",
                              f"DST_IP={ns.client_ip}", f"DST_IP={ns.server_ip6}", f"DST_IP={ns.client_ip6}"],
                             capture_output=True, text=True).stdout
        found = [{k.lower(): journal_bytes(v) for k, v in json.loads(line).items()} for line in out.splitlines()]
        for r in found:
            r.update({k: int(r.get(k, 0)) for k in ("bytes_read", "bytes_written", "retransmits",
                                                      "tcp_established", "tcp_closed")})
        found = mine(found, ns)
        if len(found) >= count:
            break
        time.sleep(0.2)
    return found


def check_burst(checks, records, ns, retrans):
    """The burst's short connections, summed per side: exactly their bytes and states, and the
    retransmits the kernel counted on each side (`retrans`)."""
    n = BURST["count"]
    request = sum(BURST["request"] + i for i in range(n))
    answer = sum(BURST["answer"] + i for i in range(n))
    port = str(BURST["port"])
    found = []
    for side, own, folded, want in (
            ("client", ns.client_ip, "src_port", {"bytes_read": answer, "bytes_written": request}),
            ("server", ns.server_ip, "dst_port", {"bytes_read": request, "bytes_written": answer})):
        mine_ = [r for r in records if r["src_ip"] == own and port in (r["src_port"], r["dst_port"])]
        want.update({"retransmits": retrans[side], "tcp_established": n, "tcp_closed": n})
        got = sums(mine_)
        checks.check(got == want and all(r[folded] == "*" for r in mine_),
                     f"{side} side of {n} short connections to port {port} from ephemeral ports: {len(mine_)} "
                     f"records sum to {got}" + ("" if got == want else f", want {want}"))
        found += mine_
    return found


def last_values(lines):
    """(chart, dimension) -> the last value the plugin sent, and every value sent."""
    last, every, chart = {}, {}, None
    for line in lines:
        words = line.split()
        if words[:1] == ["BEGIN"]:
            chart = words[1]
        elif words[:1] == ["SET"] and len(words) == 4 and words[3]:
            last[(chart, words[1])] = int(words[3])
            every.setdefault((chart, words[1]), []).append(int(words[3]))
    return last, every


def program_name(side, tag):
    """The server's, client's or probe's process name and app group, this run's alone (a concurrent
    run's processes would count in a shared one)."""
    return "fl%s-%s" % (side[0], tag)


def check_charts(checks, lines, connections, tag, retransmits, path, run="charts"):
    """Per app group, cgroup and service: the connections and retransmits the records counted."""
    last, every = last_values(lines)
    client_group, server_group = program_name("client", tag), program_name("server", tag)
    # the client's connections to 5002 are filtered out
    client = sum(1 for c in connections if c["port"] != 5002) + BURST["count"]
    server = len(connections) + BURST["count"]
    want = {
        ("apps.ebpf_flows_tcp_established", client_group): client,
        ("apps.ebpf_flows_tcp_established", server_group): server,
        ("apps.ebpf_flows_tcp_closed", client_group): client,
        ("apps.ebpf_flows_tcp_closed", server_group): server,
        ("apps.ebpf_flows_tcp_retransmits", client_group): retransmits["client"],
        ("apps.ebpf_flows_tcp_retransmits", server_group): retransmits["server"],
        (f"cgroup_flows_test_{tag}.ebpf_flows_tcp_connections", "established"): client,
        (f"cgroup_flows_test_{tag}.ebpf_flows_tcp_connections", "closed"): client,
        (f"cgroup_flows_test_{tag}.ebpf_flows_tcp_retransmits", "retransmits"): retransmits["client"],
        ("services.ebpf_flows_tcp_established", f"flows-test-{tag}"): server,
        ("services.ebpf_flows_tcp_closed", f"flows-test-{tag}"): server,
        ("services.ebpf_flows_tcp_retransmits", f"flows-test-{tag}"): retransmits["server"],
    }
    got = {key: last.get(key) for key in want}
    checks.check(got == want, f"{run}: connections established and closed and retransmits per app group, cgroup "
                 f"and service as the records count them" + ("" if got == want else f": got {got}, want {want}"))
    rtts = {key: max(every.get(key, [0])) for key in
            [("apps.ebpf_flows_tcp_rtt", client_group), ("apps.ebpf_flows_tcp_rtt", server_group),
             (f"cgroup_flows_test_{tag}.ebpf_flows_tcp_rtt", "rtt"),
             ("services.ebpf_flows_tcp_rtt", f"flows-test-{tag}")]}
    checks.check(all(0 < v < 1000000 for v in rtts.values()), f"{run}: a TCP RTT above 0 and below 1 s in each: {rtts}")
    cost = {key: last.get(key) for key in [("netdata.ebpf_kernel_memory", "flows"),
                                           ("netdata.ebpf_bpf_runs", "flows_" + path),
                                           ("netdata.ebpf_bpf_time", "flows_" + path)]}
    checks.check(all(v and v > 0 for v in cost.values()),
                 f"self charts: the flows' kernel memory and program runs and time are charted: {cost}")


def check_side(checks, name, records, want, exchange_us, pid, owner, family):
    got = sums(records)
    checks.check(bool(records) and got == want,
                 f"{name}: {len(records)} records sum to {got}" + ("" if got == want else f", want {want}"))
    rtt = records[-1]["rtt"] if records else 0
    checks.check(0 < rtt < exchange_us, f"{name}: rtt {rtt} µs, above 0 and below the exchange's {exchange_us} µs")
    side = name.split()[0]
    owners = {(r["pid"], r["process_name"], r["direction"], r["cgroup"], r["service"], r["app_group"], r["family"])
              for r in records}
    expected = (str(pid), owner["app_group"], "outgoing" if side == "client" else "incoming",
                owner["cgroup"], owner["service"], owner["app_group"], family)
    checks.check(owners == {expected}, f"{name}: pid, process, direction, cgroup, service, app group, family "
                 f"{sorted(owners)}, want {expected}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = FlowChecks()
    unavailable, path = flows_unavailable(args.build), flows_path(args.build)
    if unavailable:
        check_flows_refused(checks, args.build, unavailable,
                            dict(os.environ, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d")))
        return finish(checks, args.results, MODULES, labels={"flows": "skip"})
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_low = int(f.read().split()[0])

    tag = "%06x" % random.getrandbits(24)
    root = cgroup2_root()
    # the server as a service, the client in a plain cgroup; named by their app groups
    cgroups = {"server": os.path.join(root, "system.slice", f"flows-test-{tag}.service"),
               "client": os.path.join(root, f"flows_test_{tag}")}
    want_owner = {"server": {"cgroup": f"flows-test-{tag}", "service": f"flows-test-{tag}",
                             "app_group": program_name("server", tag)},
                  "client": {"cgroup": f"flows_test_{tag}", "service": "", "app_group": program_name("client", tag)}}
    journald = start_journald()
    with tempfile.TemporaryDirectory() as user, Namespaces("flows", peer=PEER) as ns, Cgroups(cgroups.values()):
        connections = plan_connections(ephemeral_low, ns)
        udp_port = connections[0]["bind"] + 10
        os.makedirs(os.path.join(user, "ebpf.d"))
        with open(os.path.join(user, "ebpf.d", "network.conf"), "w") as conf:
            conf.write(f"[network connections]\n    netlog filter = {FILTER}\n")
        with open(os.path.join(user, "apps_groups.conf"), "w") as conf:
            conf.write("".join("%s: %s\n" % ((program_name(side, tag),) * 2) for side in ("server", "client")))
        programs = {}
        for side in ("server", "client", "probe"):
            programs[side] = os.path.join(user, program_name(side, tag))
            os.symlink(sys.executable, programs[side])
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=user, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        plugin = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "--records", "flows", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        reader = RecordReader(plugin)
        # the same flows in the plugin's normal run, to a file sink (one light module runs)
        sink = os.path.join(user, "records.json")
        with open(os.path.join(user, "ebpf.d", "records.conf"), "w") as conf:
            conf.write(f"[records]\n    file = {sink}\n    journal = yes\n")
        with open(os.path.join(user, "ebpf.d.conf"), "w") as conf:
            conf.write("[global]\n    cgroups = yes\n[ebpf programs]\n" + "".join(f"    {m} = {'yes' if m == 'sync' else 'no'}\n" for m in ALL_MODULES))
        charts = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        chart_lines = []
        chart_reader = threading.Thread(target=lambda: chart_lines.extend(charts.stdout), daemon=True)
        chart_reader.start()
        # and with `network connections = yes` and no sink: the flow charts alone
        bare = os.path.join(user, "bare")
        os.makedirs(os.path.join(bare, "ebpf.d"))
        for name in ("apps_groups.conf", os.path.join("ebpf.d", "network.conf")):
            shutil.copy(os.path.join(user, name), os.path.join(bare, name))
        with open(os.path.join(user, "ebpf.d.conf")) as conf, open(os.path.join(bare, "ebpf.d.conf"), "w") as out:
            out.write(conf.read() + "    network connections = yes\n")
        bare_charts = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       env=dict(env, NETDATA_USER_CONFIG_DIR=bare))
        bare_lines = []
        bare_reader = threading.Thread(target=lambda: bare_lines.extend(bare_charts.stdout), daemon=True)
        bare_reader.start()
        server = ns.run(ns.server_ns, programs["server"], "server", "::", f"udp={UDP['port']}",
                        *map(str, PORTS + (BURST["port"],)),
                        cgroup=cgroups["server"])
        # the probes' server is a process of its own, outside the checked app groups and cgroups
        probe_server = ns.run(ns.server_ns, programs["probe"], "server", ns.server_ip, str(PROBE_PORT))
        try:
            checks.check(server.stdout.readline().strip() == "listening" and
                         probe_server.stdout.readline().strip() == "listening", "servers listen in their namespace")
            probe = json.dumps({"server": ns.server_ip, "client": ns.client_ip,
                                "connections": [{"port": PROBE_PORT, "request": 100, "answer": 100}]})
            deadline = time.monotonic() + 30
            attached = False
            while not attached and time.monotonic() < deadline and plugin.poll() is None:
                ns.run(ns.client_ns, programs["probe"], "client", probe).communicate(timeout=10)
                time.sleep(1.2)
                attached = any(r.get("dst_port") == str(PROBE_PORT) for r in reader.snapshot())
            checks.check(attached, "the plugin reports flows (a probe connection seen)")
            while time.monotonic() < deadline and not (any(line.startswith("BEGIN ") for line in chart_lines) and
                                                       any(line.startswith("BEGIN ") for line in bare_lines)):
                time.sleep(0.2)  # the normal runs are attached once they send data
            plan = json.dumps({"server": ns.server_ip, "client": ns.client_ip, "connections": connections,
                               "burst": BURST, "udp": dict(UDP, bind=udp_port)})
            client = ns.run(ns.client_ns, programs["client"], "client", plan, cgroup=cgroups["client"])
            out = client.stdout.readline()
            done = json.loads(out) if out else [{}]
            burst_retrans = done.pop().get("burst_retrans")
            checks.check(len(done) == len(connections), f"the client made its {len(connections)} connections")
            time.sleep(2.5)  # two more reads of the table
            client.communicate(timeout=10)
        finally:
            for peer in (server, probe_server):
                peer.kill()
                peer.wait()
            # per connection the server's side's retransmits, as the kernel counted them
            server_retrans = {line["port"]: line["retrans"] for line in map(json.loads, server.stdout)}
            plugin.send_signal(2)
            _, errors = plugin.communicate(timeout=20)
            for run, run_reader in ((charts, chart_reader), (bare_charts, bare_reader)):
                run.stdin.close()  # the agent is gone
                run.wait(timeout=20)
                run_reader.join(timeout=5)
        reader.thread.join(timeout=5)
        checks.check(plugin.returncode == 0, f"plugin exits 0 at SIGINT (stderr: {errors.strip()[-300:]!r})")
        with open(sink) as f:
            sunk = [json.loads(line) for line in f]
    journaled = journal_records(ns, charts.pid, len(mine(sunk, ns)))
    if journald:
        journald.terminate()
        journald.wait(timeout=5)

    records = mine(reader.snapshot(), ns)
    checks.check(all(d["answer_bytes"] == c["answer"] for c, d in zip(connections, done)),
                 "the client got every answer whole")
    used = set()
    for i, (c, d) in enumerate(zip(connections, done)):
        client_port = str(d["port"]) if c.get("bind") else "*"
        sides = split_sides(records, ns, c, d)
        for r in sides["client"] + sides["server"]:
            used.add(id(r))
        family = "IPv6" if "server" in c else "IPv4"
        label = f"connection {i} ({family}, port {c['port']}, client port {client_port}, " \
                f"{c['request']} B out, {c['answer']} B back{', dropped 1 s' if c.get('drop') else ''})"
        if c["port"] == 5002:
            checks.check(not sides["client"], f"{label}: client side left out by the filter '{FILTER}'")
        else:
            # retransmits as the kernel counted them (TCP_INFO; under emulation a slow ACK can cause one)
            want = {"bytes_read": c["answer"], "bytes_written": c["request"], "tcp_established": 1, "tcp_closed": 1,
                    "retransmits": d["retrans"]}
            check_side(checks, f"client {label}", sides["client"], want, d["exchange_us"], client.pid,
                       want_owner["client"], family)
            if c.get("drop"):
                checks.check(d["retrans"] > 0, f"client {label}: the kernel retransmitted {d['retrans']} segments")
        want = {"bytes_read": c["request"], "bytes_written": c["answer"], "tcp_established": 1, "tcp_closed": 1,
                "retransmits": server_retrans.get(d["port"])}
        check_side(checks, f"server {label}", sides["server"], want, d["exchange_us"], server.pid,
                   want_owner["server"], family)
    sunk = mine(sunk, ns)
    by_side, sunk_by_side = side_sums(records, ns, connections, done), side_sums(sunk, ns, connections, done)
    checks.check(bool(sunk) and sunk_by_side == by_side and len(sunk) >= len(by_side),
                 f"plugin with a records.conf file sink: {len(sunk)} netflow records in the file, with the same "
                 f"sums per connection and side as --records flows")
    checks.check(journaled and side_sums(journaled, ns, connections, done) == by_side,
                 f"plugin with a records.conf journal sink: journalctl -o json reads back {len(journaled)} netflow "
                 f"records with the same sums per connection and side as --records flows")
    verdict = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "protocol-check.py")],
                             input="".join(chart_lines), capture_output=True, text=True)
    checks.check(verdict.returncode == 0 and chart_lines, "the normal run's output, flow charts included, passes "
                 f"tools/protocol-check.py ({(verdict.stderr or verdict.stdout).strip()[:200]})")
    connection_ports = {d["port"] for d in done}
    burst = check_burst(checks, records, ns, {
        "client": burst_retrans,
        "server": sum(n for port, n in server_retrans.items() if port not in connection_ports)})
    used.update(id(r) for r in burst)
    udp = [r for r in records if r["transport"] == "udp"]
    used.update(id(r) for r in udp)
    sent = sum(UDP["sizes"])
    want = {"bytes_read": 2 * sent, "bytes_written": sent, "retransmits": 0, "tcp_established": 0, "tcp_closed": 0}
    shape = {(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["direction"], r["pid"]) for r in udp}
    want_shape = {(ns.client_ip, str(udp_port), ns.server_ip, str(UDP["port"]), "outgoing", str(client.pid))}
    if path != "tracepoint":  # trampolines hook tcp_sendmsg and tcp_recvmsg: TCP only
        want = {k: 0 for k in want}
        want_shape = set()
    checks.check(sums(udp) == want and shape == want_shape,
                 f"connected UDP: {len(udp)} records sum to {sums(udp)} on {sorted(shape)}; the unconnected "
                 f"server's socket is left out" + ("" if sums(udp) == want and shape == want_shape
                                                    else f"; want {want} on {want_shape}"))
    # per side, the retransmits the records counted (checked against the kernel's above)
    retransmits = {side: sums([r for r in records if r["src_ip"] in ips])["retransmits"]
                   for side, ips in (("client", (ns.client_ip, ns.client_ip6)), ("server", (ns.server_ip, ns.server_ip6)))}
    check_charts(checks, chart_lines, connections, tag, retransmits, path)
    check_charts(checks, bare_lines, connections, tag, retransmits, path,
                 "charts with network connections = yes and no records sink")
    others = [r for r in records if id(r) not in used]
    checks.check(not others, f"no other record for the namespaces' addresses ({len(others)}: {others[:2]})")
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
