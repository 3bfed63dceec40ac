#!/bin/bash
# Installs every build and test dependency from Debian packages (only those
# missing), then configures the tree. Run as root on Debian 12; safe to rerun.
set -eu

build_packages="build-essential g++ make autoconf pkg-config clang llvm bpftool libbpf-dev
    libelf-dev zlib1g-dev libinih-dev libmnl-dev libcap-dev doctest-dev"
test_packages="netdata-core netdata-web curl jq iproute2 qemu-system-x86 busybox-static cpio
    xz-utils zstd lz4 kmod util-linux python3 nftables"
policy=/usr/sbin/policy-rc.d

say() { echo "install-deps.sh: $*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "run me as root (I install packages with apt-get)" >&2
    exit 1
fi
repo_root=$(cd "$(dirname "$0")/.." && pwd)

# dpkg -s also succeeds for removed packages whose config files remain.
is_installed() { dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'; }

missing=""
for package in $build_packages $test_packages; do
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
if [ ! -f config.mk ] || [ configure.ac -nt config.mk ] || [ config.mk.in -nt config.mk ]; then
    say "configuring (autoconf && ./configure)"
    autoconf
    ./configure
else
    say "config.mk is up to date"
fi
