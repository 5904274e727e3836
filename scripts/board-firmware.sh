#!/usr/bin/env bash
# scripts/board-firmware.sh CACHE PACKAGE[:ARCH]
# A Debian package holding a board's boot firmware, unpacked under
# CACHE/firmware (once per version) without installing it: the Allwinner
# boards' U-Boot comes from the armhf package u-boot-sunxi, which an amd64
# machine cannot install but can download once armhf is a foreign
# architecture. Prints the unpacked root (e.g. ROOT/usr/lib/u-boot/...),
# which holds the package's version in ROOT/.version.
set -euo pipefail
cache=${1:?usage: scripts/board-firmware.sh CACHE PACKAGE[:ARCH]}
pkg=${2:?usage: scripts/board-firmware.sh CACHE PACKAGE[:ARCH]}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
case $pkg in
*:*)
	arch=${pkg#*:}
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		echo "board-firmware: adding $arch as a foreign architecture" >&2
		$sudo dpkg --add-architecture "$arch"
		$sudo apt-get update -qq
	fi
	;;
esac
ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" {print $2}')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	$sudo apt-get update -qq
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" {print $2}')
fi
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "board-firmware: apt knows no $pkg" >&2; exit 1; }
root=$cache/firmware/${pkg//:/_}_$ver
# one fetch per package at a time: runs may boot boards side by side
mkdir -p "$cache/firmware"
exec 9>"$cache/firmware/.${pkg//:/_}.lock"
flock 9
if [ ! -f "$root/.version" ]; then
	echo "board-firmware: fetching $pkg $ver" >&2
	tmp=$(mktemp -d "$cache/firmware/.fetch.XXXXXX")
	chmod 755 "$tmp" # apt downloads as the _apt user
	(cd "$tmp" && apt-get download -qq "$pkg=$ver")
	rm -rf "$root"
	mkdir -p "$root"
	dpkg-deb -x "$tmp"/*.deb "$root"
	rm -rf "$tmp"
	echo "$ver" >"$root/.version"
fi
echo "$root"
