#!/bin/sh
# Live suite on the running kernel (the kernel matrix adds forced attach paths
# and guest kernels): auto mode in return and entry mode, shared tables, a pid
# table too small for the host, deep short-lived process trees grouped exactly,
# per-module load mode and update every, the sync, mount, shm and oomkill
# modules (syscall_test.py) in both modes, the cost charts and resource limits
# (self_test.py), a setuid start by an unprivileged user, how it stops, ticks
# and logs (stop_test.py), and what --version, --check, --verify and
# tools/check-kernel-config.sh tell a user; the table modules (hardirq,
# softirq, disk, filesystem) against interrupts, a loop device and ext4 it
# makes (latency_test.py); the record stream (records_test.py) and the netflow
# records of connections between two network namespaces (flows_test.py), the
# network viewer's charts of such connections (netview_test.py) and their NAT
# tags from conntrack through a DNAT rule (nat_test.py); the httpflow records and charts
# of requests to python's http.server in a network namespace (http_test.py);
# the bash command log of an interactive bash on a pty (bash_test.py);
# the dnsflow records and DNS charts against dnsmasq in a namespace (dns_test.py); Fluent Bit's
# traces (exec, signal, bind, tcp, vfs, malloc) of a workload in its own
# cgroup, and a signal flood over the rate limit (traces_test.py).
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0 passed=0 failed=0
# --check once for every suite (tests/live/check_output.py): about 10 s each time on this host
EBPF_PLUGIN_CHECK_OUTPUT=$(mktemp)
export EBPF_PLUGIN_CHECK_OUTPUT
trap 'rm -f "$EBPF_PLUGIN_CHECK_OUTPUT"' EXIT
"$here/../../build/ebpf.plugin" --check > "$EBPF_PLUGIN_CHECK_OUTPUT" 2>/dev/null
run() {
    started=$(date +%s)
    out=$("$@") || status=1
    echo "$out"
    echo "# $(echo "$*" | sed "s|python3 ||; s|$here/||"): $(($(date +%s) - started)) s"
    counts=$(echo "$out" | tail -1)
    passed=$((passed + $(echo "$counts" | awk '{print $1}')))
    failed=$((failed + $(echo "$counts" | awk '{print $3}')))
}
run python3 "$here/live_test.py" --mode return --recreate
run python3 "$here/live_test.py" --mode entry
run python3 "$here/live_test.py" --mode return --shared-tables
run python3 "$here/live_test.py" --mode return --pid-table-size 4
run python3 "$here/live_test.py" --mode entry --tree 500
run python3 "$here/live_test.py" --mode entry --module "fd:ebpf load mode = return" --module "process:update every = 3"
run python3 "$here/cache_test.py"
run python3 "$here/syscall_test.py" --mode return
run python3 "$here/syscall_test.py" --mode entry
run python3 "$here/latency_test.py"
run python3 "$here/stop_test.py"
run python3 "$here/self_test.py"
run "$here/setuid_test.sh"
run "$here/cli_test.sh"
run python3 "$here/records_test.py"
run python3 "$here/flows_test.py"
run python3 "$here/netview_test.py"
run python3 "$here/nat_test.py"
run python3 "$here/http_test.py"
run python3 "$here/bash_test.py"
run python3 "$here/dns_test.py"
run python3 "$here/traces_test.py"
echo "$passed passed, $failed failed"
exit $status
