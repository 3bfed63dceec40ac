#!/bin/bash
# Installs the Debian packages one use of this tree needs (only those missing),
# then configures the tree. Run as root on Debian 12; safe to rerun.
#
# usage: install-deps.sh [build|run|test]
#   build  what `make` and `make install` need
#   run    build, plus the private Netdata agent of tools/run-with-agent.sh
#   test   run, plus the test toolchain of tools/test.sh (doctest, python3,
#          qemu and busybox for the guest kernels); the default
set -eu

build_packages="build-essential g++ make autoconf pkg-config clang llvm bpftool libbpf-dev
    libelf-dev zlib1g-dev libinih-dev libmnl-dev libnetfilter-conntrack-dev libcap-dev libsystemd-dev nlohmann-json3-dev"
run_packages="netdata-core netdata-web curl jq iproute2"
test_packages="doctest-dev libclang-rt-dev python3 openssl qemu-system-x86 busybox-static cpio xz-utils zstd lz4 kmod util-linux nftables mdadm dnsmasq-base"
policy=/usr/sbin/policy-rc.d

say() { echo "install-deps.sh: $*"; }

case ${1:-test} in
build) packages=$build_packages ;;
run) packages="$build_packages $run_packages" ;;
test) packages="$build_packages $run_packages $test_packages" ;;
*) echo "usage: $0 [build|run|test]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    say "run me as root (I install packages with apt-get)" >&2
    exit 1
fi
repo_root=$(cd "$(dirname "$0")/.." && pwd)

# dpkg -s also succeeds for removed packages whose config files remain.
is_installed() { dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'; }

missing=""
for package in $packages; do
    is_installed "$package" || missing="$missing $package"
done

if [ -z "$missing" ]; then
    say "all packages are installed"
else
    say "installing:$missing"
    # Debian's netdata package starts its service on install; the tests run
    # their own agent, so keep services down unless the machine has a policy.
    created_policy=no
    trap '[ "$created_policy" = no ] || rm -f "$policy"' EXIT
    trap 'exit 1' HUP INT TERM
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# Temporary, from install-deps.sh: start no service during the install.\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        created_policy=yes
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update
    # shellcheck disable=SC2086 # one word per package
    apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends $missing
    say "installed:$missing"
fi

cd "$repo_root"
# A package installed just now (doctest-dev) can change what configure finds.
if [ -n "$missing" ] || [ ! -f config.mk ] || [ configure.ac -nt config.mk ] || [ config.mk.in -nt config.mk ]; then
    say "configuring (autoconf && ./configure)"
    autoconf
    ./configure
else
    say "config.mk is up to date"
fi
