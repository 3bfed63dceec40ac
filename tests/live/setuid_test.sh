#!/usr/bin/env bash
# The setuid start, as Debian's agent does it (user netdata running a
# 4750 root:netdata binary), here with user nobody:
#   - a config dir the caller cannot read is not read through us;
#   - once attached, the plugin runs as the caller with no capability and an
#     empty environment, and still collects.
# Prints "ok - ..." per check and "N passed, M failed". Needs root.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=$(mktemp -d /var/tmp/ebpf-setuid.XXXXXX)   # not /tmp: it may be mounted nosuid
passed=0 failed=0
check() { if eval "$2"; then echo "ok - $1"; passed=$((passed+1)); else echo "not ok - $1"; failed=$((failed+1)); fi; }
cleanup() { [ -n "${PLUGIN:-}" ] && kill "$PLUGIN" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

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
exec 3>&-
wait "$PLUGIN"; code=$?; PLUGIN=''
check "exits 0 when stdin closes" "[ $code = 0 ]"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
