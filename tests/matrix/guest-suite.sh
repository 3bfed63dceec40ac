#!/bin/sh
# Runs inside one kernel (a guest, or the host): --check, the verifier pass, then the
# live suite and the syscall modules' test (sync, mount, shm, oomkill) once per
# forced attach path (return mode) and once in auto mode (entry mode), and the
# table modules' suite (latency_test.py) likewise. Writes
# its results under $1 (a directory shared with the host).
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
# The suites of the modules added in late 2026 (syscall: sync, mount, shm, oomkill; latency:
# hardirq, softirq, disk, filesystem, mdflush; cache: cachestat, dcstat, swap) run in one guest kernel,
# 6.1, to keep the matrix within its time budget under emulation; elsewhere the matrix shows
# their verifier pass only, and says so (written first: a guest stopped early is not taken for
# one whose suites failed).
case "$(uname -r)" in
6.1.*) more_suites=yes ;;
*) more_suites=no; echo "syscall latency cache" > "$results/suites-not-run" ;;
esac
for path in $paths; do
    python3 "$repo/tests/live/live_test.py" --attach "$path" --expect-path "$path" --mode return \
        --results "$results/live-$path.json" > "$results/live-$path.log" 2>&1
done
python3 "$repo/tests/live/live_test.py" --expect-path "$auto_expected" --mode entry \
    --results "$results/live-auto.json" > "$results/live-auto.log" 2>&1
[ "$more_suites" = yes ] || exit 0
for path in $paths; do
    python3 "$repo/tests/live/syscall_test.py" --attach "$path" --expect-path "$path" --mode return \
        --results "$results/syscall-$path.json" > "$results/syscall-$path.log" 2>&1
    python3 "$repo/tests/live/latency_test.py" --attach "$path" --expect-path "$path" \
        --results "$results/latency-$path.json" > "$results/latency-$path.log" 2>&1
    # cachestat, dcstat, swap: trampoline or kprobe only (where neither works they must say why)
    python3 "$repo/tests/live/cache_test.py" --attach "$path" --expect-path "$path" \
        --results "$results/cache-$path.json" > "$results/cache-$path.log" 2>&1
done
python3 "$repo/tests/live/syscall_test.py" --expect-path "$auto_expected" --mode entry \
    --results "$results/syscall-auto.json" > "$results/syscall-auto.log" 2>&1
python3 "$repo/tests/live/latency_test.py" --results "$results/latency-auto.json" \
    > "$results/latency-auto.log" 2>&1
python3 "$repo/tests/live/cache_test.py" --expect-path "$auto_expected" \
    --results "$results/cache-auto.json" > "$results/cache-auto.log" 2>&1
exit 0
