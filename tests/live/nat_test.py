#!/usr/bin/env python3
"""Live test of the netflow records' NAT tags (dst_nat_ip, dst_nat_port) from
conntrack: the real plugin (`--records flows`), kernel and nftables.

The plugin sees the conntrack of its own network namespace, so the DNAT is in
the root one: a veth joins it to a server namespace on a random 10.x/24, a
virtual IP (another random 10.x address, and an fd00::/8 one) is routed into it,
and nftables `nat output` rules rewrite VIP:80 (TCP, IPv4 and IPv6) and VIP:53
(UDP) to the server's real address and ports. A client in the root namespace
makes a TCP connection to each VIP:80, one straight to the server, and
exchanges datagrams over a connected UDP socket with VIP:53. The records of the connections to the VIP carry the
server's real address and port as NAT tags, with exactly their bytes; every
other record of the test's addresses has empty NAT tags. `--check` says
conntrack works here, and in a namespace whose conntrack events are off the
plugin says why in one line and runs on. Rules, routes, veth and namespace
are removed at the end.

usage: nat_test.py [--build DIR]
Prints one line per check and closes with "N passed, M failed".
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_output import check_flows_refused, flows_path, flows_unavailable, plugin_check_output  # noqa: E402
from common import Checks, finish  # noqa: E402
from flows_test import RecordReader, sums  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(HERE, "flows_peer.py")
NAT_PORT, DIRECT_PORT, PROBE_PORT, UDP_PORT = 5001, 5002, 5003, 5005  # the server's real ports
VIP_PORT, VIP_UDP_PORT = 80, 53
MODULES = ("nat",)  # what the kernel matrix reports of this suite


class NatChecks(Checks):
    def check(self, ok, text):
        return super().check(ok, "nat: " + text)


def sh(*args, **kwargs):
    subprocess.run(args, check=True, **kwargs)


class DnatSetup:
    """A server namespace behind a veth from the root namespace, and a VIP DNAT'd to it."""

    def __init__(self):
        tag = "%06x" % random.getrandbits(24)
        self.ns, self.root_dev, self.server_dev = "nat-s-" + tag, "nar" + tag, "nas" + tag
        self.table = "nat_test_" + tag
        net6 = "fd%02x:%x::" % (random.getrandbits(8), random.getrandbits(16))
        self.server_ip6, self.root_ip6 = net6 + "1", net6 + "2"
        self.vip6 = "fd%02x:%x::%x" % (random.getrandbits(8), random.getrandbits(16), random.randint(1, 0xfffe))
        net = "10.%d.%d" % (random.randint(100, 250), random.randint(0, 255))
        self.server_ip, self.root_ip = net + ".1", net + ".2"
        self.vip = "10.%d.%d.%d" % (random.randint(100, 250), random.randint(0, 255), random.randint(1, 254))

    def __enter__(self):
        try:
            sh("ip", "netns", "add", self.ns)
            sh("ip", "link", "add", self.root_dev, "type", "veth", "peer", "name", self.server_dev)
            sh("ip", "link", "set", self.server_dev, "netns", self.ns)
            sh("ip", "-n", self.ns, "addr", "add", self.server_ip + "/24", "dev", self.server_dev)
            sh("ip", "-n", self.ns, "addr", "add", self.server_ip6 + "/64", "dev", self.server_dev, "nodad")
            sh("ip", "-n", self.ns, "link", "set", self.server_dev, "up")
            sh("ip", "-n", self.ns, "link", "set", "lo", "up")
            sh("ip", "addr", "add", self.root_ip + "/24", "dev", self.root_dev)
            sh("ip", "addr", "add", self.root_ip6 + "/64", "dev", self.root_dev, "nodad")
            sh("ip", "link", "set", self.root_dev, "up")
            sh("ip", "route", "add", self.vip + "/32", "via", self.server_ip, "dev", self.root_dev)
            sh("ip", "-6", "route", "add", self.vip6 + "/128", "via", self.server_ip6, "dev", self.root_dev)
            sh("nft", "-f", "-", text=True, input=(
                f"table ip {self.table} {{\n chain output {{\n type nat hook output priority -100;\n"
                f" ip daddr {self.vip} tcp dport {VIP_PORT} dnat to {self.server_ip}:{NAT_PORT}\n"
                f" ip daddr {self.vip} udp dport {VIP_UDP_PORT} dnat to {self.server_ip}:{UDP_PORT}\n }}\n}}\n"
                f"table ip6 {self.table} {{\n chain output {{\n type nat hook output priority -100;\n"
                f" ip6 daddr {self.vip6} tcp dport {VIP_PORT} dnat to [{self.server_ip6}]:{NAT_PORT}\n }}\n}}\n"))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        # the route and the root end's address go with the veth, which goes with the namespace
        for command in (["nft", "delete", "table", "ip", self.table], ["nft", "delete", "table", "ip6", self.table],
                        ["ip", "link", "del", self.root_dev],
                        ["ip", "netns", "del", self.ns]):
            subprocess.run(command, stderr=subprocess.DEVNULL)


def run_client(plan):
    """flows_peer.py's client in the root namespace; returns what it did."""
    client = subprocess.Popen([sys.executable, PEER, "client", json.dumps(plan)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    out = client.stdout.readline()
    client.communicate(timeout=10)
    return client.pid, json.loads(out) if out else []


def check_refusal(checks, build, setup, env):
    """In a namespace whose conntrack events are off: one line on stderr, and the plugin runs on."""
    sh("ip", "netns", "exec", setup.ns, "sysctl", "-qw", "net.netfilter.nf_conntrack_events=0")
    plugin = subprocess.Popen(["ip", "netns", "exec", setup.ns, os.path.join(build, "ebpf.plugin"), "--records",
                               "flows", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(3)
    running = plugin.poll() is None
    plugin.send_signal(2)
    _, errors = plugin.communicate(timeout=20)
    said = [line for line in errors.splitlines() if "NAT tags" in line]
    checks.check(running and plugin.returncode == 0 and len(said) == 1 and
                 said[0].endswith("flows: no NAT tags: conntrack events are off "
                                  "(net.netfilter.nf_conntrack_events = 0)"),
                 f"with conntrack events off: one line says so and the plugin runs on: {said}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--results", help="where the kernel matrix wants the outcome (JSON)")
    args = parser.parse_args()
    checks = NatChecks()
    unavailable = flows_unavailable(args.build)
    if unavailable:  # NAT tags name flows
        check_flows_refused(checks, args.build, unavailable,
                            dict(os.environ, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d")))
        return finish(checks, args.results, MODULES, labels={"nat": "skip"})
    check_lines = [line for line in plugin_check_output(args.build).splitlines() if line.startswith("conntrack")]
    checks.check(check_lines == ["conntrack (NAT tags): ok"], f"--check: {check_lines}")
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_low = int(f.read().split()[0])
    bind = random.randint(20000, ephemeral_low - 100) if ephemeral_low > 20100 else 1100
    with tempfile.TemporaryDirectory() as user, DnatSetup() as setup:
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=user, NETDATA_STOCK_CONFIG_DIR=os.path.join(ROOT, "conf.d"))
        plugin = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "--records", "flows", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        reader = RecordReader(plugin)
        server = subprocess.Popen(["ip", "netns", "exec", setup.ns, sys.executable, PEER, "server", "::",
                                   f"udp={UDP_PORT}", str(NAT_PORT), str(DIRECT_PORT), str(PROBE_PORT)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            checks.check(server.stdout.readline().strip() == "listening", "the server listens in its namespace")
            probe = {"server": setup.server_ip, "client": setup.root_ip,
                     "connections": [{"port": PROBE_PORT, "request": 100, "answer": 100}]}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and plugin.poll() is None and not any(
                    r.get("dst_port") == str(PROBE_PORT) and r["src_ip"] == setup.root_ip for r in reader.snapshot()):
                run_client(probe)
                time.sleep(1.2)
            connections = [
                {"port": VIP_PORT, "bind": bind, "request": 12345, "answer": 54321},
                {"server": setup.server_ip, "port": DIRECT_PORT, "bind": bind + 1, "request": 2345, "answer": 5432},
                {"server": setup.vip6, "client": setup.root_ip6, "port": VIP_PORT, "bind": bind + 3, "request": 4567,
                 "answer": 7654},
            ]
            udp = {"port": VIP_UDP_PORT, "bind": bind + 2, "sizes": [100, 300]}
            pid, done = run_client({"server": setup.vip, "client": setup.root_ip, "connections": connections,
                                    "udp": udp})
            checks.check([d["answer_bytes"] for d in done] == [54321, 5432, 7654],
                         f"the client made its connections through the DNAT and straight: {done}")
            time.sleep(2.5)  # two more reads of the table
            check_refusal(checks, args.build, setup, env)
        finally:
            server.kill()
            server.wait()
            plugin.send_signal(2)
            _, errors = plugin.communicate(timeout=20)
            reader.thread.join(timeout=5)
    checks.check(plugin.returncode == 0 and "flows: NAT tags from conntrack's events" in errors,
                 f"the plugin said it reads conntrack and exits 0 at SIGINT (stderr: {errors.strip()[-300:]!r})")

    own = {setup.root_ip, setup.vip, setup.root_ip6, setup.vip6}
    records = [r for r in reader.snapshot() if (r["src_ip"] in own or r["dst_ip"] in own)
               and str(PROBE_PORT) not in (r["src_port"], r["dst_port"])]

    def side(transport, src_port, dst_ip, dst_port):
        return [r for r in records if r["transport"] == transport and r["src_ip"] in (setup.root_ip, setup.root_ip6) and
                r["src_port"] == str(src_port) and r["dst_ip"] == dst_ip and r["dst_port"] == str(dst_port)]

    nat_tcp = side("tcp", bind, setup.vip, VIP_PORT)
    direct = side("tcp", bind + 1, setup.server_ip, DIRECT_PORT)
    nat_udp = side("udp", bind + 2, setup.vip, VIP_UDP_PORT)
    nat_tcp6 = side("tcp", bind + 3, setup.vip6, VIP_PORT)
    tags = lambda found: sorted({(r["dst_nat_ip"], r["dst_nat_port"]) for r in found})  # noqa: E731
    # the kernel's own retransmit counts (TCP_INFO): under emulation a slow ACK can cause one
    retrans = [d["retrans"] for d in done]
    # UDP is counted on the tracepoint path only (trampolines hook tcp_sendmsg and tcp_recvmsg)
    udp_counted = flows_path(args.build) == "tracepoint"
    for name, found, want, want_tags in (
            (f"TCP to {setup.vip}:{VIP_PORT}", nat_tcp,
             {"bytes_read": 54321, "bytes_written": 12345, "retransmits": retrans[0], "tcp_established": 1,
              "tcp_closed": 1},
             [(setup.server_ip, str(NAT_PORT))]),
            (f"TCP straight to {setup.server_ip}:{DIRECT_PORT}", direct,
             {"bytes_read": 5432, "bytes_written": 2345, "retransmits": retrans[1], "tcp_established": 1,
              "tcp_closed": 1},
             [("", "")]),
            (f"UDP to {setup.vip}:{VIP_UDP_PORT}", nat_udp,
             {"bytes_read": 800, "bytes_written": 400, "retransmits": 0, "tcp_established": 0, "tcp_closed": 0},
             [(setup.server_ip, str(UDP_PORT))]),
            (f"TCP to [{setup.vip6}]:{VIP_PORT}", nat_tcp6,
             {"bytes_read": 7654, "bytes_written": 4567, "retransmits": retrans[2], "tcp_established": 1,
              "tcp_closed": 1},
             [(setup.server_ip6, str(NAT_PORT))])):
        if found is nat_udp and not udp_counted:
            checks.check(not found, f"client {name}: no record on the trampoline path, which counts TCP only "
                         f"({len(found)} records)")
            continue
        got = sums(found)
        checks.check(bool(found) and got == want and tags(found) == want_tags,
                     f"client {name}: {len(found)} records sum to {got}, NAT tags {tags(found)}" +
                     ("" if got == want and tags(found) == want_tags else f"; want {want}, {want_tags}"))
    others = [r for r in records if r not in nat_tcp + nat_udp + nat_tcp6]
    checks.check(bool(others) and tags(others) == [("", "")],
                 f"the other {len(others)} records of the test's addresses (the server's sides, the direct "
                 f"connection) have empty NAT tags: {tags(others)}")
    owners = {(r["pid"], r["direction"]) for r in nat_tcp + nat_udp + nat_tcp6 + direct}
    checks.check(owners == {(str(pid), "outgoing")}, f"the client's records: pid and direction {sorted(owners)}")
    return finish(checks, args.results, MODULES)


if __name__ == "__main__":
    sys.exit(main())
