#!/bin/sh
# Fuzzes the flow filter (parse + evaluate) for FUZZ_SECONDS (default 60) with
# libFuzzer, ASan and UBSan; a crash, leak, sanitizer report or broken
# invariant fails. Prints "ok - ..." / "not ok - ..." and "N passed, M failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
cd "$root"
if ! make -s fuzz >/dev/null; then
    echo "not ok - make fuzz builds the fuzzer"
    echo "0 passed, 1 failed"
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/filter/* "$work/"
log="$work.log"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build/fuzz/filter-fuzz -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
    -artifact_prefix="build/fuzz/crash-" "$work" >"$log" 2>&1
status=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
if [ "$status" = 0 ] && [ -n "$runs" ] && ! grep -q 'runtime error\|ERROR: AddressSanitizer\|ERROR: libFuzzer' "$log"; then
    echo "ok - flow filter fuzzed for ${seconds}s: $runs runs, no crash, no sanitizer report"
    rm -f "$log"
    echo "1 passed, 0 failed"
else
    tail -40 "$log"; ls build/fuzz/crash-* 2>/dev/null
    echo "not ok - flow filter fuzzer (exit $status; log $log)"
    echo "0 passed, 1 failed"
    exit 1
fi
