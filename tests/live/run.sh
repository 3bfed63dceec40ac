#!/bin/sh
# Live suite on the running kernel (the kernel matrix adds forced attach paths
# and guest kernels): auto mode in return and entry mode, shared tables, a pid
# table too small for the host, deep short-lived process trees grouped exactly,
# and a setuid start by an unprivileged user.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0 passed=0 failed=0
run() {
    out=$("$@") || status=1
    echo "$out"
    counts=$(echo "$out" | tail -1)
    passed=$((passed + $(echo "$counts" | awk '{print $1}')))
    failed=$((failed + $(echo "$counts" | awk '{print $3}')))
}
run python3 "$here/live_test.py" --mode return
run python3 "$here/live_test.py" --mode entry
run python3 "$here/live_test.py" --mode return --shared-tables
run python3 "$here/live_test.py" --mode return --pid-table-size 4
run python3 "$here/live_test.py" --mode entry --tree 500
run "$here/setuid_test.sh"
echo "$passed passed, $failed failed"
exit $status
