#!/bin/sh
# Runs inside one kernel (a guest, or the host): --check, the verifier pass, then the
# live suite (process, fd, vfs, socket) once per forced attach path (return mode) and once
# in auto mode (entry mode), and the suites of the other modules as this kernel's plan says.
# Writes its results under $1 (a directory shared with the host).
# usage: guest-suite.sh RESULTS_DIR "PATHS" AUTO_EXPECTED
set -u
results=$1 paths=$2 auto_expected=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$results"
uname -r > "$results/kernel"
"$repo/build/ebpf.plugin" --check > "$results/check" 2> "$results/check.stderr"
# the suites read this instead of running --check again (most of a minute under emulation)
export EBPF_PLUGIN_CHECK_OUTPUT="$results/check"
"$repo/build/ebpf.plugin" --verify > "$results/verify" 2> "$results/verify.stderr"

# The other modules' suites (syscall: sync, mount, shm, oomkill; latency: hardirq, softirq,
# disk, filesystem, mdflush; cache: cachestat, dcstat, swap), within the matrix's time under emulation:
# every path in 6.1, auto mode in 5.10, 6.12 and 7.2. The host runs them in tests/live. The plan is written
# first: a guest stopped early is not taken for one whose suites failed.
case "$(uname -r)" in
6.1.*) every_path="syscall latency cache" auto_only="" not_run="" ;;
5.10.* | 6.12.* | 7.2.*) every_path="" auto_only="syscall latency cache" not_run="" ;;
*) every_path="" auto_only="" not_run="syscall latency cache" ;;
esac
echo "$not_run" > "$results/suites-not-run"
echo "$auto_only" > "$results/suites-auto-only"

# suite NAME PATH|auto: one run, a forced path (return mode where the suite has modes) or auto
# (entry mode; the table modules' own choice of path, tracepoints, is not the others')
suite() {
    case $1 in live | syscall) return_mode="--mode return" entry_mode="--mode entry" ;;
    *) return_mode="" entry_mode="" ;; esac
    expect_auto="--expect-path $auto_expected"
    [ "$1" != latency ] || expect_auto=""
    if [ "$2" = auto ]; then
        # shellcheck disable=SC2086
        python3 "$repo/tests/live/$1_test.py" $expect_auto $entry_mode \
            --results "$results/$1-auto.json" > "$results/$1-auto.log" 2>&1
    else
        # shellcheck disable=SC2086
        python3 "$repo/tests/live/$1_test.py" --attach "$2" --expect-path "$2" $return_mode \
            --results "$results/$1-$2.json" > "$results/$1-$2.log" 2>&1
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
exit 0
