#!/usr/bin/env bash
# Build checks, run after a full build: a build from scratch keeps every
# generated file, a second make does nothing (no regenerated skeleton, no
# relink), `make -q` agrees, a changed chart file rebuilds only the embedded
# chart data and the two binaries that link it, and make install / uninstall
# (into a scratch DESTDIR) leave nothing behind.
# Prints "ok - ..." / "not ok - ..." per check and, last, "N passed, M failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGETS=(all build/unit-tests)
passed=0 failed=0
check() {
    if [ "$1" = 0 ]; then echo "ok - $2"; passed=$((passed + 1))
    else echo "not ok - $2${3:+: $3}"; failed=$((failed + 1)); fi
}
# The commands make ran: every line but its "up to date" / "Nothing to be done" notes.
commands_of() { grep -vE "^make(\[[0-9]+\])?: (Nothing to be done for|'.*' is up to date)" || true; }
build_mtimes() { (cd "$ROOT" && find build -type f ! -name '*.d' -printf '%p %T@\n' | sort); }
# Files of build/ written since the listing $1, on one line.
changed_since() { diff <(echo "$1") <(build_mtimes) | awk '/^>/ {print $2}' | tr '\n' ' ' | sed 's/ $//'; }

make -C "$ROOT" -s "${TARGETS[@]}" >/dev/null 2>&1 || { echo "not ok - the build itself failed"; echo "0 passed, 1 failed"; exit 1; }

# From scratch, make would delete generated files it counts as intermediates
# (the skeletons) and regenerate them, with all that includes them, next time.
# A dry run in an empty build directory shows that without building.
scratch=$(mktemp -d /tmp/ebpf-build.XXXXXX)
deleted=$(make -C "$ROOT" --no-print-directory -n BUILD="$scratch/build" "${TARGETS[@]}" 2>&1 | grep -E '^rm ' || true)
rm -rf "$scratch"
check "$([ -z "$deleted" ] && echo 0 || echo 1)" "a build from scratch deletes no generated file as an intermediate" "$deleted"

before=$(build_mtimes)
ran=$(make -C "$ROOT" --no-print-directory "${TARGETS[@]}" 2>&1 | commands_of)
check "$([ -z "$ran" ] && echo 0 || echo 1)" "a second make runs nothing" "$(head -3 <<< "$ran")"
changed=$(changed_since "$before")
check "$([ -z "$changed" ] && echo 0 || echo 1)" "a second make rewrites no file in build/" "$changed"
make -C "$ROOT" --no-print-directory -q "${TARGETS[@]}"
check $? "make -q says the build is up to date"

# A chart file's content is unchanged; only its time moves.
touch "$ROOT/charts/self.conf"
make -C "$ROOT" --no-print-directory -q "${TARGETS[@]}"
check "$([ $? = 1 ] && echo 0 || echo 1)" "make -q sees a changed charts/self.conf"
before=$(build_mtimes)
make -C "$ROOT" -s "${TARGETS[@]}" >/dev/null 2>&1
rebuilt=$(changed_since "$before")
want="build/charts_data.cpp build/ebpf.plugin build/obj/charts_data.o build/unit-tests"
check "$([ "$rebuilt" = "$want" ] && echo 0 || echo 1)" "a changed chart file rebuilds only the chart data and relinks" "rebuilt: $rebuilt"
make -C "$ROOT" --no-print-directory -q "${TARGETS[@]}"
check $? "make -q says up to date again"

# install and uninstall into a scratch root.
dest=$(mktemp -d /tmp/ebpf-install.XXXXXX)
make -C "$ROOT" -s install DESTDIR="$dest" >/dev/null 2>&1
mode=$(stat -c %a "$dest/usr/lib/netdata/plugins.d/ebpf.plugin" 2>/dev/null)
check "$([ "$mode" = 4750 ] && [ -f "$dest/etc/systemd/system/netdata.service.d/ebpf-plugin.conf" ] && echo 0 || echo 1)" \
    "make install puts the setuid plugin and the systemd drop-in in place" "plugin mode ${mode:-missing}"
make -C "$ROOT" -s uninstall DESTDIR="$dest" >/dev/null 2>&1
left=$(cd "$dest" && { find usr/lib/netdata/plugins.d -mindepth 1; find etc/systemd/system/netdata.service.d; } 2>/dev/null |
    tr '\n' ' ')
check "$([ -z "$left" ] && echo 0 || echo 1)" "make uninstall leaves no plugin, drop-in or empty drop-in directory" "left: $left"
rm -rf "$dest"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
