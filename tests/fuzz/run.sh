#!/bin/sh
# Fuzzes the flow filter (parse + evaluate), the HTTP parser (heads and
# request/answer pairing) and the DNS parser for FUZZ_SECONDS each (default 25)
# with libFuzzer, ASan and UBSan; a crash, leak, sanitizer report or broken
# invariant fails. Prints "ok - ..." / "not ok - ..." and "N passed, M failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-25}
cd "$root"
if ! make -s fuzz >/dev/null; then
    echo "not ok - make fuzz builds the fuzzers"
    echo "0 passed, 1 failed"
    exit 1
fi
passed=0 failed=0
# fuzz TARGET CORPUS WHAT
fuzz() {
    work=$(mktemp -d)
    cp "tests/fuzz/corpus/$2"/* "$work/"
    log="$work.log"
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "build/fuzz/$1" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="build/fuzz/crash-$2-" "$work" >"$log" 2>&1
    status=$?
    rm -rf "$work"
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    if [ "$status" = 0 ] && [ -n "$runs" ] && ! grep -q 'runtime error\|ERROR: AddressSanitizer\|ERROR: libFuzzer' "$log"; then
        echo "ok - $3 fuzzed for ${seconds}s: $runs runs, no crash, no sanitizer report"
        rm -f "$log"
        passed=$((passed + 1))
    else
        tail -40 "$log"; ls build/fuzz/crash-"$2"-* 2>/dev/null
        echo "not ok - $3 fuzzer (exit $status; log $log)"
        failed=$((failed + 1))
    fi
}
fuzz filter-fuzz filter "flow filter"
fuzz http-fuzz http "HTTP parser"
fuzz dns-fuzz dns "DNS parser"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
