#!/bin/sh
# Runs inside one kernel (a guest, or the host): --check, the verifier pass, then the
# live suite (process, fd, vfs, socket) once per forced attach path (return mode) and once
# in auto mode (entry mode), and the suites of the other modules as this kernel's plan says.
# Writes its results under $1 (a directory shared with the host), and each step's start and end
# to $1/steps: the host's watchdog sees a guest that stopped making progress. A step already done
# (a second boot after the guest kernel crashed or hung) is not run again.
# usage: guest-suite.sh RESULTS_DIR "PATHS" AUTO_EXPECTED
set -u
results=$1 paths=$2 auto_expected=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$results"
uname -r > "$results/kernel"
# A step that hangs is stopped (exit 124 in steps) and the next one runs: normally the longest
# takes under 3 minutes under emulation.
STEP_TIMEOUT=${STEP_TIMEOUT:-480}

# step NAME OUTPUT COMMAND...: runs COMMAND (stdout to OUTPUT, stderr to OUTPUT.stderr or into a
# .log OUTPUT) unless an earlier boot finished it (NAME.done)
step() {
    local step_name=$1 output=$2 status
    shift 2
    [ ! -e "$results/$step_name.done" ] || return 0
    echo "start $step_name $(date +%s)" >> "$results/steps"
    case $output in
    *.log) timeout -k 10 "$STEP_TIMEOUT" "$@" > "$results/$output" 2>&1 ;;
    *) timeout -k 10 "$STEP_TIMEOUT" "$@" > "$results/$output" 2> "$results/$output.stderr" ;;
    esac
    status=$?
    echo "end $step_name $status $(date +%s)" >> "$results/steps"
    : > "$results/$step_name.done"
}

# The other modules' suites (syscall: sync, mount, shm, oomkill; latency: hardirq, softirq,
# disk, filesystem, mdflush; cache: cachestat, dcstat, swap), within the matrix's time under emulation:
# every path in 6.1, auto mode in 5.10, 6.12 and 7.2. The host runs them in tests/live. The plan is written
# first: a guest stopped early is not taken for one whose suites failed.
# Suites run once (auto mode) in some guests, each a row of its own: the netflow records and
# their NAT tags (flows, nat) where the flows take the trampoline path (kernels before 6.3 have
# no sock_send_length tracepoint; the host runs the tracepoint path), the cost charts and limits
# (self) in the oldest and newest guests, Fluent Bit's traces and the bash log (traces, bash) in
# every guest, the network viewer (netview) in 6.12; the DNS flows (dns: in 5.10 and 6.1 the kernel cannot, and the
# suite checks the plugin says why) and the HTTP flows (http) in every guest (the host runs both).
case "$(uname -r)" in
6.1.*) every_path="syscall latency cache" auto_only="" not_run="" once="flows nat traces bash dns http" ;;
5.10.*) every_path="" auto_only="syscall latency cache" not_run="" once="flows nat self traces bash dns http" ;;
6.12.*) every_path="" auto_only="syscall latency cache" not_run="" once="traces bash netview dns http" ;;
7.2.*) every_path="" auto_only="syscall latency cache" not_run="" once="self traces bash dns http" ;;
*) every_path="" auto_only="" not_run="syscall latency cache" once="" ;;
esac
echo "$not_run" > "$results/suites-not-run"
echo "$auto_only" > "$results/suites-auto-only"
echo "$once" > "$results/suites-once"

# --check and --verify side by side: each loads every module's programs in one thread, most of a
# minute of CPU under emulation. Not in 5.10: two plugins attaching and detaching trampolines at
# once locked its kernel up there under multi-threaded TCG (soft lockups on both CPUs, twice in a
# row in one CI run), so one after the other.
case "$(uname -r)" in
5.10.*)
    step check check "$repo/build/ebpf.plugin" --check
    step verify verify "$repo/build/ebpf.plugin" --verify
    ;;
*)
    step check check "$repo/build/ebpf.plugin" --check &
    step verify verify "$repo/build/ebpf.plugin" --verify &
    wait
    ;;
esac
# the suites read this instead of running --check again
export EBPF_PLUGIN_CHECK_OUTPUT="$results/check"

# suite NAME PATH|auto: one run, a forced path (return mode where the suite has modes) or auto
# (entry mode; the table modules' own choice of path, tracepoints, is not the others')
suite() {
    local return_mode entry_mode expect_auto
    case $1 in live | syscall) return_mode="--mode return" entry_mode="--mode entry" ;;
    *) return_mode="" entry_mode="" ;; esac
    expect_auto="--expect-path $auto_expected"
    [ "$1" != latency ] || expect_auto=""
    if [ "$2" = auto ]; then
        # shellcheck disable=SC2086
        step "$1-auto" "$1-auto.log" python3 "$repo/tests/live/$1_test.py" $expect_auto $entry_mode \
            --results "$results/$1-auto.json"
    else
        # shellcheck disable=SC2086
        step "$1-$2" "$1-$2.log" python3 "$repo/tests/live/$1_test.py" --attach "$2" --expect-path "$2" \
            $return_mode --results "$results/$1-$2.json"
    fi
}

for path in $paths; do
    suite live "$path"
done
suite live auto
for name in $every_path; do
    for path in $paths; do
        suite "$name" "$path"
    done
done
for name in $every_path $auto_only; do
    suite "$name" auto
done
for name in $once; do
    step "$name" "$name.log" python3 "$repo/tests/live/${name}_test.py" --results "$results/$name.json"
done
exit 0
