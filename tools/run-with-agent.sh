#!/usr/bin/env bash
# One command to see the plugin at work: installs what building and running
# need (not the test toolchain), builds, and runs build/ebpf.plugin under a
# private Debian Netdata agent on 127.0.0.1 until Ctrl-C. The agent runs no
# other collector, so its dashboard shows the plugin's charts only. Nothing of
# the system's own Netdata is touched. Needs root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

"$ROOT/tools/install-deps.sh" run
make -C "$ROOT" all
# shellcheck source=../tests/lib/netdata-agent.sh
. "$ROOT/tests/lib/netdata-agent.sh"

WORK=$(mktemp -d /tmp/ebpf-plugin-run.XXXXXX)
# The agent stops its plugin; only what outlives that is a leftover.
cleanup() { nd_stop; nd_stop_leftovers; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$WORK/plugins" "$WORK/etc"
install -m 4750 "$ROOT/build/ebpf.plugin" "$WORK/plugins/ebpf.plugin"
cat > "$WORK/etc/ebpf.d.conf" <<'CONF'
[global]
    update every = 1
    apps = yes
    cgroups = yes
    ebpf load mode = return
[ebpf programs]
    process = yes
    fd = yes
CONF
cp /usr/lib/netdata/conf.d/apps_groups.conf "$WORK/etc/apps_groups.conf"

ND_HOSTNAME="$(hostname)" nd_start "$WORK/agent" "$WORK/plugins" "$WORK/etc"
nd_wait_chart system.process_thread 60 || { tail -20 "$ND_WORKDIR/log/error.log" >&2; exit 1; }
echo "ebpf.plugin is running under a private Netdata $(netdata -v 2>/dev/null | awk '{print $2}') named $(hostname)"
echo "  (it runs no other collector: its dashboard shows only the plugin's charts)"
echo "  dashboard: http://127.0.0.1:$ND_PORT/#menu_system_submenu_processes"
echo "  charts:    http://127.0.0.1:$ND_PORT/api/v1/charts"
echo "  plugin log: $ND_WORKDIR/log/error.log"
echo "Ctrl-C stops the agent and the plugin."
while nd_running; do sleep 1; done
