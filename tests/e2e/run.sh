#!/usr/bin/env bash
# End-to-end: Debian's Netdata 1.37.1 agent runs build/ebpf.plugin with every module on while
# a workload with known counts runs twice, in a plain cgroup and in a service cgroup, and the
# syscall workload (sync, mount, shm: tests/live/syscall_test.py's runs) in cgroups and an app
# group of its own; we check the values the agent stores (and the requests of a loop device),
# the charts it knows, its error log (one line per module: how it runs or why it cannot), the
# plugin's privileges, and that nothing of ours is left in the kernel afterwards. The agent
# runs its own cgroups.plugin, so the plugin names cgroups and services from the agent's
# shared list, as written by 1.37.1. Then a second agent with the network viewer on takes its
# per-destination dimensions as they arrive and stores their exact bytes (netview.sh), and the
# DNS and HTTP charts of a known workload (dnshttp.sh).
# Needs root.
# Prints "ok - ..." / "not ok - ..." per check and, last, "N passed, M failed".
# shellcheck source-path=SCRIPTDIR disable=SC2317  # SC2317: functions called through check()
set -uo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$ROOT/build"
E2E_DIR="$ROOT/tests/e2e"
RESULTS_DIR="$ROOT/tests/results/e2e"
STOCK_CONFIG_DIR=/usr/lib/netdata/conf.d
# shellcheck source=../lib/netdata-agent.sh
. "$ROOT/tests/lib/netdata-agent.sh"
# shellcheck source=modules.sh
. "$E2E_DIR/modules.sh"
# shellcheck source=netview.sh
. "$E2E_DIR/netview.sh"
# shellcheck source=dnshttp.sh
. "$E2E_DIR/dnshttp.sh"

WORKLOAD_ARGS=(--forks 20 --threads 15 --opens 30 --failed-opens 7 --failed-closes 5
               --io 5 --io-size 4096 --creates 4 --fsyncs 6 --failed-io 3)
SOCKET_ARGS=(--tcp 3 --tcp-bytes 5000 --udp 4 --udp-size 200 --socket-errors 2)
# What one workload run does over its lifetime, per counter the modules expose.
declare -A PER_RUN=(
    [create_process]=20 [create_thread]=15
    [exit_task]=36 [release_task]=36     # forks + threads + the workload itself
    [open_call]=40 [open_error]=7        # opens + failed opens + 3 opens of the vfs part
    [close_call]=58 [close_error]=5      # opens + failed closes + 5 closes of the vfs part + 18 sockets
    [process_error]=0 [thread_error]=0 [task_error]=0
    # vfs (tests/live/workload.cpp): 4 * io calls of io-size bytes each way, failed-io
    # failing reads and writes, creates mknods, creates + 1 unlinks, fsyncs + 1 failing.
    # vfs_open_call/error and the output line in vfs_write_* are set once the
    # workloads ran (they depend on the attach path and the output).
    [vfs_read_call]=23 [vfs_read_error]=3 [vfs_read_bytes]=81920
    [vfs_write_error]=3
    [vfs_fsync_call]=7 [vfs_fsync_error]=1 [vfs_create_call]=4 [vfs_create_error]=0
    [vfs_unlink_call]=5
)
# The socket part (tests/live/live_counts.py socket_counters): 3 connections per family with
# 5000 bytes each way, 4 datagrams of 200 bytes each way per family, 2 failing calls of each kind.
PER_RUN+=(
    [tcp_connect_v4]=3 [tcp_connect_v6]=3 [tcp_accept]=6 [tcp_close]=14 [tcp_retransmit]=0
    [tcp_send_call]=14 [tcp_recv_call]=14 [tcp_send_bytes]=60000 [tcp_recv_bytes]=60000
    [udp_send_call]=18 [udp_recv_call]=18 [udp_send_bytes]=3200 [udp_recv_bytes]=3200
    [send_bytes]=63200 [recv_bytes]=63200
    [tcp_send_error]=2 [tcp_recv_error]=2 [udp_send_error]=2 [udp_recv_error]=2
)
CHART_IDS=(process_create thread_create task_exit task_close task_error
           file_open file_open_error file_closed file_close_error
           file_deleted vfs_write_call vfs_write_error vfs_read_call vfs_read_error vfs_write_bytes
           vfs_read_bytes vfs_fsync vfs_fsync_error vfs_open vfs_open_error vfs_create vfs_create_error
           outbound_conn_v4 outbound_conn_v6 total_bandwidth_sent total_bandwidth_recv bandwidth_tcp_send
           bandwidth_tcp_recv bandwidth_tcp_retransmit bandwidth_udp_send bandwidth_udp_recv)
SYSTEM_CHARTS=(system.process_thread system.exit system.task_error
               filesystem.file_descriptor filesystem.file_error
               filesystem.vfs_deleted_objects filesystem.vfs_io filesystem.vfs_io_bytes filesystem.vfs_io_error
               filesystem.vfs_fsync filesystem.vfs_fsync_error filesystem.vfs_open filesystem.vfs_open_error
               filesystem.vfs_create filesystem.vfs_create_error
               ip.inbound_conn ip.tcp_outbound_conn ip.tcp_functions ip.total_tcp_bandwidth ip.tcp_error
               ip.tcp_retransmit ip.udp_functions ip.total_udp_bandwidth ip.udp_error
               mem.sync mem.file_sync mem.memory_map mem.file_segment mount_points.call mount_points.error
               system.shared_memory_calls system.hardirq_latency system.softirq_latency)
SYSCALL_CHART_IDS=(shmget_call shmat_call shmdt_call shmctl_call oomkills)
APP_GROUP=ebpftest
SYSCALL_GROUP=ebpftestsys   # the syscall workload's own: it would add to the counts above
# Every module of ebpf.d.conf is on; those that cannot attach on a kernel say why in one line.
MODULES=(process fd vfs socket cachestat dcstat swap sync mount shm oomkill hardirq softirq disk filesystem mdflush)
SETTLE_SECONDS=3      # a value is final once it has not changed for this long
SETTLE_TIMEOUT=20     # ... at most this long after the workloads exit

PASSED=0
FAILED=0
TMP=''
STANDALONE_PID=''
CREATED_CGROUPS=()    # removed in reverse order

ok()     { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
check()  { local description="$1"; shift; if "$@"; then ok "$description"; else not_ok "$description"; fi; }
note()   { echo "# $*" >&2; }

finish() {
    cleanup
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
    exit
}
bail() { not_ok "$*"; finish; }

remove_cgroup() {
    local cg="$1"
    [ -d "$cg" ] || return 0
    # cgroup files report size 0: read them to know whether they are empty
    if [ -n "$(cat "$cg/cgroup.procs")" ] && [ -e "$cg/cgroup.kill" ]; then
        note "killing what is left in $cg"
        echo 1 > "$cg/cgroup.kill"
        for _ in $(seq 20); do [ -z "$(cat "$cg/cgroup.procs")" ] && break; sleep 0.1; done
    fi
    rmdir "$cg" || note "could not remove $cg"
}

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$STANDALONE_PID" ]; then
        kill -KILL "$STANDALONE_PID" 2>/dev/null
        wait "$STANDALONE_PID" 2>/dev/null
        STANDALONE_PID=''
    fi
    nd_stop
    nd_kill_leftovers
    loop_detach
    local i
    for ((i = ${#CREATED_CGROUPS[@]} - 1; i >= 0; i--)); do remove_cgroup "${CREATED_CGROUPS[i]}"; done
    CREATED_CGROUPS=()
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "$FAILED" != 0 ]; then
            rm -rf "$RESULTS_DIR" && mkdir -p "$RESULTS_DIR" &&
                cp -r "$TMP"/config "$TMP"/agent/log "$TMP"/standalone.* "$TMP"/workload-* "$RESULTS_DIR"/ 2>/dev/null
            note "logs kept in $RESULTS_DIR"
        fi
        rm -rf "$TMP"
    fi
    TMP=''
}

# ------------------------------------------------------------------ helpers

make_cgroup() {
    mkdir "$1" || bail "cannot create cgroup $1"
    CREATED_CGROUPS+=("$1")
}

bpf_ids() { bpftool -j "$1" show | jq -r '.[].id' | sort -n | tr '\n' ' '; }

# The program and link ids a running process holds (its fdinfo): other programs
# may come and go on this host meanwhile, ours must all go.
owned_bpf_ids() {
    local pid="$1" field="$2"
    cat /proc/"$pid"/fdinfo/* 2>/dev/null | awk -v f="$field:" '$1 == f { print $2 }' | sort -nu | tr '\n' ' '
}

# Waits up to 5 s for the kernel to free the ids a finished plugin held.
bpf_gone() {
    local kind="$1" owned="$2" now left id
    [ -n "$owned" ] || { note "no $kind ids were recorded"; return 1; }
    for _ in $(seq 25); do
        now=" $(bpf_ids "$kind") " left=''
        for id in $owned; do [[ "$now" == *" $id "* ]] && left+="$id "; done
        [ -z "$left" ] && return 0
        sleep 0.2
    done
    note "$kind ids still loaded: $left"
    return 1
}

# Sum of a dimension's points (rates per second, update every = 1) since the epoch second $1
# (absolute: reading a hundred charts takes long enough for a relative window to slide off).
sum_points() {
    local since="$1" chart="$2" dimension="$3" only   # dimension "*": all of them
    [ "$dimension" = '*' ] && only='' || only="&dimensions=$dimension"
    nd_api "/api/v1/data?chart=$chart$only&after=$since&format=json&options=seconds" 2>/dev/null |
        jq -r --arg d "$dimension" \
            'if $d == "*" then ([.data[][1:][] // 0] | add // 0)
             else (.labels | index($d)) as $i | if $i == null then "missing" else ([.data[][$i] // 0] | add // 0) end end' \
            2>/dev/null || echo missing
}

# The agent stores about 7 significant digits: 30 may come back as 29.999998.
# Large values (bandwidth) keep that relative precision.
close_enough() {
    awk -v got="$1" -v want="$2" 'BEGIN { e = 0.01 + (want < 0 ? -want : want) * 1e-6; d = got - want
                                          exit !(got != "missing" && d < e && d > -e) }'
}
at_least() { awk -v got="$1" -v want="$2" 'BEGIN { e = 0.01 + (want < 0 ? -want : want) * 1e-6; exit !(got != "missing" && got > want - e) }'; }
at_most()  { awk -v got="$1" -v want="$2" 'BEGIN { e = 0.01 + (want < 0 ? -want : want) * 1e-6; exit !(got != "missing" && got < want + e) }'; }

alive_child_of() { nd_alive "$1" "$2" && [ "$(nd_stat_field "$1" 2)" = "$ND_PID" ]; }

# ------------------------------------------------------------------ preconditions

trap 'not_ok "run.sh stopped early"; finish' EXIT
trap 'bail "interrupted"' INT TERM

[ "$(id -u)" = 0 ] || bail "must run as root (BPF, cgroups)"
for binary in ebpf.plugin ebpf-workload syscall-workload cgroup-spawn; do
    [ -x "$BUILD/$binary" ] || bail "$BUILD/$binary is missing (make all)"
done
PLUGIN_VERSION="$("$BUILD/ebpf.plugin" --version 2>&1 | head -1)" || bail "build/ebpf.plugin --version failed: $PLUGIN_VERSION"
note "plugin: $PLUGIN_VERSION"
CHART_FILES=()
for conf in process fd vfs socket; do
    [ -f "$ROOT/charts/$conf.conf" ] || bail "charts/$conf.conf is missing"
    CHART_FILES+=("$ROOT/charts/$conf.conf")
done
EXPECTATIONS="$(awk -v load_mode=return -f "$E2E_DIR/chart-expectations.awk" "${CHART_FILES[@]}")" ||
    bail "charts/*.conf cannot be read"
# sync and mount have system charts only (as 1.37.1), shm all scopes; oomkill's are added
# once the OOM kills are made.
SYSCALL_EXPECTATIONS="$(awk -v load_mode=return -f "$E2E_DIR/chart-expectations.awk" \
                        "$ROOT"/charts/{sync,mount,shm}.conf)" || bail "charts/{sync,mount,shm}.conf cannot be read"
# The syscall workload's arguments and counts per run, from tests/live/syscall_test.py's table:
# "args <run> <arguments>" and "<run> <counter> <count>" lines. Debian's sync.conf keeps msync on,
# where syscall_test.py turns it off: one msync per sync there.
SYSCALL_TABLE="$(python3 - "$ROOT/tests/live" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from syscall_test import RUNS, expected
for run in RUNS:
    print("args", run, " ".join("--%s %d" % (k.replace("_", "-"), v) for k, v in RUNS[run].items()))
    counts = dict(expected(run), msync_call=RUNS[run]["syncs"])
    for counter, count in counts.items():
        print(run, counter, count)
PY
)" || bail "tests/live/syscall_test.py's table cannot be read"
declare -A SYSCALL_ARGS SYSCALL_PLAIN SYSCALL_SERVICE
# shellcheck disable=SC2034  # SYSCALL_PLAIN and SYSCALL_SERVICE are read through add_targets' namerefs
while read -r first run_or_counter rest; do
    case "$first" in
        args)    SYSCALL_ARGS[$run_or_counter]="$rest" ;;
        cgroup)  SYSCALL_PLAIN[$run_or_counter]="$rest" ;;
        service) SYSCALL_SERVICE[$run_or_counter]="$rest" ;;
    esac
done <<< "$SYSCALL_TABLE"
nd_install_if_missing || bail "netdata-core/netdata-web are not installed and could not be installed"
for tool in curl jq bpftool ss pgrep losetup dd; do
    command -v "$tool" >/dev/null || bail "$tool is missing"
done

TMP="$(mktemp -d /tmp/ebpf-e2e.XXXXXX)" || bail "mktemp failed"
RANDOM_ID="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"

# Plugins dir: only our plugin, set-uid root as installed.
mkdir "$TMP/plugins"
install -o root -g root -m 4750 "$BUILD/ebpf.plugin" "$TMP/plugins/ebpf.plugin" || bail "cannot install the plugin copy"

# User config (NETDATA_USER_CONFIG_DIR): every module, every chart, every scope.
mkdir "$TMP/config"
{
    printf '[global]\n    ebpf load mode = return\n    apps = yes\n    cgroups = yes\n    update every = 1\n'
    printf '[ebpf programs]\n'
    printf '    %s = yes\n' "${MODULES[@]}"
    printf '    network connections = no\n'
} > "$TMP/config/ebpf.d.conf"
# A per-run program name keeps other runs of ebpf-workload on this host out of the group.
WORKLOAD="$TMP/ewl-$RANDOM_ID"
cp "$BUILD/ebpf-workload" "$WORKLOAD" || bail "cannot copy the workload"
SYSCALL_WORKLOAD="$TMP/sysw-$RANDOM_ID"
cp "$BUILD/syscall-workload" "$SYSCALL_WORKLOAD" || bail "cannot copy the syscall workload"
{ echo "$APP_GROUP: ewl-$RANDOM_ID"; echo "$SYSCALL_GROUP: sysw-$RANDOM_ID"; cat "$STOCK_CONFIG_DIR/apps_groups.conf"; } > "$TMP/config/apps_groups.conf" ||
    bail "cannot read $STOCK_CONFIG_DIR/apps_groups.conf"

if [ ! -d /sys/kernel/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing || bail "cannot mount tracefs on /sys/kernel/tracing"
fi

CGROUP2_ROOT="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)"
[ -n "$CGROUP2_ROOT" ] || bail "no cgroup2 mount in /proc/self/mounts"
PLAIN_CGROUP="$CGROUP2_ROOT/ebpf_e2e_$RANDOM_ID"
SERVICE_NAME="ebpf-e2e-$RANDOM_ID"
[ -d "$CGROUP2_ROOT/system.slice" ] || make_cgroup "$CGROUP2_ROOT/system.slice"
SERVICE_CGROUP="$CGROUP2_ROOT/system.slice/$SERVICE_NAME.service"
make_cgroup "$PLAIN_CGROUP"
make_cgroup "$SERVICE_CGROUP"
# The syscall workload's runs: cgroups of their own, as its app group
SYSCALL_PLAIN_CGROUP="$CGROUP2_ROOT/ebpf_e2esys_$RANDOM_ID"
SYSCALL_SERVICE_NAME="ebpf-e2esys-$RANDOM_ID"
SYSCALL_SERVICE_CGROUP="$CGROUP2_ROOT/system.slice/$SYSCALL_SERVICE_NAME.service"
make_cgroup "$SYSCALL_PLAIN_CGROUP"
make_cgroup "$SYSCALL_SERVICE_CGROUP"
note "cgroups: $PLAIN_CGROUP $SERVICE_CGROUP $SYSCALL_PLAIN_CGROUP $SYSCALL_SERVICE_CGROUP"

bpf_ids prog >/dev/null || bail "bpftool cannot list programs"

# ------------------------------------------------------------------ the plugin alone

# What it declares with this config; stdin stays open until it has sent data for 2 s.
mkfifo "$TMP/standalone.stdin"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C NETDATA_UPDATE_EVERY=1 \
    NETDATA_USER_CONFIG_DIR="$TMP/config" NETDATA_STOCK_CONFIG_DIR="$STOCK_CONFIG_DIR" \
    "$TMP/plugins/ebpf.plugin" 1 <"$TMP/standalone.stdin" >"$TMP/standalone.out" 2>"$TMP/standalone.err" &
STANDALONE_PID=$!
exec {standalone_stdin}>"$TMP/standalone.stdin"
# bash reaps its children as they exit and keeps the status for `wait`: kill -0 fails once gone.
deadline=$((SECONDS + 30))
until grep -q '^BEGIN ' "$TMP/standalone.out" || [ "$SECONDS" -ge "$deadline" ] ||
      ! kill -0 "$STANDALONE_PID" 2>/dev/null; do
    sleep 0.2
done
STANDALONE_PROGS="$(owned_bpf_ids "$STANDALONE_PID" prog_id)"
STANDALONE_LINKS="$(owned_bpf_ids "$STANDALONE_PID" link_id)"
sleep 2
exec {standalone_stdin}>&-
for _ in $(seq 50); do kill -0 "$STANDALONE_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$STANDALONE_PID" 2>/dev/null; then
    kill -TERM "$STANDALONE_PID"
    wait "$STANDALONE_PID"
    standalone_rc="still running 5 s after stdin EOF"
else
    wait "$STANDALONE_PID"
    standalone_rc=$?
fi
STANDALONE_PID=''
rm -f "$TMP/standalone.stdin"
check "plugin alone exits with 0 on stdin EOF (got: $standalone_rc)" [ "$standalone_rc" = 0 ]
DECLARED_CHARTS="$(awk -f "$E2E_DIR/declared-charts.awk" "$TMP/standalone.out" | sort)"
check "plugin alone sent data ($(grep -c '^END' "$TMP/standalone.out") END lines)" grep -q '^END' "$TMP/standalone.out"
check "plugin alone left none of its BPF programs ($STANDALONE_PROGS)" bpf_gone prog "$STANDALONE_PROGS"
check "plugin alone left none of its BPF links ($STANDALONE_LINKS)" bpf_gone link "$STANDALONE_LINKS"

# ------------------------------------------------------------------ the agent

ND_CGROUPS=yes
AGENT_STARTED=$(date +%s)
nd_start "$TMP/agent" "$TMP/plugins" "$TMP/config" || bail "the agent did not start"
note "agent pid $ND_PID on http://127.0.0.1:$ND_PORT/"
nd_wait_chart system.process_thread 60 || bail "chart system.process_thread has no data within 60 s"
ok "agent collects system.process_thread"
check_module_lines "${MODULES[@]}"

PLUGIN_PIDS="$(pgrep -P "$ND_PID" -x ebpf.plugin | tr '\n' ' ')"
[ "$(wc -w <<< "$PLUGIN_PIDS")" = 1 ] || bail "expected one ebpf.plugin child of agent $ND_PID, found: '$PLUGIN_PIDS'"
PLUGIN_PID="${PLUGIN_PIDS% }"
PLUGIN_STARTTIME="$(nd_stat_field "$PLUGIN_PID" 20)"
CAP_EFF="$(awk '/^CapEff:/ { print $2 }' "/proc/$PLUGIN_PID/status")"
check "running plugin has no effective capabilities (CapEff: $CAP_EFF)" [ "$CAP_EFF" = 0000000000000000 ]

# The agent's cgroups.plugin lists both cgroups within a few seconds; the plugin names a
# cgroup only once it is listed there, so the workloads wait for that.
agent_cgroup_list() {   # "name options enabled directory" per entry
    python3 - "/proc/$ND_PID/root/dev/shm/netdata_shm_cgroup_ebpf" <<'PY' 2>/dev/null
import struct, sys
data = open(sys.argv[1], "rb").read()
count = struct.unpack_from("i", data, 0)[0]
body = 256 + 4 + 4 + 4 + 4097 + 3     # netdata_ebpf_cgroup_shm_body_t, 4-byte aligned
for i in range(count):
    entry = data[24 + i * body: 24 + (i + 1) * body]
    name = entry[:256].split(b"\0")[0].decode()
    _, options, enabled = struct.unpack_from("IIi", entry, 256)
    path = entry[268:268 + 4097].split(b"\0")[0].decode()
    print(name, hex(options), enabled, path.rsplit("/", 1)[0])
PY
}
listed() { agent_cgroup_list | awk -v dir="$1" '$3 == 1 && $4 == dir { found = 1 } END { exit !found }'; }
deadline=$((SECONDS + 30))
loop_attach   # meanwhile, the loop device's chart appears
until { listed "$PLAIN_CGROUP" && listed "$SERVICE_CGROUP" && listed "$SYSCALL_PLAIN_CGROUP" &&
        listed "$SYSCALL_SERVICE_CGROUP"; } || [ "$SECONDS" -ge "$deadline" ]; do
    sleep 0.5
done
SERVICE_ENTRY="$(agent_cgroup_list | awk -v dir="$SERVICE_CGROUP" '$4 == dir { print $1, $2 }')"
note "agent's list: $(agent_cgroup_list | grep -F "$RANDOM_ID" | tr '\n' ';')"
check "the agent's own list has the plain cgroup" listed "$PLAIN_CGROUP"
check "the agent's own list has the syscall workload's cgroups" listed "$SYSCALL_PLAIN_CGROUP" &&
    listed "$SYSCALL_SERVICE_CGROUP"
# 1.37.1 writes a service as its bare name with CGROUP_OPTIONS_SYSTEM_SLICE_SERVICE (0x2)
bare_service_entry() {
    local name options
    read -r name options <<< "$SERVICE_ENTRY"
    [ "$name" = "$SERVICE_NAME" ] && [ $((${options:-0} & 2)) = 2 ]
}
check "the agent's own list has the service as 1.37.1 writes it (got: ${SERVICE_ENTRY:-none})" bare_service_entry

# ------------------------------------------------------------------ the workloads

WORKLOADS_STARTED=$(($(date +%s) - 1))
DISK_CHART=''
if [ -n "$LOOP_DEVICE" ]; then
    DISK_CHART="disk_latency_io.${LOOP_DEVICE##*/}"
    loop_io
fi
for run in plain:"$PLAIN_CGROUP" service:"$SERVICE_CGROUP"; do
    name="${run%%:*}" cgroup="${run#*:}"
    mkdir "$TMP/vfs-$name"
    "$BUILD/cgroup-spawn" "$cgroup" "$WORKLOAD" "${WORKLOAD_ARGS[@]}" "${SOCKET_ARGS[@]}" --vfs-dir "$TMP/vfs-$name" \
        >"$TMP/workload-$name.out" 2>"$TMP/workload-$name.err"
    rc=$?
    pid="$(jq -r '.pid' "$TMP/workload-$name.out" 2>/dev/null)"
    check "workload in the $name cgroup exited with 0 (pid ${pid:-?}, rc $rc)" [ "$rc" = 0 ]
done
for run in cgroup:"$SYSCALL_PLAIN_CGROUP" service:"$SYSCALL_SERVICE_CGROUP"; do
    name="${run%%:*}" cgroup="${run#*:}"
    mkdir "$TMP/sys-$name"
    # shellcheck disable=SC2086  # the arguments are words
    "$BUILD/cgroup-spawn" "$cgroup" "$SYSCALL_WORKLOAD" ${SYSCALL_ARGS[$name]} --dir "$TMP/sys-$name" \
        >"$TMP/workload-sys-$name.out" 2>"$TMP/workload-sys-$name.err"
    rc=$?
    check "syscall workload (${SYSCALL_ARGS[$name]}) in its $name cgroup exited with 0 (rc $rc)" [ "$rc" = 0 ]
done
# Then one OOM kill in each of its cgroups: of the workload in the plain one, of a hog in the service.
OOM_RUNS="$(run_oom_workloads "$CGROUP2_ROOT" cgroup:"$SYSCALL_PLAIN_CGROUP" service:"$SYSCALL_SERVICE_CGROUP")"
OOM_KILLS=0
declare -A KERNEL_OOM_KILLS=()
while read -r name rc kills how; do
    if [ "$rc" = none ]; then
        note "oomkill: $kills $how; no OOM kill can be caused here"
        continue
    fi
    check "oomkill: the syscall workload in its $name cgroup was OOM-killed ($how; exit $rc)" [ "$rc" = 137 ]
    # the kernel may kill more than the workload there (now and then two): its count is the truth
    check "oomkill: the kernel counts $kills OOM kill(s) in the $name cgroup" [ "$kills" -ge 1 ]
    KERNEL_OOM_KILLS[$name]=$kills
    OOM_KILLS=$((OOM_KILLS + 1))
done <<< "$OOM_RUNS"
if [ "$OOM_KILLS" = 2 ]; then
    # shellcheck disable=SC2034  # read through add_targets' namerefs
    SYSCALL_PLAIN[oomkill]=${KERNEL_OOM_KILLS[cgroup]} SYSCALL_SERVICE[oomkill]=${KERNEL_OOM_KILLS[service]}
    SYSCALL_EXPECTATIONS+=$'\n'"$(awk -f "$E2E_DIR/chart-expectations.awk" "$ROOT/charts/oomkill.conf")"
fi

# The workload's one line of output (fixed width) is one more write.
OUTPUT_BYTES="$(wc -c < "$TMP/workload-plain.out")"
PER_RUN[vfs_write_call]=24
PER_RUN[vfs_write_bytes]=$((81920 + OUTPUT_BYTES))
# vfs_open also sees the exec of the workload; the open syscall tracepoints also see
# the failed opens, which fail in the path lookup before any VFS open (docs/CHARTS.md).
VFS_PATH="$(grep -o ': vfs: attached with [a-z]*' "$ND_WORKDIR/log/error.log" | tail -1)"
VFS_PATH="${VFS_PATH##* }"
note "vfs attach path: ${VFS_PATH:-not in error.log}"
if [ "$VFS_PATH" = tracepoint ]; then
    PER_RUN[vfs_open_call]=40 PER_RUN[vfs_open_error]=7
else
    PER_RUN[vfs_open_call]=34 PER_RUN[vfs_open_error]=0
fi

# ------------------------------------------------------------------ values

# The plugin may declare a cgroup's charts only once it sees activity there.
cgroup_types() {
    nd_api /api/v1/charts | jq -r --arg name "$1" \
        '[.charts[].type | select(startswith("cgroup_") and endswith($name))] | unique | .[]'
}
deadline=$((SECONDS + SETTLE_TIMEOUT))
until CGROUP_TYPES="$(cgroup_types "ebpf_e2e_$RANDOM_ID")" SYSCALL_CGROUP_TYPES="$(cgroup_types "ebpf_e2esys_$RANDOM_ID")"
      [ -n "$CGROUP_TYPES" ] && [ -n "$SYSCALL_CGROUP_TYPES" ] || [ "$SECONDS" -ge "$deadline" ]; do
    sleep 0.5
done
check "agent has charts of one type for the plain cgroup (${CGROUP_TYPES:-none})" [ "$(wc -w <<< "$CGROUP_TYPES")" = 1 ]
check "agent has charts of one type for the syscall workload's plain cgroup (${SYSCALL_CGROUP_TYPES:-none})" \
    [ "$(wc -w <<< "$SYSCALL_CGROUP_TYPES")" = 1 ]
# Without a match, the checks below name the expected type and fail on it.
CGROUP_TYPE="$(head -1 <<< "$CGROUP_TYPES")"
CGROUP_TYPE="${CGROUP_TYPE:-cgroup_ebpf_e2e_$RANDOM_ID}"
SYSCALL_CGROUP_TYPE="$(head -1 <<< "$SYSCALL_CGROUP_TYPES")"
SYSCALL_CGROUP_TYPE="${SYSCALL_CGROUP_TYPE:-cgroup_ebpf_e2esys_$RANDOM_ID}"

# One line per value to check: <kind exact|min|max> <chart> <dimension> <expected> [<since>]
TARGETS=()
# add_targets <expectations> <counts of the plain run> <of the service run> <app group> <cgroup type> <service>
add_targets() {
    local expectations="$1" app_group="$4" cgroup_type="$5" service="$6"
    local -n plain_counts="$2" service_counts="$3"
    local scope chart dimension counter multiplier divisor plain service_run both
    while read -r scope chart dimension counter multiplier divisor; do
        if [ -z "${plain_counts[$counter]+set}" ] || [ -z "${service_counts[$counter]+set}" ]; then
            not_ok "counter '$counter' of $chart (charts/*.conf) has no expected value in tests/e2e/run.sh"
            continue
        fi
        # what the agent shows: the counter scaled by the dimension (bytes -> kilobits, written bytes negative)
        plain="$(awk -v n="${plain_counts[$counter]}" -v m="$multiplier" -v d="$divisor" 'BEGIN { print n * m / d }')"
        service_run="$(awk -v n="${service_counts[$counter]}" -v m="$multiplier" -v d="$divisor" 'BEGIN { print n * m / d }')"
        both="$(awk -v a="$plain" -v b="$service_run" 'BEGIN { print a + b }')"
        case "$scope" in
            system)   if [ "${multiplier#-}" != "$multiplier" ]; then   # shown negative: at most minus the workloads' share
                          TARGETS+=("max $chart $dimension $both")
                      else
                          TARGETS+=("min $chart $dimension $both")
                      fi ;;
            apps)     TARGETS+=("exact $chart $app_group $both") ;;
            cgroup)   TARGETS+=("exact $cgroup_type.$chart $dimension $plain") ;;
            services) TARGETS+=("exact $chart $service $service_run") ;;
        esac
    done <<< "$expectations"
}
# The workload ran the same in both cgroups; the syscall workload as syscall_test.py's two runs.
add_targets "$EXPECTATIONS" PER_RUN PER_RUN "$APP_GROUP" "$CGROUP_TYPE" "$SERVICE_NAME"
add_targets "$SYSCALL_EXPECTATIONS" SYSCALL_PLAIN SYSCALL_SERVICE "$SYSCALL_GROUP" "$SYSCALL_CGROUP_TYPE" "$SYSCALL_SERVICE_NAME"
# disk: every request of ours in one bin or another
[ -z "$DISK_CHART" ] || TARGETS+=("exact $DISK_CHART * $DISK_READS $DISK_SINCE")

# Our values settle within a few collections: read them until none changed for a while.
# System-wide values never settle; they are read once, afterwards.
declare -A SUMS
read_sums() {   # fills SUMS and SNAPSHOT for the targets of one kind
    local kind_wanted="$1" target kind chart dimension since
    SNAPSHOT=''
    for target in "${TARGETS[@]}"; do
        read -r kind chart dimension _ since <<< "$target"
        [ "$kind" = "$kind_wanted" ] || continue
        SUMS[$chart/$dimension]="$(sum_points "${since:-$((WORKLOADS_STARTED - 2))}" "$chart" "$dimension")"
        SNAPSHOT+="${SUMS[$chart/$dimension]} "
    done
}
SNAPSHOT=''
settled_at_ms=0
while :; do
    previous="$SNAPSHOT"
    read_sums exact
    now_ms=$(date +%s%3N)
    [ "$SNAPSHOT" = "$previous" ] || settled_at_ms=$now_ms
    [ $((now_ms - settled_at_ms)) -ge $((SETTLE_SECONDS * 1000)) ] && break
    [ "$SECONDS" -lt "$deadline" ] || { note "values still changing after ${SETTLE_TIMEOUT} s"; break; }
    sleep 1
done
read_sums min
read_sums max

for target in "${TARGETS[@]}"; do
    read -r kind chart dimension expected _ <<< "$target"
    got="${SUMS[$chart/$dimension]}"
    shown="$got"
    [ "$got" = missing ] || shown="$(awk -v v="$got" 'BEGIN { printf "%.3f", v }')"
    if [ "$kind" = exact ]; then
        check "$chart $dimension = $shown (expected $expected)" close_enough "$got" "$expected"
    elif [ "$kind" = max ]; then
        check "$chart $dimension = $shown (at most $expected)" at_most "$got" "$expected"
    else
        check "$chart $dimension = $shown (at least $expected)" at_least "$got" "$expected"
    fi
done

# ------------------------------------------------------------------ charts, log, process

AGENT_CHARTS="$(nd_api /api/v1/charts | jq -r '.charts | keys[]' | sort)"
for id in "${SYSTEM_CHARTS[@]}" "${CHART_IDS[@]/#/apps.}" "${CHART_IDS[@]/#/services.}" \
          "${CHART_IDS[@]/#/$CGROUP_TYPE.}" "${SYSCALL_CHART_IDS[@]/#/apps.}" "${SYSCALL_CHART_IDS[@]/#/services.}" \
          "${SYSCALL_CHART_IDS[@]/#/$SYSCALL_CGROUP_TYPE.}"; do
    check "agent has chart $id" grep -qxF "$id" <<< "$AGENT_CHARTS"
done
SERVICE_AS_CGROUP="$(grep -F -e "$SERVICE_NAME" -e "$SYSCALL_SERVICE_NAME" <<< "$AGENT_CHARTS" | grep '^cgroup_' | tr '\n' ' ')"
check "no cgroup chart for the services${SERVICE_AS_CGROUP:+ (found: $SERVICE_AS_CGROUP)}" [ -z "$SERVICE_AS_CGROUP" ]
# Alone, the plugin charts every busy cgroup it finds, under the agent those the agent lists;
# a disk once it did I/O while the plugin ran (ours: checked above).
DECLARED_CHARTS="$(grep -v -e '^cgroup_' -e '^disk_latency_io\.' <<< "$DECLARED_CHARTS")"
missing="$(comm -23 <(echo "$DECLARED_CHARTS") <(echo "$AGENT_CHARTS") | tr '\n' ' ')"
check "agent has all $(grep -c . <<< "$DECLARED_CHARTS") non-cgroup charts the plugin declares alone${missing:+ (missing: $missing)}" \
    [ -z "$missing" ]

DISABLED="$(grep -E 'PLUGINSD|ebpf\.plugin' "$ND_WORKDIR/log/error.log" | grep -E 'Disabling|disconnected')"
[ -z "$DISABLED" ] || note "error.log: $DISABLED"
check "error.log has no plugin disconnect or disable" [ -z "$DISABLED" ]
# The agent copies the plugin's stderr verbatim: its lines carry the date and name as the agent's own do.
DATED='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}: ebpf\.plugin (ERROR|INFO ) : MAIN : '
DATED_LINES="$(grep -cE "$DATED" "$ND_WORKDIR/log/error.log")"
UNDATED_LINES="$(grep -c '^ebpf\.plugin' "$ND_WORKDIR/log/error.log")"
dated_log() { [ "$DATED_LINES" -gt 0 ] && [ "$UNDATED_LINES" = 0 ] && grep -qE "${DATED}fd: attached with" "$1"; }
check "error.log: $DATED_LINES plugin lines with date and name, $UNDATED_LINES without" \
    dated_log "$ND_WORKDIR/log/error.log"
check "plugin $PLUGIN_PID is still running, never restarted" alive_child_of "$PLUGIN_PID" "$PLUGIN_STARTTIME"

# The interrupt modules' totals: the workload's loopback traffic runs NET_RX, the timer ticks.
check_latency_chart system.softirq_latency "$AGENT_STARTED" NET_RX
[ -e /sys/kernel/tracing/events/irq_vectors/local_timer_entry ] && TICKS=local_timer || TICKS=''
check_latency_chart system.hardirq_latency "$AGENT_STARTED" "$TICKS"

# ------------------------------------------------------------------ shutdown

PLUGIN_PROGS="$(owned_bpf_ids "$PLUGIN_PID" prog_id)"
PLUGIN_LINKS="$(owned_bpf_ids "$PLUGIN_PID" link_id)"
nd_stop
plugin_gone() { for _ in $(seq 50); do nd_alive "$PLUGIN_PID" "$PLUGIN_STARTTIME" || return 0; sleep 0.1; done; return 1; }
check "plugin exits within 5 s of the agent stopping" plugin_gone
# The agent's own threads log meanwhile: the plugin's last line may follow one of theirs' head.
STOP_LINE="$(grep -oE "${DATED#^}(stdin closed|received SIG).*" "$ND_WORKDIR/log/error.log" | tail -1)"
check "error.log says why the plugin stopped (${STOP_LINE#*: MAIN : })" [ -n "$STOP_LINE" ]
check "no BPF program of ours is left ($PLUGIN_PROGS)" bpf_gone prog "$PLUGIN_PROGS"
check "no BPF link of ours is left ($PLUGIN_LINKS)" bpf_gone link "$PLUGIN_LINKS"

# ------------------------------------------------------------------ the network viewer (a second agent)

run_network_viewer_phase

finish
