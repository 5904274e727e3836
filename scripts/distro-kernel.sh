#!/usr/bin/env bash
# scripts/distro-kernel.sh CACHE
# Debian's current amd64 kernel, for the distribution-kernel test: fetches
# its image package through apt (once per version), unpacks it under
# CACHE/distro and indexes its modules, and prints the unpacked root, which
# holds boot/vmlinuz-RELEASE and lib/modules/RELEASE.
set -euo pipefail
cache=${1:?usage: scripts/distro-kernel.sh CACHE}
# The release the linux-image-amd64 metapackage stands for, e.g. 6.1.0-57-amd64.
pkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "distro-kernel: apt knows no linux-image-amd64" >&2; exit 1; }
rel=${pkg#linux-image-}
ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" {print $2}')
root=$cache/distro/${pkg}_$ver
if [ ! -f "$root/.complete" ]; then
	echo "distro-kernel: fetching $pkg $ver" >&2
	tmp=$(mktemp -d "$cache/distro.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/distro.XXXXXX"; })
	(cd "$tmp" && apt-get download -qq "$pkg=$ver" 2>/dev/null)
	rm -rf "$root"
	mkdir -p "$root"
	dpkg-deb -x "$tmp"/*.deb "$root"
	rm -rf "$tmp"
	depmod -b "$root" -F "$root/boot/System.map-$rel" "$rel"
	touch "$root/.complete"
fi
echo "$root"
