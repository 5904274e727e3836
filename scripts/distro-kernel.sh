#!/usr/bin/env bash
# scripts/distro-kernel.sh CACHE [META]
# A Debian amd64 kernel, for the runs on a distribution's kernel: META is
# the metapackage that names it (linux-image-amd64, Debian's current 6.1,
# by default; linux-image-6.12-amd64 for its 6.12). Fetches the image
# package META stands for through apt (once per version), unpacks it under
# CACHE/distro and indexes its modules, and prints the unpacked root, which
# holds boot/vmlinuz-RELEASE and lib/modules/RELEASE.
set -euo pipefail
cache=${1:?usage: scripts/distro-kernel.sh CACHE [META]}
meta=${2:-linux-image-amd64}
# The release META stands for, e.g. 6.1.0-57-amd64.
pkg=$(apt-cache depends "$meta" | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "distro-kernel: apt knows no $meta" >&2; exit 1; }
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
