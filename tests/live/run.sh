#!/bin/sh
# Live suite on the running kernel (the kernel matrix adds forced attach paths
# and guest kernels): auto mode in return and entry mode, shared tables, and a
# pid table too small for the host.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0 passed=0 failed=0
run() {
    out=$(python3 "$here/live_test.py" "$@") || status=1
    echo "$out"
    counts=$(echo "$out" | tail -1)
    passed=$((passed + $(echo "$counts" | awk '{print $1}')))
    failed=$((failed + $(echo "$counts" | awk '{print $3}')))
}
run --mode return
run --mode entry
run --mode return --shared-tables
run --mode return --pid-table-size 16
echo "$passed passed, $failed failed"
exit $status
