#!/usr/bin/env bash
# scripts/peer-sysroot.sh CACHE ARCH
# The benchmark's peers (docs/benchmark.md, "Peers"): Debian's libzmq,
# libdbus and dbus-daemon for the Debian architecture ARCH (amd64, arm64,
# armhf), with every shared library they need, unpacked under
# CACHE/sysroot without installing anything: the rig builds the peers'
# C programs against it and copies what they load into the guest. The
# packages come through apt (apt-get download, as scripts/board-firmware.sh
# fetches U-Boot); a foreign ARCH is added to dpkg's list first. Prints the
# unpacked root, which lists its packages and versions in ROOT/.packages.
set -euo pipefail
cache=${1:?usage: scripts/peer-sysroot.sh CACHE ARCH}
arch=${2:?usage: scripts/peer-sysroot.sh CACHE ARCH}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# What the peers run (the libraries and the daemon) and what they are
# built against (the headers and the unversioned .so links).
roots=(libzmq5 libdbus-1-3 dbus-daemon libc6)
devs=(libzmq3-dev libdbus-1-dev)

if [ "$arch" != "$(dpkg --print-architecture)" ] &&
	! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	echo "peer-sysroot: adding $arch as a foreign architecture" >&2
	$sudo dpkg --add-architecture "$arch"
	$sudo apt-get update -qq
fi
candidate() { apt-cache policy "$1:$arch" 2>/dev/null | awk '$1 == "Candidate:" {print $2}'; }
if [ -z "$(candidate libzmq5)" ] || [ "$(candidate libzmq5)" = "(none)" ]; then
	$sudo apt-get update -qq
fi

# The run-time closure of the roots: each dependency's first alternative,
# a virtual package's first provider; only libraries are followed beyond
# the roots (the daemon's configuration packages are not needed: the rig
# gives it a configuration of its own). One apt-cache call per level.
declare -A seen=()
level=("${roots[@]}")
while [ ${#level[@]} -gt 0 ]; do
	args=()
	for p in "${level[@]}"; do
		seen[$p]=1
		args+=("$p:$arch")
	done
	next=()
	alt=0
	virtual=0
	while IFS= read -r line; do
		if [[ $line != " "* ]]; then # the next package's section
			alt=0
			virtual=0
			continue
		fi
		if [ $virtual -eq 1 ]; then
			virtual=0
			if [[ $line =~ ^\ \ \ \ ([^\ ]+) ]]; then
				dep=${BASH_REMATCH[1]%%:*}
				[[ $dep == lib* ]] && next+=("$dep")
				continue
			fi
		fi
		if [[ $line =~ ^\ \ (\|?)(Pre)?Depends:\ (.+)$ ]]; then
			first=$((1 - alt))
			alt=$([ -n "${BASH_REMATCH[1]}" ] && echo 1 || echo 0)
			[ $first -eq 1 ] || continue
			dep=${BASH_REMATCH[3]}
			if [[ $dep == \<* ]]; then
				virtual=1
				continue
			fi
			dep=${dep%%:*}
			[[ $dep == lib* ]] && next+=("$dep")
		fi
	done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
		--no-enhances "${args[@]}" 2>/dev/null)
	level=()
	for p in $(printf '%s\n' "${next[@]}" | sort -u); do
		[ -n "${seen[$p]:-}" ] || level+=("$p")
	done
done

# Every package at its candidate version, from one apt-cache call; a
# package of architecture "all" (configuration, e.g. libaudit-common) has
# no ARCH-qualified name and is fetched by its plain one.
pkgs=$(printf '%s\n' "${!seen[@]}" "${devs[@]}" | sort -u)
declare -A version=()
policy() {
	apt-cache policy "$@" 2>/dev/null |
		awk '/^[^ ].*:$/ {sub(/:$/, ""); sub(/:[^:]*$/, ""); p = $0} $1 == "Candidate:" {print p, $2}'
}
while read -r p v; do
	[ "$v" = "(none)" ] || version[$p]="$p:$arch=$v"
done < <(policy $(printf "%s:$arch " $pkgs))
for p in $pkgs; do
	[ -n "${version[$p]:-}" ] && continue
	v=$(policy "$p" | awk '{print $2}')
	[ -n "$v" ] && [ "$v" != "(none)" ] || { echo "peer-sysroot: apt knows no $p:$arch" >&2; exit 1; }
	version[$p]="$p=$v"
done
list=""
for p in $pkgs; do
	list+="${version[$p]}"$'\n'
done
key=$(printf '%s' "$list" | sha256sum | cut -c1-16)
root=$cache/sysroot/${arch}-$key
mkdir -p "$cache/sysroot"
exec 9>"$cache/sysroot/.$arch.lock"
flock 9
if [ ! -f "$root/.packages" ]; then
	echo "peer-sysroot: fetching $(printf '%s' "$list" | wc -l) packages for $arch" >&2
	tmp=$(mktemp -d "$cache/sysroot/.fetch.XXXXXX")
	chmod 755 "$tmp" # apt downloads as the _apt user
	# shellcheck disable=SC2086 # one word per package
	(cd "$tmp" && apt-get download -qq $list)
	rm -rf "$root"
	mkdir -p "$root"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	rm -rf "$tmp"
	printf '%s' "$list" >"$root/.packages"
fi
echo "$root"
