#!/usr/bin/env python3
"""Live test of the network viewer (`network connections = yes`): the real plugin
and kernel, TCP connections from a client network namespace to four addresses
of a server namespace (a veth pair; tests/live/flows_peer.py runs both ends).

network.conf: `maximum dimensions = 3` (two destinations and `other`),
`ports = 5001` (the connections to 5002 are left out, both sides), `ips` the
test's own /24 (nobody else's traffic), `[service name] 5001 = nvweb`.
Per destination: ebpf.outbound_bytes is exactly the bytes each way, summed over
its connections; ebpf.outbound_packets exactly the client's sends and its
receives that returned bytes (it counts them); the first two destinations have
dimensions of their own ("nvweb:TCP:<address>_sent"...), the other two are
exactly `other`; ebpf.outbound_retransmit sums to the client namespace's own
TcpRetransSegs (one connection's acknowledgements are dropped by nftables for a
second), on that connection's destination alone; ebpf.inbound_bytes and
inbound_packets ("nvweb:TCP") are the server's side: the bytes each way exactly
and one send per connection. The output passes tools/protocol-check.py. A second
run with Debian's stock network.conf, unchanged, logs no line about it and
shows a destination of the test's with its exact bytes. A third, in a mount
namespace with its own /etc/hosts and /etc/services, `resolve hostnames` and
`resolve service names` on and `hostnames = *.nvtest !hidden.nvtest`, names a
destination by its host and service names, one without a name by its address,
and leaves the hidden one out (not in `other` either).

usage: netview_test.py [--build DIR]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, finish  # noqa: E402
from flows_test import ALL_MODULES, PEER, last_values  # noqa: E402
from netns import Namespaces  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PORT, LEFT_OUT_PORT = 5001, 5002
MODULES = ("netview",)  # what the kernel matrix reports of this suite


class ViewerChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "network viewer: " + text)


def retransmits(ns):
    """The namespace's TcpRetransSegs."""
    text = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"], capture_output=True, text=True,
                          check=True).stdout
    tcp = [line.split() for line in text.splitlines() if line.startswith("Tcp:")]
    return int(tcp[1][tcp[0].index("RetransSegs")])


def plan(ns, addresses):
    """Connections to each address in turn, a pause between the first ones so they arrive in order."""
    connections = []
    for i, address in enumerate(addresses):
        for j in range(2 if i == 0 else 1):
            c = {"server": address, "port": PORT, "request": 1000 + 1111 * i + 7 * j,
                 "answer": 30000 + 2222 * i + 5 * j}
            if i == 0 and j == 1:
                c["drop"] = 1.0  # a small request: each retransmit one segment, as TcpRetransSegs counts
            connections.append(c)
        connections[-1]["pause"] = 1.5 if i < 2 else 0
    connections.append({"server": addresses[0], "port": LEFT_OUT_PORT, "request": 500, "answer": 600})
    return connections


def start_plugin(build, user, env, etc=None):
    """etc: files bind-mounted over /etc/<name> in a mount namespace of the plugin's own."""
    command = [os.path.join(build, "ebpf.plugin"), "1"]
    if etc:
        mounts = "".join(f'mount --bind "{path}" /etc/{name} && ' for name, path in etc.items())
        command = ["unshare", "-m", "--propagation", "private", "sh", "-c", mounts + 'exec "$0" "$@"', *command]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(env, NETDATA_USER_CONFIG_DIR=user))
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    return proc, lines, reader


def stop_plugin(proc, reader):
    proc.stdin.close()  # the agent is gone
    proc.wait(timeout=20)
    reader.join(timeout=5)
    return proc.stderr.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = ViewerChecks()
    with tempfile.TemporaryDirectory() as tmp, Namespaces("flows", extra_server_ips=3, peer=PEER) as ns:
        net = ns.server_ip.rsplit(".", 1)[0]
        addresses = [ns.server_ip, *ns.extra_server_ips]
        modules = "".join(f"    {m} = {'yes' if m == 'sync' else 'no'}\n" for m in ALL_MODULES)
        programs = "[ebpf programs]\n" + modules + "    network connections = yes\n"
        user, stock = os.path.join(tmp, "user"), os.path.join(tmp, "stock")
        write(os.path.join(user, "ebpf.d.conf"), programs)
        write(os.path.join(user, "ebpf.d", "network.conf"),
              "[network connections]\n    maximum dimensions = 3\n"
              f"    ports = {PORT}\n    ips = {net}.0/24\n[service name]\n    {PORT} = nvweb\n")
        write(os.path.join(stock, "ebpf.d.conf"), programs)  # network.conf: Debian's, from the stock dir
        # host and service names from files of the test's (no DNS)
        names = os.path.join(tmp, "names")
        write(os.path.join(names, "ebpf.d.conf"), programs)
        write(os.path.join(names, "ebpf.d", "network.conf"),
              f"[network connections]\n    ports = {PORT}\n    ips = {net}.0/24\n    resolve hostnames = yes\n"
              "    resolve service names = yes\n    hostnames = *.nvtest !hidden.nvtest\n")
        etc = {"hosts": os.path.join(tmp, "hosts"), "nsswitch.conf": os.path.join(tmp, "nsswitch.conf"),
               "services": os.path.join(tmp, "services")}
        write(etc["hosts"], f"{addresses[0]} one.nvtest\n{addresses[1]} hidden.nvtest\n")
        write(etc["nsswitch.conf"], "hosts: files\nservices: files\n")
        write(etc["services"], f"nvsvc {PORT}/tcp\n")
        env = dict(os.environ, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        runs = {name: start_plugin(args.build, path, env) for name, path in (("own", user), ("stock", stock))}
        runs["names"] = start_plugin(args.build, names, env, etc)
        server = ns.run(ns.server_ns, sys.executable, "server", "::", str(PORT), str(LEFT_OUT_PORT))
        try:
            checks.check(server.stdout.readline().strip() == "listening", "the server listens in its namespace")
            deadline = time.monotonic() + 30
            attached = False
            while time.monotonic() < deadline and not attached:
                time.sleep(0.2)  # attached once they send the viewer's charts
                attached = all(any(line.startswith("BEGIN ebpf.outbound_bytes") for line in lines)
                               for _, lines, _ in runs.values())
            if not attached:
                raise TimeoutError("no viewer charts")
            retransmits_before = retransmits(ns.client_ns)
            connections = plan(ns, addresses)
            client = ns.run(ns.client_ns, sys.executable, "client",
                            json.dumps({"server": ns.server_ip, "client": ns.client_ip, "connections": connections}))
            out = client.stdout.readline()
            done = json.loads(out) if out else []
            checks.check(len(done) == len(connections) and
                         all(d["answer_bytes"] == c["answer"] for c, d in zip(connections, done)),
                         f"the client made its {len(connections)} connections and got every answer whole")
            client_retransmits = retransmits(ns.client_ns) - retransmits_before
            time.sleep(2.5)  # two more reads of the table
            client.communicate(timeout=10)
        except TimeoutError:
            pass
        finally:
            server.kill()
            server.wait()
            errors = {name: stop_plugin(proc, reader) for name, (proc, _, reader) in runs.items()}
    if not attached:
        if "no flow charts" in errors["own"]:  # the flows need Linux 6.3+ (or trampolines)
            print("skip - network viewer: the flows cannot run on this kernel: "
                  + next(line for line in errors["own"].splitlines() if "no flow charts" in line))
            return finish(checks, args.results, MODULES, labels={"netview": "skip"})
        checks.check(False, f"the plugins send the viewer's charts within 30 s ({errors['own'].strip()[-300:]!r})")
        return finish(checks, args.results, MODULES)

    last, _ = last_values(runs["own"][1])
    outbound = {}  # address -> [sent, received, sends, receives, retransmits]
    for c, d in zip(connections, done):
        if c["port"] == PORT:
            totals = outbound.setdefault(c["server"], [0, 0, 0, 0])
            for k, v in enumerate((c["request"], c["answer"], 1, d["receives"])):
                totals[k] += v
    drop_address = next(c["server"] for c in connections if c.get("drop"))

    def dims(address):
        stem = f"nvweb_TCP_{address}"
        return [("ebpf.outbound_bytes", stem + "_sent"), ("ebpf.outbound_bytes", stem + "_recv"),
                ("ebpf.outbound_packets", stem + "_sent"), ("ebpf.outbound_packets", stem + "_recv"),
                ("ebpf.outbound_retransmit", stem)]
    other = [("ebpf.outbound_bytes", "other_ALL_other_sent"), ("ebpf.outbound_bytes", "other_ALL_other_recv"),
             ("ebpf.outbound_packets", "other_ALL_other_sent"), ("ebpf.outbound_packets", "other_ALL_other_recv"),
             ("ebpf.outbound_retransmit", "other_ALL_other")]
    named = [a for a in addresses if dims(a)[0] in last]
    checks.check(named == addresses[:2], f"maximum dimensions = 3: the first two destinations have dimensions "
                 f"of their own ({named}), the later ones none")
    for address in named:
        got = [last.get(key) for key in dims(address)[:4]]
        checks.check(got == outbound[address], f"{address}:{PORT}: bytes sent and received, sends, receives "
                     f"{got}" + ("" if got == outbound[address] else f", want {outbound[address]}"))
    rest = [a for a in addresses if a not in named]
    want = [sum(outbound[a][k] for a in rest) for k in range(4)]
    got = [last.get(key) for key in other[:4]]
    checks.check(got == want, f"other: the sums of {rest} exactly: {got}" + ("" if got == want else f", want {want}"))
    charted = {a: last.get(dims(a)[4], 0) for a in named}
    charted["other"] = last.get(other[4], 0)
    checks.check(sum(charted.values()) == client_retransmits and charted.get(drop_address, 0) > 0,
                 f"retransmits {charted}: the client namespace's {client_retransmits} (TcpRetransSegs), on the "
                 f"dropped connection's destination {drop_address}")
    unknown = sorted({(chart, dim) for chart, dim in last if chart.startswith("ebpf.")} -
                     {key for a in named for key in dims(a)} - set(other) -
                     {(f"ebpf.inbound_{kind}", f"{stem}_{way}") for kind in ("bytes", "packets")
                      for stem in ("nvweb_TCP", "other_ALL") for way in ("sent", "recv")})
    checks.check(not unknown, f"ports = {PORT}: no dimension for port {LEFT_OUT_PORT} or anything else ({unknown})")
    served = [c for c in connections if c["port"] == PORT]
    want = [sum(c["answer"] for c in served), sum(c["request"] for c in served), len(served), 0, 0, 0]
    got = [last.get(key) for key in (("ebpf.inbound_bytes", "nvweb_TCP_sent"), ("ebpf.inbound_bytes", "nvweb_TCP_recv"),
                                     ("ebpf.inbound_packets", "nvweb_TCP_sent"), ("ebpf.inbound_bytes", "other_ALL_sent"),
                                     ("ebpf.inbound_bytes", "other_ALL_recv"), ("ebpf.inbound_packets", "other_ALL_sent"))]
    checks.check(got == want, f"inbound on port {PORT} ('[service name] {PORT} = nvweb'): bytes sent and received, "
                 f"sends; other: none {got}" + ("" if got == want else f", want {want}"))
    receives = last.get(("ebpf.inbound_packets", "nvweb_TCP_recv"), 0)
    checks.check(len(served) <= receives <= sum(c["request"] for c in served),
                 f"inbound receives: {receives}, at least one per connection")
    verdict = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "protocol-check.py")],
                             input="".join(runs["own"][1]), capture_output=True, text=True)
    checks.check(verdict.returncode == 0, "the output passes tools/protocol-check.py "
                 f"({(verdict.stderr or verdict.stdout).strip()[:200]})")
    checks.check(not any(word in errors["own"] for word in ("network.conf", "not implemented", "DISABLE")),
                 f"no complaint on stderr ({errors['own'].strip()[-300:]!r})")

    stock_last, _ = last_values(runs["stock"][1])
    complaints = [line for line in errors["stock"].splitlines() if "network" in line and "network viewer:" not in line
                  or "not implemented" in line]
    checks.check(not complaints, f"Debian's stock network.conf: no line about it ({complaints})")
    stem = f"{PORT}_TCP_{addresses[0]}"
    got = [stock_last.get(("ebpf.outbound_bytes", stem + way)) for way in ("_sent", "_recv")]
    checks.check(got == outbound[addresses[0]][:2], f"Debian's stock network.conf: {addresses[0]}:{PORT} "
                 f"({stem}) bytes sent and received {got}, want {outbound[addresses[0]][:2]}")

    names_last, _ = last_values(runs["names"][1])
    want = {("ebpf.outbound_bytes", f"nvsvc_TCP_{host}_{way}"): outbound[address][k]
            for address, host in ((addresses[0], "one.nvtest"), (addresses[2], addresses[2]),
                                  (addresses[3], addresses[3]))
            for k, way in enumerate(("sent", "recv"))}
    want.update({("ebpf.outbound_bytes", "other_ALL_other_sent"): 0, ("ebpf.outbound_bytes", "other_ALL_other_recv"): 0})
    got = {key: value for key, value in names_last.items() if key[0] == "ebpf.outbound_bytes"}
    checks.check(got == want, "resolve hostnames and service names (/etc/hosts, /etc/services), hostnames = "
                 "'*.nvtest !hidden.nvtest': one.nvtest by name, the unnamed by address, hidden.nvtest nowhere"
                 + ("" if got == want else f": got {got}, want {want}"))
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
