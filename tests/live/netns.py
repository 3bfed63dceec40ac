"""Network namespaces for the live tests: a server and a client namespace joined by a veth pair."""

import os
import random
import shutil
import subprocess
import tempfile


def sh(*args):
    subprocess.run(args, check=True)


class Namespaces:
    """Server and client namespaces joined by a veth pair, on a random 10.x/24 and fdXX::/64: the
    server is .1 and ::1, the client .2 and ::2, and `extra_server_ips` more server addresses are .3,
    .4, ... Namespaces and devices are named after `prefix` and `tag` (random when not given).
    run() starts `program peer *args` (`peer`: the test's peer script) or `program *args` with peer=False."""

    def __init__(self, prefix, tag=None, extra_server_ips=0, peer=None, stderr=None):
        tag = tag or "%06x" % random.getrandbits(24)
        self.server_ns, self.client_ns = f"{prefix}-s-{tag}", f"{prefix}-c-{tag}"
        net = "10.%d.%d" % (random.randint(100, 250), random.randint(0, 255))
        self.server_ip, self.client_ip = net + ".1", net + ".2"
        self.extra_server_ips = [f"{net}.{i}" for i in range(3, 3 + extra_server_ips)]
        net6 = "fd%02x:%x::" % (random.getrandbits(8), random.getrandbits(16))
        self.server_ip6, self.client_ip6 = net6 + "1", net6 + "2"
        self.server_dev, self.client_dev = prefix[:2] + "s" + tag, prefix[:2] + "c" + tag
        self.resolv = None  # the client's resolv.conf (resolve_with)
        self.peer, self.stderr = peer, stderr

    def __enter__(self):
        sh("ip", "netns", "add", self.server_ns)
        sh("ip", "netns", "add", self.client_ns)
        sh("ip", "link", "add", self.server_dev, "type", "veth", "peer", "name", self.client_dev)
        for ns, dev, ips, ip6 in ((self.server_ns, self.server_dev, [self.server_ip, *self.extra_server_ips],
                                   self.server_ip6),
                                  (self.client_ns, self.client_dev, [self.client_ip], self.client_ip6)):
            sh("ip", "link", "set", dev, "netns", ns)
            for ip in ips:
                sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", ip6 + "/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        return self

    def resolve_with(self, server):
        """The resolver of the client namespace's next programs: a resolv.conf of ours, bound over
        /etc/resolv.conf in a mount namespace of their own (not /etc/netns/<ns>, which `ip netns exec`
        would mount: /etc is read-only in the kernel matrix's guests)."""
        if not self.resolv:
            self.resolv = os.path.join(tempfile.mkdtemp(prefix="netns-resolv-"), "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {server}\noptions timeout:1 attempts:1\n")

    def __exit__(self, *exc):
        for ns in (self.server_ns, self.client_ns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if self.resolv:
            shutil.rmtree(os.path.dirname(self.resolv), ignore_errors=True)

    def run(self, ns, program, *args, cgroup=None, peer=True):
        """program: a link to python named as the process should be (its comm), or any program with peer=False."""
        def enter_cgroup():
            if cgroup:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
                    procs.write(str(os.getpid()))
        command = ["ip", "netns", "exec", ns,
                   *([program, self.peer, *args] if peer and self.peer else [program, *args])]
        if ns == self.client_ns and self.resolv:
            # each step execs the next: the program keeps the pid Popen gives
            command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                       'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv, *command]
        return subprocess.Popen(command, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=self.stderr, text=True, preexec_fn=enter_cgroup)
