#!/usr/bin/env bash
# Soak: the plugin under fork and open storms for a while (default 300 s).
# Checks that its output stays valid plugins.d protocol, that it keeps running,
# and that its memory and pid tables do not grow. Needs root and `make all`.
# usage: tools/soak.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${1:-300}
WORK=$(mktemp -d /tmp/ebpf-soak.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/etc"
printf '[global]\n update every = 1\n apps = yes\n cgroups = yes\n ebpf load mode = return\n[ebpf programs]\n process = yes\n fd = yes\n' \
    > "$WORK/etc/ebpf.d.conf"
cp /usr/lib/netdata/conf.d/apps_groups.conf "$WORK/etc/"

# stdin stays open through the fifo until we close it
mkfifo "$WORK/stdin"
NETDATA_USER_CONFIG_DIR="$WORK/etc" "$ROOT/build/ebpf.plugin" 1 < "$WORK/stdin" > "$WORK/out" 2> "$WORK/err" &
PLUGIN=$!
exec 3> "$WORK/stdin"
sleep 3

# storms: each loop forks, starts threads and opens files as fast as it can
for _ in 1 2; do
    ( while :; do "$ROOT/build/ebpf-workload" --forks 50 --threads 20 --opens 500 --failed-opens 50 \
          --failed-closes 10 > /dev/null; done ) &
    PIDS+=($!)
done
( while :; do /bin/true; done ) &
PIDS+=($!)

echo "seconds rss_kib pid_entries_process pid_entries_fd"
start=$(date +%s)
while [ $(( $(date +%s) - start )) -lt "$DURATION" ]; do
    sleep 10
    kill -0 "$PLUGIN" || { echo "plugin died"; cat "$WORK/err"; exit 1; }
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PLUGIN/status")
    entries=$(awk '/^BEGIN netdata.ebpf_pid_table/ {c=1; next} c && /^SET process/ {p=$4} c && /^SET fd/ {f=$4} /^END/ {c=0} END {print p, f}' "$WORK/out")
    echo "$(( $(date +%s) - start )) $rss $entries"
done | tee "$WORK/samples"

for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
exec 3>&-
wait "$PLUGIN"; status=$?
python3 "$ROOT/tools/protocol-check.py" < "$WORK/out"
echo "plugin exit status: $status; stderr lines: $(wc -l < "$WORK/err")"
# growth: compare the second sample (warm) with the last
awk 'NR==3 {first=$2} {last=$2} END {printf "rss: %d KiB after warm-up, %d KiB at the end (%+d KiB)\n", first, last, last-first}' "$WORK/samples"
