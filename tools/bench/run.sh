#!/bin/sh
# make bench: the plugin's cost on the running kernel (tools/bench/bench.py,
# figures in docs/BENCHMARKS.md). Needs root; takes about ten minutes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
