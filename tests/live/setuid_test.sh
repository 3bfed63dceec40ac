#!/usr/bin/env bash
# The setuid start, as Debian's agent does it (user netdata running a
# 4750 root:netdata binary), here with user nobody:
#   - a config dir the caller cannot read is not read through us;
#   - once attached, the plugin runs as the caller with no capability and an
#     empty environment, and still collects, its cost too (run-time
#     statistics turned on before the drop, memlock of its maps);
#   - a hostile pid table size is cut to what the machine affords, with a line;
#   - --check and --verify become the caller before loading anything, keeping
#     only the capabilities loading needs (traced with strace -u);
#   - trace_malloc's uprobes go on none of another user's processes;
#   - other users' activity (flows, dns, http, bash, traces) is refused to a
#     member of the binary's group other than the agent's user.
# Prints "ok - ..." per check and "N passed, M failed". Needs root.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=$(mktemp -d /var/tmp/ebpf-setuid.XXXXXX)   # not /tmp: it may be mounted nosuid
passed=0 failed=0
check() { if eval "$2"; then echo "ok - $1"; passed=$((passed+1)); else echo "not ok - $1"; failed=$((failed+1)); fi; }
cleanup() { [ -n "${PLUGIN:-}" ] && kill "$PLUGIN" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
# Starts the plugin setuid as user $1 (group nogroup) with the config dir $WORK/$2, stdin a fifo
# held open on fd 3, output in $WORK/out.$2 and err.$2, its pid in PLUGIN; waits (20 s at most)
# for its first update.
start_as() {
    mkfifo -m 666 "$WORK/stdin.$2"
    setpriv --reuid="$1" --regid=nogroup --clear-groups --inh-caps=-all \
        env NETDATA_USER_CONFIG_DIR="$WORK/$2" NETDATA_STOCK_CONFIG_DIR="$WORK/none" \
        "$WORK/ebpf.plugin" 1 < "$WORK/stdin.$2" > "$WORK/out.$2" 2> "$WORK/err.$2" &
    PLUGIN=$!
    exec 3> "$WORK/stdin.$2"
    for _ in $(seq 100); do grep -q '^END' "$WORK/out.$2" 2>/dev/null && break; sleep 0.2; done
}

chmod 755 "$WORK"
install -o root -g nogroup -m 4750 "$ROOT/build/ebpf.plugin" "$WORK/ebpf.plugin"
mkdir -m 700 "$WORK/secret"   # root only
printf '[global]\n update every = 1\n secret option = 1\n[ebpf programs]\n process = yes\n fd = no\n' > "$WORK/secret/ebpf.d.conf"
mkfifo -m 666 "$WORK/stdin"
touch "$WORK/err"

setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    env NETDATA_USER_CONFIG_DIR="$WORK/secret" NETDATA_STOCK_CONFIG_DIR="$WORK/none" LIBBPF_LOG_LEVEL=debug \
    "$WORK/ebpf.plugin" 1 < "$WORK/stdin" > "$WORK/out" 2> "$WORK/err" &
STDERR_COPY="$WORK/err"
PLUGIN=$!
exec 3> "$WORK/stdin"
for _ in $(seq 50); do grep -q '^END' "$WORK/out" 2>/dev/null && break; sleep 0.2; done

check "plugin collects when started setuid by an unprivileged user" "grep -q '^END' '$WORK/out'"
check "the root-only config was not read (no warning about its option)" "! grep -q 'secret option' '$WORK/err'"
check "without readable config, the built-in defaults run both modules" "grep -q 'fd: attached' '$WORK/err' || { cat '$WORK/err'; false; }"
status=/proc/$PLUGIN/status
check "runs as nobody (real, effective, saved uid)" "grep -qE '^Uid:\s+65534\s+65534\s+65534' $status"
check "runs as nogroup (real, effective, saved gid)" "grep -qE '^Gid:\s+65534\s+65534\s+65534' $status"
check "CapEff, CapPrm, CapInh, CapAmb are 0" \
    "[ \$(grep -cE '^Cap(Eff|Prm|Inh|Amb):\s+0000000000000000' $status) = 4 ]"
check "no_new_privs is set" "grep -qE '^NoNewPrivs:\s+1' $status"
check "the caller's environment is gone" "[ ! -s /proc/$PLUGIN/environ ]"
sleep 2
check "it still reads its maps without privileges" \
    "[ \$(grep -c '^BEGIN system.process_thread' '$WORK/out') -ge 3 ]"
# The last update of a chart: the sum of its values.
last_sum() { awk -v chart="$1" '$1 == "BEGIN" { on = ($2 == chart); if (on) sum = 0 }
    on && $1 == "SET" && $4 != "" { sum += $4 } END { print sum + 0 }' "$WORK/out"; }
held_memlock=0
for map_id in $(awk '/^map_id:/ {print $2}' /proc/$PLUGIN/fdinfo/* 2>/dev/null | sort -u); do   # shared maps once
    held_memlock=$((held_memlock + $(bpftool -j map show id "$map_id" | sed -E 's/.*"bytes_memlock":([0-9]+).*/\1/')))
done
charted_memlock=$(last_sum netdata.ebpf_kernel_memory)
check "without privileges it still reads its maps' memlock ($charted_memlock = bpftool $held_memlock)" \
    "[ $held_memlock -gt 0 ] && [ $charted_memlock = $held_memlock ]"
check "BPF run-time statistics were turned on before the drop (runs charted: $(last_sum netdata.ebpf_bpf_runs))" \
    "[ $(last_sum netdata.ebpf_bpf_runs) -gt 0 ] && [ $(last_sum netdata.ebpf_bpf_time) -gt 0 ]"
exec 3>&-
wait "$PLUGIN"; code=$?; PLUGIN=''
check "exits 0 when stdin closes" "[ $code = 0 ]"

# A hostile pid table size from the caller: cut, with one stderr line, and the
# maps root allocates stay within two tables' share of memory (1/64 each).
mkdir -m 755 "$WORK/big"
# process and fd only: sync, mount, oomkill and shm are on unless named, as upstream
printf '[global]\n update every = 1\n apps = yes\n pid table size = 4194304\n[ebpf programs]\n process = yes\n fd = yes\n sync = no\n mount = no\n oomkill = no\n shm = no\n' \
    > "$WORK/big/ebpf.d.conf"
start_as nobody big
memlock=$(cat /proc/$PLUGIN/fdinfo/* 2>/dev/null | awk '/^memlock:/ {sum += $2} END {print sum + 0}')
mem_total=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024 ))
check "a hostile pid table size is cut, once per module ($(grep -c 'pid table size 4194304 cut to' "$WORK/err.big") lines)" \
    "[ \$(grep -c 'pid table size 4194304 cut to' '$WORK/err.big') = 2 ] || { cat '$WORK/err.big'; false; }"
check "it collects within 20 s, its maps taking $((memlock >> 20)) MiB, at most 1/32 of memory ($((mem_total >> 25)) MiB)" \
    "grep -q '^END' '$WORK/out.big' && [ '$memlock' -gt 0 ] && [ '$memlock' -le $((mem_total / 32)) ]"
exec 3>&-
wait "$PLUGIN"; PLUGIN=''

# --check and --verify load programs and nothing else: they become the caller,
# keeping only the loading capabilities, before the first program is loaded.
for option in --check --verify; do
    # root's run beside nobody's: each is about 10 s of waiting for the kernel to detach
    NETDATA_USER_CONFIG_DIR="$WORK/none" NETDATA_STOCK_CONFIG_DIR="$WORK/none" "$WORK/ebpf.plugin" $option \
        > "$WORK/out.root" 2>/dev/null &
    root_run=$!
    strace -f -u nobody -e trace=setresuid,capset,bpf -o "$WORK/trace" \
        env NETDATA_USER_CONFIG_DIR="$WORK/none" NETDATA_STOCK_CONFIG_DIR="$WORK/none" \
        "$WORK/ebpf.plugin" $option > "$WORK/out.$option" 2>/dev/null
    first_uid=$(grep -nE 'setresuid\(65534, 65534, 65534\) += 0' "$WORK/trace" | head -1 | cut -d: -f1)
    first_load=$(grep -n 'bpf(BPF_PROG_LOAD' "$WORK/trace" | head -1 | cut -d: -f1)
    check "$option as nobody becomes nobody (line ${first_uid:-none}) before the first program load (line ${first_load:-none})" \
        "[ -n '$first_uid' ] && [ -n '$first_load' ] && [ '$first_uid' -lt '$first_load' ]"
    check "$option as nobody keeps no CAP_SYS_ADMIN, CAP_SETUID or CAP_DAC_OVERRIDE after it" \
        "! sed -n '${first_uid:-1},\$p' '$WORK/trace' | grep 'capset(' | grep -qE 'CAP_SYS_ADMIN|CAP_SETUID|CAP_DAC_OVERRIDE'"
    wait "$root_run"
    check "$option gives the same verdicts as nobody as it gives root" "cmp -s '$WORK/out.root' '$WORK/out.$option'"
done
# trace_malloc's pids: a setuid start by nobody probes none of root's processes
mkdir -m 755 -p "$WORK/malloc/ebpf.d"
printf '[trace_malloc]\n pids = 1\n' > "$WORK/malloc/ebpf.d/traces.conf"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    env NETDATA_USER_CONFIG_DIR="$WORK/malloc" NETDATA_STOCK_CONFIG_DIR="$WORK/none" \
    timeout 20 "$WORK/ebpf.plugin" --records malloc 1 > "$WORK/out.malloc" 2> "$WORK/err.malloc"
malloc_status=$?
check "--records malloc started setuid by nobody probes no root process (exit $malloc_status, a line says why)" \
    "[ $malloc_status = 1 ] && grep -q 'pid 1: not a process of the user who started the plugin' '$WORK/err.malloc' || { cat '$WORK/err.malloc'; false; }"
# Other users' activity (connections, DNS queries, HTTP requests, bash command lines, traced
# syscalls): root and the agent's user only, whose login group owns the binary (Debian's netdata
# for its 4750 root:netdata; nobody for nogroup here). daemon, in the group by another login group,
# gets one line per source refused and the rest of the plugin.
why="started setuid by uid 1, neither root nor the agent's user (whose login group nogroup owns the plugin): it would show other users' activity"
setpriv --reuid=daemon --regid=nogroup --clear-groups --inh-caps=-all \
    env NETDATA_USER_CONFIG_DIR="$WORK/none" NETDATA_STOCK_CONFIG_DIR="$WORK/none" \
    timeout 20 "$WORK/ebpf.plugin" --records netflow,dnsflow,httpflow,bash,exec,vfs 1 > "$WORK/out.records" 2> "$WORK/err.records"
member_status=$?
refused=$(grep -cF -- "refused: $why" "$WORK/err.records")
check "--records of other users' activity by another member of the group: refused, one line each ($refused of 6), exit $member_status, nothing printed" \
    "[ $member_status = 1 ] && [ $refused = 6 ] && [ ! -s '$WORK/out.records' ] || { cat '$WORK/err.records'; false; }"
mkdir -m 755 -p "$WORK/member/ebpf.d"
printf '[global]\n update every = 1\n[ebpf programs]\n process = yes\n fd = no\n sync = no\n mount = no\n oomkill = no\n shm = no\n network connections = yes\n' \
    > "$WORK/member/ebpf.d.conf"
printf '[bash]\n enabled = yes\n' > "$WORK/member/ebpf.d/bash.conf"
printf '[trace_exec]\n enabled = yes\n[trace_malloc]\n enabled = yes\n' > "$WORK/member/ebpf.d/traces.conf"
printf '[dns flows]\n enabled = yes\n[http flows]\n enabled = yes\n' > "$WORK/member/ebpf.d/network.conf"
start_as daemon member
refused=$(for source in "flows: refused" "httpflow: refused" "bash: refused" "dns flows: refused" "traces: trace_exec refused"; do
    grep -F -- ": $source: $why" "$WORK/err.member"; done | wc -l)
check "a normal run by another member of the group: flows, httpflow, bash, dns and exec refused ($refused of 5 lines), malloc kept, the rest collects" \
    "grep -q '^END' '$WORK/out.member' && [ $refused = 5 ] && [ \$(grep -c refused '$WORK/err.member') = 5 ] || { cat '$WORK/err.member'; false; }"
exec 3>&-
wait "$PLUGIN"; PLUGIN=''
# nobody, whose login group owns the binary, is the agent's user: it sees root's exec (no rate
# limit: a busy host's other execs would leave it out)
probe_name="suexec-$$"   # comm keeps 15 bytes
cp /bin/true "$WORK/$probe_name"
mkdir -m 755 -p "$WORK/agent/ebpf.d"
printf '[trace_exec]\n records per second = 0\n' > "$WORK/agent/ebpf.d/traces.conf"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    env NETDATA_USER_CONFIG_DIR="$WORK/agent" NETDATA_STOCK_CONFIG_DIR="$WORK/none" \
    timeout 10 "$WORK/ebpf.plugin" --records exec 1 > "$WORK/out.agent" 2> "$WORK/err.agent" &
agent=$!
for _ in $(seq 50); do grep -q 'traces: trace_exec on' "$WORK/err.agent" && break; sleep 0.2; done
"$WORK/$probe_name"
wait "$agent"
check "--records exec by the agent's user: root's exec of $probe_name is a record, nothing refused" \
    "grep -qF '\"$probe_name\"' '$WORK/out.agent' && ! grep -q refused '$WORK/err.agent' || { cat '$WORK/err.agent'; false; }"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
