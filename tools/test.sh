#!/usr/bin/env bash
# One command for every test: installs what is missing, builds, then runs the
# build checks (a second make does nothing), the unit tests, the live suite on
# this kernel, the end-to-end test with Debian's Netdata agent and the kernel
# matrix (Debian guest kernels under qemu).
# Needs root. Closes with "N passed, M failed" over all checks.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

tools/install-deps.sh test || exit 1
make -j"$(nproc)" all build/unit-tests || exit 1

passed=0 failed=0 broken=()
# Runs one suite and adds its closing "N passed, M failed" (or doctest's) to the totals.
suite() {
    local name=$1; shift
    echo "=== $name: $*"
    local log; log=$(mktemp)
    "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local counts
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$counts" ]; then
        counts=$(sed -nE 's/^\[doctest\] test cases: *[0-9]+ \| *([0-9]+) passed \| *([0-9]+) failed.*/\1 passed, \2 failed/p' "$log" | tail -1)
    fi
    rm -f "$log"
    local p f
    p=$(echo "$counts" | awk '{print $1}')
    f=$(echo "$counts" | awk '{print $3}')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$status" != 0 ] || [ -z "$counts" ]; then
        broken+=("$name")
        [ "${f:-0}" != 0 ] || failed=$((failed + 1))
    fi
}

suite build tests/build/run.sh
suite unit build/unit-tests
suite fuzz tests/fuzz/run.sh
suite live tests/live/run.sh
suite e2e tests/e2e/run.sh
suite matrix tests/matrix/run.sh

echo "=== suites failed: ${broken[*]:-none}"
echo "$passed passed, $failed failed"
[ "${#broken[@]}" = 0 ]
