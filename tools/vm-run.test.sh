#!/bin/bash
# tools/vm-run.test.sh - checks tools/vm-run with one Debian kernel series.
#   tools/vm-run.test.sh [SERIES]     (default 6.1); exit status = number of failed cases
set -u
series=${1:-6.1}
vm_run=$(cd "$(dirname "$0")" && pwd)/vm-run
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work/tmp   # vm-run's run directories, so leftovers can be seen
mkdir "$TMPDIR" "$work/cwd"
cd "$work/cwd" || exit 1
failed=0

run() { "$vm_run" --kernel "$series" "$@"; }
microseconds() { echo "${EPOCHREALTIME/./}"; }
started=$(microseconds)
check() {  # name expected actual; also prints how long the case took
	local took=$(( ($(microseconds) - started) / 100000 ))
	if [[ $3 == "$2" ]]; then
		printf 'PASS %-22s %3d.%d s\n' "$1" $((took / 10)) $((took % 10))
	else
		printf 'FAIL %-22s %3d.%d s: expected [%s], got [%s]\n' "$1" $((took / 10)) $((took % 10)) "$2" "$3"
		failed=$((failed + 1))
	fi
	started=$(microseconds)
}

release=$(run -- uname -r)
[[ $release =~ ^([0-9]+\.[0-9]+)\.[^\ ]*-amd64$ ]]
check "kernel series" "$series" "${BASH_REMATCH[1]-$release}"

run -- sh -c 'echo to stdout; exit 42' > /dev/null
check "exit status" 42 $?

run -- sh -c 'echo OUT; echo ERR >&2' > stdout.txt 2> stderr.txt
check "stdout/stderr apart" "OUT|ERR" "$(cat stdout.txt)|$(cat stderr.txt)"

run -- sh -c 'echo written in the guest > from-guest.txt'
check "file in shared cwd" "written in the guest" "$(cat from-guest.txt 2>&1)"

check "bpftool from host /usr" "$(bpftool version 2>&1)" "$(run -- bpftool version 2>&1)"

check "only lo, up" "lo 0x9" "$(run -- sh -c 'cd /sys/class/net && echo * $(cat lo/flags)')"

check "guest mounts" "tracefs debugfs bpf cgroup2" "$(run -- awk '$2 ~ "^/sys/(kernel/tracing|kernel/debug|fs/bpf|fs/cgroup)$" { print $3 }' /proc/mounts | xargs)"

run -- sh -c 'touch /usr/vm-run-probe 2> /dev/null; echo $?' > probe.txt
check "host /usr read-only" "1 absent" "$(cat probe.txt) $([[ -e /usr/vm-run-probe ]] && echo present || echo absent)"

check "argument quoting" "[it's][a \"b\"][\$x \`y\`][][ ]" "$(run -- printf '[%s]' "it's" 'a "b"' '$x `y`' '' ' ')"

begin=$SECONDS
run --timeout 15 -- sleep 600 2> /dev/null
status=$?
check "timeout" "124 bounded" "$status $( ((SECONDS - begin < 40)) && echo bounded || echo "$((SECONDS - begin)) s")"

"$vm_run" --kernel "$series" -- sleep 600 &
sleep 4
kill -TERM $!
wait $!
status=$?
sleep 1
check "TERM cleans up" "143 0 0" "$status $(find "$TMPDIR" -mindepth 1 | wc -l) $(pgrep -fc "$TMPDIR/vm-run")"

exit "$failed"
