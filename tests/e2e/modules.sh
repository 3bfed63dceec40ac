# Checks of the modules beyond the workload's counters, sourced by tests/e2e/run.sh
# (uses its check/ok/not_ok/note, nd_api and $TMP, $ND_WORKDIR).
# shellcheck shell=bash

# One line in the agent's error.log says how each module runs, or why it cannot here:
# "<module>: attached with <path>", "<module>: no attach path works on this kernel; ..."
# or "module '<module>' is not implemented by this plugin".
module_line() {
    grep -E "^[0-9-]{10} [0-9:]{8}: ebpf\.plugin (ERROR|INFO ) : MAIN : ($1: (attached with|no attach path works)|module '$1' is not implemented)" \
        "$ND_WORKDIR/log/error.log"
}
check_module_lines() {
    local module lines
    for module in "$@"; do
        lines="$(module_line "$module")"
        check "$module: one line says how it runs or why not (${lines#*: MAIN : })" [ "$(grep -c . <<< "$lines")" = 1 ]
    done
}

# disk: a loop device over a file of ours; its chart appears with its first I/O, from 0.
# The device number may have served another loop device before, in the plugin's tables: its
# requests are read from the agent since it was attached (DISK_SINCE).
LOOP_DEVICE=''
DISK_SINCE=''
DISK_READS=80
loop_attach() {
    if [ ! -e /dev/loop-control ] && [ ! -d /sys/module/loop ]; then
        note "disk: this kernel has no loop devices; no disk I/O of ours to check"
        return 1
    fi
    if ! truncate -s 16M "$TMP/disk.img" || ! LOOP_DEVICE="$(losetup -f --show "$TMP/disk.img")"; then
        not_ok "losetup over a 16 MiB file"
        LOOP_DEVICE=''
        return 1
    fi
    command -v udevadm >/dev/null && udevadm settle 2>/dev/null   # udev's probes of the new device
    DISK_SINCE=$(($(date +%s) + 1))
    while [ "$(date +%s)" -lt "$DISK_SINCE" ]; do sleep 0.1; done
}
loop_detach() { [ -z "$LOOP_DEVICE" ] || losetup -d "$LOOP_DEVICE"; LOOP_DEVICE=''; }
loop_requests() {   # completed reads, writes, discards and flushes (/sys/block/<dev>/stat)
    awk '{ print $1 + $5 + ($12 == "" ? 0 : $12) + ($16 == "" ? 0 : $16) }' "/sys/block/${LOOP_DEVICE##*/}/stat"
}
# Makes DISK_READS O_DIRECT reads of 4 KiB, one request each. Reads only: where udev runs,
# closing a block device written to makes it probe the device (more reads).
loop_io() {
    local before after
    before="$(loop_requests)"
    dd if="$LOOP_DEVICE" of=/dev/null bs=4096 count="$DISK_READS" iflag=direct status=none
    after="$(loop_requests)"
    check "the kernel completed $((after - before)) requests on $LOOP_DEVICE (expected $DISK_READS)" \
        [ $((after - before)) = "$DISK_READS" ]
}

# hardirq, softirq: time spent per IRQ or vector cannot be caused exactly. The plugin sends
# nanoseconds so far, the agent stores milliseconds per second: every stored value lies between
# 0 (the total never went back) and 1000 x CPUs, and the busiest dimension named grew.
check_latency_chart() {
    local chart="$1" since="$2" busiest="$3" limit summary
    limit=$((1000 * $(nproc)))
    summary="$(nd_api "/api/v1/data?chart=$chart&after=$since&format=json&options=seconds" 2>/dev/null |
        jq -r --arg d "$busiest" '(.labels | index($d)) as $i
            | [.data[][1:][] | select(. != null)] as $v
            | "\(.data | length) \(.labels | length - 1) \($v | min // "none") \($v | max // "none") \(if $i == null then "missing" else ([.data[][$i] // 0] | add) end)"')"
    local points dimensions low high grown
    read -r points dimensions low high grown <<< "${summary:-0 0 none none missing}"
    check "$chart: $points points of $dimensions dimensions within 0 and $limit ms/s (min $low, max $high)" \
        awk -v n="$points" -v lo="$low" -v hi="$high" -v limit="$limit" \
            'BEGIN { exit !(n > 0 && lo != "none" && lo >= 0 && hi <= limit) }'
    [ -z "$busiest" ] ||
        check "$chart: $busiest grew ($grown ms)" awk -v g="$grown" 'BEGIN { exit !(g != "missing" && g > 0) }'
}

# oomkill: the syscall workload runs out of memory once in each of its cgroups, limited as
# tests/live/syscall_test.py limits them (its MemoryLimit and OOM_WORKLOAD). Prints
# "<run> <exit status> <how it was limited>" per run, "<run> none <why>" where none can be.
run_oom_workloads() {   # <cgroup v2 root> <run>:<cgroup directory>...
    python3 - "$ROOT/tests/live" "$BUILD/cgroup-spawn" "$SYSCALL_WORKLOAD" "$RANDOM_ID" "$@" <<'PY'
import subprocess, sys
sys.path.insert(0, sys.argv[1])
from syscall_test import MemoryLimit, OOM_WORKLOAD
spawn, workload, tag, root = sys.argv[2:6]
for arg in sys.argv[6:]:
    run, directory = arg.split(":", 1)
    try:
        limit = MemoryLimit(root, directory, tag)
    except OSError as error:
        print(run, "none", error)
        continue
    try:
        done = subprocess.run([spawn, directory, workload] + OOM_WORKLOAD[run], capture_output=True,
                              preexec_fn=limit.enter)
    finally:
        limit.remove()
    print(run, done.returncode, limit.kind, " ".join(OOM_WORKLOAD[run]))
PY
}
