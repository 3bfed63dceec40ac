# shellcheck shell=bash disable=SC2034
# tools/debian-kernels.sh - Debian kernel packages for tools/vm-run (sourced, not run).
#
# A kernel series (5.10, 6.1, 6.12, 7.2, ...) is the newest linux-image-<series>.*-amd64 package
# (generic flavour, -unsigned preferred) that the machine's apt offers; series the machine's
# suite does not carry come from another suite (5.x from bullseye and bullseye-security, newer
# ones from sid), through a private apt configuration under the cache that reuses the machine's
# mirrors. The system apt configuration is only read, never changed.
#
# Needs: CACHE (directory, the caller holds its lock), die() and note() from the caller.

APT_QUIET=(-q -o APT::Sandbox::User=root)
SUITE_APT=()

# The suite that carries kernel series $1 when the machine's own suite does not.
suite_for_series() {
	case $1 in
	5.*) echo bullseye ;;
	*) echo sid ;;
	esac
}

# Prints "URI<TAB>signed-by" of the machine's first apt source for its own suite (bookworm), or
# for that suite with suffix $1 (-security); one-line (.list) and deb822 (.sources) formats.
system_mirror() {
	local codename files=() f
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")${1-}
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] && files+=("$f")
	done
	((${#files[@]})) || return 1
	awk -v want="$codename" '
		function paragraph_end() {
			if (suites ~ " " want " " && enabled != "no") { printf "%s\t%s\n", uris, (key ~ /^\//) ? key : ""; found = 1; exit }
			uris = suites = key = enabled = ""
		}
		FNR == 1 { paragraph_end() }
		FILENAME !~ /\.sources$/ && $1 == "deb" {
			i = 2; key = ""
			if ($2 ~ /^\[/) {
				for (; i <= NF; i++) {
					if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
					if ($i ~ /\]$/) { i++; break }
				}
			}
			if ($(i + 1) == want) { uris = $i; suites = " " want " "; paragraph_end() }
		}
		FILENAME ~ /\.sources$/ {
			field = tolower($1)
			if (NF == 0) paragraph_end()
			else if (field == "uris:") uris = $2
			else if (field == "suites:") { $1 = ""; suites = $0 " " }
			else if (field == "signed-by:") key = $2
			else if (field == "enabled:") enabled = $2
		}
		END { if (!found) paragraph_end() }
	' "${files[@]}"
}

# Sets SUITE_APT to options for a private apt configuration of suite $1 (sources.list, lists
# and cache under $CACHE/apt-<suite>) and refreshes its lists once a day; fails if they cannot
# be fetched. A stable suite also gets its -security suite, where its newest kernels are.
use_suite_apt() {
	local suite=$1 dir=$CACHE/apt-$1 uri key
	SUITE_APT=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
	if [[ ! -s $dir/sources.list ]]; then
		IFS=$'\t' read -r uri key < <(system_mirror) || { note "no Debian mirror in the apt sources"; return 1; }
		mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
		{
			echo "deb ${key:+[signed-by=$key] }$uri $suite main"
			if [[ $suite != sid ]] && IFS=$'\t' read -r uri key < <(system_mirror -security); then
				echo "deb ${key:+[signed-by=$key] }$uri $suite-security main"
			fi
		} > "$dir/sources.list.new"
		mv "$dir/sources.list.new" "$dir/sources.list"
	fi
	if [[ -z $(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440) ]]; then
		note "updating the private $suite package lists"
		apt-get "${APT_QUIET[@]}" "${SUITE_APT[@]}" update > "$dir/update.log" 2>&1 ||
			{ note "apt-get update ($suite) failed: $(tail -n 3 "$dir/update.log")"; return 1; }
	fi
}

# Prints the newest generic amd64 linux-image package of series $1 known to apt with options $2...
newest_image() {
	local series=${1//./\\.} package
	package=$(apt-cache "${@:2}" pkgnames linux-image- 2>/dev/null |
		grep -E "^linux-image-$series\.[0-9]+(-[0-9]+)?(\+deb[0-9]+)?-amd64(-unsigned)?\$" | sort -V |
		awk '/-unsigned$/ { unsigned = $0 } { any = $0 } END { print unsigned ? unsigned : any }')
	[[ -n $package ]] && echo "$package"
}

# Sets KERNEL_PACKAGE and KERNEL_ORIGIN (system, or the suite it came from) for series $1. The
# choice is remembered for a day; if apt cannot answer then, the remembered one is kept.
resolve_kernel() {
	local series=$1 memo=$CACHE/resolved/$1 package suite
	suite=$(suite_for_series "$series")
	mkdir -p "$CACHE/resolved"
	if [[ -z $(find "$memo" -mmin -1440 2>/dev/null) ]]; then
		if package=$(newest_image "$series"); then
			echo "$package system" > "$memo"
		elif use_suite_apt "$suite" && package=$(newest_image "$series" "${SUITE_APT[@]}"); then
			echo "$package $suite" > "$memo"
		elif [[ -s $memo ]]; then
			note "apt has no linux-image-$series.*-amd64 now; keeping $(cut -d' ' -f1 "$memo")"
		else
			die "no linux-image-$series.*-amd64 package in apt (the system's suite or $suite); try apt-get update"
		fi
	fi
	read -r KERNEL_PACKAGE KERNEL_ORIGIN < "$memo"
}

# Downloads packages $2... into directory $1 from where KERNEL_ORIGIN says.
apt_download() {
	local options=()
	if [[ $KERNEL_ORIGIN != system ]]; then
		use_suite_apt "$KERNEL_ORIGIN" || die "cannot use the $KERNEL_ORIGIN package lists"
		options=("${SUITE_APT[@]}")
	fi
	(cd "$1" && apt-get "${APT_QUIET[@]}" "${options[@]}" download "${@:2}") > "$1/apt.log" 2>&1 ||
		die "apt-get download ${*:2} failed: $(tail -n 3 "$1/apt.log")"
}

first_existing() {
	local path
	for path; do [[ ! -e $path ]] || { echo "$path"; return 0; }; done
	return 1
}

# Downloads $KERNEL_PACKAGE (and, for split 7.x kernels, its linux-{base,binary,modules}
# packages) and unpacks them into $1. Sets KERNEL_IMAGE (bzImage), KERNEL_MODULES (module
# tree) and KERNEL_RELEASE (uname -r).
unpack_kernel() {
	local dir=$1 deb parts
	mkdir -p "$dir/debs" "$dir/root"
	note "downloading $KERNEL_PACKAGE"
	apt_download "$dir/debs" "$KERNEL_PACKAGE"
	mapfile -t parts < <(dpkg-deb -f "$dir"/debs/*.deb Depends | grep -oE 'linux-(base|binary|modules)-[^ ,]+')
	((${#parts[@]} == 0)) || apt_download "$dir/debs" "${parts[@]}"
	for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root" || die "cannot unpack $deb"; done
	rm -rf "$dir/debs"
	KERNEL_IMAGE=$(first_existing "$dir"/root/boot/vmlinuz-* "$dir"/root/usr/lib/modules/*/vmlinuz) ||
		die "$KERNEL_PACKAGE: no vmlinuz"
	KERNEL_MODULES=$(first_existing "$dir"/root/lib/modules/*/modules.builtin "$dir"/root/usr/lib/modules/*/modules.builtin) ||
		die "$KERNEL_PACKAGE: no module tree"
	KERNEL_MODULES=${KERNEL_MODULES%/modules.builtin}
	KERNEL_RELEASE=${KERNEL_MODULES##*/}
}

# Writes the ELF vmlinux inside bzImage $1 to $2, and succeeds only if it is complete and has
# a PVH entry note (Xen ELF note 18), so qemu can boot it without the in-guest decompression.
extract_vmlinux() {
	local image=$1 out=$2 setup_sects offset length start magic expected decompress
	[[ $(od -An -c -j $((0x202)) -N4 "$image" | tr -d ' ') == HdrS ]] || return 1
	setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$image")
	read -r offset length < <(od -An -tu4 -j $((0x248)) -N8 "$image")
	start=$(( ((setup_sects ? setup_sects : 4) + 1) * 512 + offset ))
	# the build appends the uncompressed size (le32) to every compressed payload
	expected=$(od -An -tu4 -j $((start + length - 4)) -N4 "$image" | tr -d ' ')
	magic=$(od -An -tx1 -j "$start" -N4 "$image" | tr -d ' ')
	case $magic in
	fd377a58) decompress=(xz -dc) ;;
	28b52ffd) decompress=(zstd -dcq) ;;
	02214c18) decompress=(lz4 -dc) ;;
	1f8b*) decompress=(gzip -dc) ;;
	*) return 1 ;;
	esac
	# the size bytes after the stream upset some decompressors: the checks below decide
	tail -c +$((start + 1)) "$image" | head -c "$length" | "${decompress[@]}" > "$out" 2>/dev/null || true
	[[ $(stat -c %s "$out") == "$expected" && $(od -An -tx1 -N4 "$out" | tr -d ' ') == 7f454c46 ]] &&
		LC_ALL=C grep -qaP '\x04\x00\x00\x00[\x04\x08]\x00\x00\x00\x12\x00\x00\x00Xen\x00' "$out"
}
