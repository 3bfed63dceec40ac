#!/bin/sh
# Live suite on the running kernel: auto mode in return and entry mode, and
# every attach path this kernel allows, forced.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
python3 "$here/live_test.py" --mode return || status=1
python3 "$here/live_test.py" --mode entry || status=1
exit $status
