#!/bin/sh
# Says which attach paths (trampoline, kprobe, tracepoint) this kernel allows
# ebpf.plugin to use and why, from the kernel config and the running system,
# then asks ebpf.plugin itself (--check), which really loads and attaches.
# Without a plugin to ask, it says what the config allows and that nothing was
# probed (a kernel can refuse a path its config allows).
# Exit 0 when at least one path is usable (or, unprobed, allowed), 1 otherwise.
#
# usage: check-kernel-config.sh [--plugin PATH]
set -u

paths="trampoline kprobe tracepoint"
btf_file=/sys/kernel/btf/vmlinux
lockdown_file=/sys/kernel/security/lockdown

usage() {
    echo "usage: $0 [--plugin PATH]"
    echo "PATH defaults to ../build/ebpf.plugin next to this script, else /usr/lib/netdata/plugins.d/ebpf.plugin"
}

plugin=""
while [ $# -gt 0 ]; do
    case $1 in
    --plugin) [ $# -ge 2 ] || { usage >&2; exit 2; }; plugin=$2; shift 2 ;;
    --plugin=*) plugin=${1#--plugin=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

if [ "$(uname -s)" != Linux ]; then
    echo "kernel: $(uname -s) is not Linux; eBPF needs Linux"
    echo "summary: no attach path is usable"
    exit 1
fi

config_file=$(mktemp) || exit 1
unload_configs=no
trap 'rm -f "$config_file"; [ "$unload_configs" = no ] || modprobe -r configs 2>/dev/null' EXIT
trap 'exit 1' HUP INT TERM

# --- kernel version -------------------------------------------------------
release=$(uname -r)
major=$(printf '%s' "$release" | sed -n 's/^\([0-9][0-9]*\)\..*/\1/p')
minor=$(printf '%s' "$release" | sed -n 's/^[0-9][0-9]*\.\([0-9][0-9]*\).*/\1/p')
major=${major:-0}
minor=${minor:-0}
kernel_at_least() { [ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }; }

# --- kernel config ----------------------------------------------------------
# The configs module provides /proc/config.gz on kernels that build it as a module.
if [ ! -e /proc/config.gz ] && [ "$(id -u)" -eq 0 ] && command -v modprobe >/dev/null 2>&1; then
    if modprobe configs 2>/dev/null && [ -e /proc/config.gz ]; then
        unload_configs=yes
    fi
fi
config_source=""
for candidate in /proc/config.gz \
    "/lib/modules/$release/source/.config" \
    "/lib/modules/$release/build/.config" \
    "/boot/config-$release" \
    "/lib/modules/$release/config"; do
    [ -r "$candidate" ] || continue
    case $candidate in
    *.gz) gzip -dc <"$candidate" >"$config_file" 2>/dev/null || continue ;;
    *) cat <"$candidate" >"$config_file" || continue ;;
    esac
    if grep -q '^CONFIG_' "$config_file"; then
        config_source=$candidate
        break
    fi
done

config_value() { sed -n "s/^CONFIG_$1=//p" "$config_file" | tail -n 1; }

# Verdict state of the path being checked: reasons it is possible, reasons it
# is not, and options that could not be checked.
met=""
unmet=""
unchecked=""
append() { if [ -n "$1" ]; then printf '%s, %s' "$1" "$2"; else printf '%s' "$2"; fi; }
meet() { met=$(append "$met" "$1"); }
fail() { unmet=$(append "$unmet" "$1"); }

require_config() {
    for name in "$@"; do
        if [ -z "$config_source" ]; then
            unchecked=$(append "$unchecked" "CONFIG_$name")
            continue
        fi
        value=$(config_value "$name")
        case $value in
        y) meet "CONFIG_$name=y" ;;
        "") fail "CONFIG_$name is not set" ;;
        *) fail "CONFIG_$name=$value (needs y)" ;;
        esac
    done
}

# Prints "<path>: possible|not possible|unknown (reasons)", sets $possible
# to yes|no|unknown and resets the state.
verdict() {
    if [ -n "$unmet" ]; then
        echo "$1: not possible ($unmet)"
        possible=no
    elif [ -n "$unchecked" ]; then
        echo "$1: unknown (no kernel config to check $unchecked${met:+; $met})"
        possible=unknown
    else
        echo "$1: possible ($met)"
        possible=yes
    fi
    met=""
    unmet=""
    unchecked=""
}

# --- what every path needs -----------------------------------------------
echo "kernel: $release"
if [ -n "$config_source" ]; then
    echo "config: $config_source"
else
    echo "config: not found (tried /proc/config.gz, /lib/modules/$release/{source,build}/.config," \
        "/boot/config-$release, /lib/modules/$release/config)"
fi

if kernel_at_least 4 11; then meet "kernel $major.$minor >= 4.11"; else fail "kernel $major.$minor < 4.11"; fi
require_config BPF BPF_SYSCALL BPF_JIT

# Every ebpf.plugin program is CO-RE: it is relocated against the kernel's BTF.
btf_config=$(if [ -n "$config_source" ]; then config_value DEBUG_INFO_BTF; else echo unknown; fi)
if [ -r "$btf_file" ]; then
    echo "btf: $btf_file (CONFIG_DEBUG_INFO_BTF=${btf_config:-not set})"
    meet "BTF"
else
    echo "btf: missing (CONFIG_DEBUG_INFO_BTF=${btf_config:-not set})"
    fail "no readable $btf_file, which CO-RE programs need"
fi

# The running mode is in securityfs; without it, the boot command line and
# the config say how the kernel started.
lockdown=""
lockdown_origin=""
# securityfs unmounted: root mounts it in a private mount namespace to read it.
private_lockdown=""
if [ ! -r "$lockdown_file" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1; then
    private_lockdown=$(unshare -m sh -c "mount -t securityfs securityfs /sys/kernel/security 2>/dev/null &&
        cat $lockdown_file" 2>/dev/null)
fi
if [ -r "$lockdown_file" ]; then
    lockdown=$(sed -n 's/.*\[\([a-z]*\)\].*/\1/p' "$lockdown_file")
    lockdown_origin=$lockdown_file
elif [ -n "$private_lockdown" ]; then
    lockdown=$(printf '%s\n' "$private_lockdown" | sed -n 's/.*\[\([a-z]*\)\].*/\1/p')
    lockdown_origin="$lockdown_file, securityfs mounted privately"
elif lockdown=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^lockdown=//p' | tail -n 1) && [ -n "$lockdown" ]; then
    lockdown_origin="kernel command line (securityfs not mounted)"
elif [ "$(config_value LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY)" = y ]; then
    lockdown=confidentiality lockdown_origin="CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y; securityfs not mounted"
elif [ "$(config_value LOCK_DOWN_KERNEL_FORCE_INTEGRITY)" = y ]; then
    lockdown=integrity lockdown_origin="CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y; securityfs not mounted"
elif [ -n "$config_source" ] && [ "$(config_value SECURITY_LOCKDOWN_LSM)" != y ]; then
    lockdown=none lockdown_origin="CONFIG_SECURITY_LOCKDOWN_LSM is not set"
else
    lockdown_origin="securityfs not mounted; mount -t securityfs securityfs /sys/kernel/security"
fi
echo "lockdown: ${lockdown:-unknown} ($lockdown_origin)"
case $lockdown in
confidentiality) fail "lockdown=confidentiality forbids BPF reads of kernel memory, kprobes and perf events" ;;
none | integrity) meet "lockdown=$lockdown" ;;
esac

tracefs=mounted
if [ -d /sys/kernel/tracing/events ]; then
    echo "tracefs: mounted at /sys/kernel/tracing"
elif [ -d /sys/kernel/debug/tracing/events ]; then
    echo "tracefs: mounted at /sys/kernel/debug/tracing"
elif grep -qw tracefs /proc/filesystems && [ -d /sys/kernel/tracing ]; then
    echo "tracefs: not mounted; ebpf.plugin mounts it at /sys/kernel/tracing when run as root"
    tracefs=mountable
else
    echo "tracefs: not available (this kernel has no tracefs)"
    tracefs=""
fi

common_unmet=$unmet
verdict bpf
# Each path line shows what the path itself needs, plus any shared failure above.
begin_path() { unmet=$common_unmet; }

# --- the paths ----------------------------------------------------------------
begin_path
if kernel_at_least 5 5; then meet "kernel >= 5.5"; else fail "fentry/fexit need kernel >= 5.5"; fi
require_config FUNCTION_TRACER DYNAMIC_FTRACE_WITH_DIRECT_CALLS
verdict trampoline
config_trampoline=$possible

begin_path
require_config KPROBES KPROBES_ON_FTRACE HAVE_KPROBES DYNAMIC_FTRACE KPROBE_EVENTS BPF_EVENTS
verdict kprobe
config_kprobe=$possible

begin_path
require_config TRACEPOINTS FTRACE_SYSCALLS BPF_EVENTS
if [ -n "$tracefs" ]; then meet "tracefs $tracefs"; else fail "no tracefs"; fi
verdict tracepoint
config_tracepoint=$possible

# --- the real probe -----------------------------------------------------------
script_dir=$(cd "$(dirname "$0")" && pwd)
if [ -z "$plugin" ]; then
    for candidate in "$script_dir/../build/ebpf.plugin" /usr/lib/netdata/plugins.d/ebpf.plugin; do
        if [ -x "$candidate" ]; then plugin=$candidate; break; fi
    done
fi
probe_output=""
probed=no
if [ -z "$plugin" ]; then
    echo "probe: no ebpf.plugin found ($script_dir/../build/ebpf.plugin, /usr/lib/netdata/plugins.d/ebpf.plugin); config checks only"
elif [ ! -x "$plugin" ]; then
    echo "probe: $plugin is not an executable file; config checks only"
else
    limit=""
    command -v timeout >/dev/null 2>&1 && limit="timeout 60"
    probe_output=$($limit "$plugin" --check </dev/null 2>&1)
    probe_status=$?
    probed=yes
    echo "probe: $plugin --check (exit $probe_status)"
    printf '%s\n' "$probe_output" | sed 's/^/  /'
    [ "$(id -u)" -eq 0 ] || echo "probe: not run as root; a plugin without setuid root cannot load BPF"
fi

# --- summary ------------------------------------------------------------------
# The probe's word beats the config's for every path it reports on; a path
# probed in parts ("tracepoint (tp_btf): ok", "tracepoint (syscalls): ...")
# is usable when every part is ok.
usable=""
for path in $paths; do
    case $path in
    trampoline) config_verdict=$config_trampoline ;;
    kprobe) config_verdict=$config_kprobe ;;
    tracepoint) config_verdict=$config_tracepoint ;;
    esac
    probe_lines=$(printf '%s\n' "$probe_output" | grep -E "^$path( \([^)]*\))?: " || true)
    # "n/a" is a module's own (no program for this path), not the path's
    probe_failures=$(printf '%s\n' "$probe_lines" | grep -Ev "^[^:]*: (ok( |$)|n/a: )" | grep . || true)
    if [ -z "$probe_lines" ]; then
        [ "$config_verdict" = yes ] && usable="$usable $path"
    elif [ -z "$probe_failures" ]; then
        usable="$usable $path"
    elif [ "$config_verdict" = yes ]; then
        printf '%s\n' "$probe_failures" | sed "s/^/summary: the config allows $path, but ebpf.plugin says: /"
    fi
done
if [ -n "$usable" ] && [ "$probed" = no ]; then
    echo "summary: the kernel config allows:$usable (not probed: a kernel can refuse what its config allows; build ebpf.plugin or pass --plugin PATH to know)"
    exit 0
fi
if [ -n "$usable" ]; then
    echo "summary: usable attach paths:$usable"
    exit 0
fi
echo "summary: no attach path is usable"
exit 1
