#!/usr/bin/env bash
# What ebpf.plugin and tools/check-kernel-config.sh tell a user on this kernel:
#   - --version names the version, the compilers and libbpf;
#   - --check gives each refused path a reason a user can act on, reads no
#     configuration, and knows the lockdown mode (securityfs, mounted privately);
#   - --verify exits 0 where the plugin works: a path the kernel refuses is not a failure;
#   - check-kernel-config.sh without a plugin claims no path it did not probe.
# Prints "ok - ..." per check and "N passed, M failed". Needs root.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PLUGIN="$ROOT/build/ebpf.plugin"
passed=0 failed=0
check() {
    if eval "$2"; then echo "ok - $1"; passed=$((passed + 1))
    else echo "not ok - $1${3:+: $3}"; failed=$((failed + 1)); fi
}

version=$("$PLUGIN" --version 2>&1)
check "--version names the version, the C++ compiler, libbpf and clang" \
    "grep -qE '^ebpf\.plugin [^ ]+$' <<< \"\$version\" && grep -qE '^built with g\+\+ [0-9.]+.*, libbpf [0-9]+\.[0-9]+ .*, BPF programs by clang [0-9.]+$' <<< \"\$version\"" \
    "$version"

check_out=$("$PLUGIN" --check 2>/dev/null)
check_status=$?
check_err=$("$PLUGIN" --check 2>&1 >/dev/null)
check "--check exits 0 (a path works here)" "[ $check_status = 0 ]" "exit $check_status"
check "--check reads no configuration (no config warning)" "! grep -qE 'ignored|not supported' <<< \"\$check_err\"" \
    "$(head -2 <<< "$check_err")"
# A reason names what refused and why, not only an errno.
bare=$(grep -E ': refused: ' <<< "$check_out" |
    grep -E 'refused: (load failed: [A-Za-z ]+|attach of [^ ]+ failed: [A-Za-z ]+)$' || true)
check "every refused path says why, not only an errno" "[ -z \"\$bare\" ]" "$bare"
if grep -qw securityfs /proc/filesystems; then
    check "--check knows the lockdown mode (securityfs, mounted privately if need be)" \
        "grep -qE '^kernel: .*lockdown (none|integrity|confidentiality) \(securityfs' <<< \"\$check_out\"" \
        "$(head -1 <<< "$check_out")"
fi
if [ ! -e /sys/bus/event_source/devices/kprobe ] && ! grep -qw kprobe_events <(ls /sys/kernel/tracing 2>/dev/null); then
    check "a kernel without kprobes is named so" \
        "grep -qx 'kprobe: refused: this kernel has no kprobes (CONFIG_KPROBES or CONFIG_KPROBE_EVENTS is not set)' <<< \"\$check_out\""
fi

verify_out=$("$PLUGIN" --verify 2>/dev/null)
verify_status=$?
check "--verify exits 0 where the plugin works" "[ $verify_status = 0 ]" "exit $verify_status"
check "--verify: no program set failed, at least one loaded" \
    "! grep -q ' failed: ' <<< \"\$verify_out\" && grep -qE '^verify [a-z]+ [a-z]+ [a-z]+ ok$' <<< \"\$verify_out\""
# A path --verify calls refused is one --check refuses too.
mismatch=""
for path in $(awk '$5 == "refused:" {print $3}' <<< "$verify_out" | sort -u); do
    grep -qE "^$path( \([^)]*\))?: refused: " <<< "$check_out" || mismatch="$mismatch $path"
done
check "--verify calls refused only the paths --check refuses" "[ -z \"\$mismatch\" ]" "$mismatch"

script_out=$("$ROOT/tools/check-kernel-config.sh" --plugin /nonexistent/ebpf.plugin 2>&1)
check "check-kernel-config.sh without a plugin claims no usable path it did not probe" \
    "! grep -q 'usable attach paths' <<< \"\$script_out\" && grep -q '^summary: .*not probed' <<< \"\$script_out\"" \
    "$(grep summary <<< "$script_out")"
plugin_lockdown=$(sed -nE 's/^kernel: .*lockdown ([a-z]+).*/\1/p' <<< "$check_out")
script_lockdown=$(sed -nE 's/^lockdown: ([a-z]+).*/\1/p' <<< "$script_out")
check "the plugin and check-kernel-config.sh agree on lockdown" "[ \"$plugin_lockdown\" = \"$script_lockdown\" ]" \
    "plugin $plugin_lockdown, script $script_lockdown"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
