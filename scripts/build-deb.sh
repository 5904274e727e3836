#!/usr/bin/env bash
# scripts/build-deb.sh OUTDIR
# Builds kbus-dkms_<version>_all.deb into OUTDIR with debhelper's dh-dkms:
# the module's source for /usr/src/kbus-<version>, its dkms.conf, the uapi
# header for /usr/include/linux, the modprobe.d defaults, and the kbus group
# with its udev rule (docs/kbus.md §18.5). Prints the
# .deb's path last.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:?usage: scripts/build-deb.sh OUTDIR}" && cd "$1" && pwd)
ver=$("$here/scripts/version.sh")
stage=$out/build/kbus-dkms-$ver
rm -rf "$out/build"
mkdir -p "$stage/src" "$stage/debian"

# The module's source, as DKMS builds it (no build products).
(cd "$here/module" && cp -r Kbuild Makefile dkms.conf include ./*.c ./*.h "$stage/src/")
rm -f "$stage/src/"*.mod.c
cp "$here"/packaging/debian/{control,rules,copyright} "$stage/debian/"
cp "$here/packaging/debian/kbus.modprobe.conf" "$stage/debian/kbus.conf"
# The kbus group (postinst) and the udev rule giving it the nodes (dh_installudev).
cp "$here"/packaging/debian/kbus-dkms.{postinst,udev} "$stage/debian/"
cat >"$stage/debian/kbus-dkms.install" <<EOI
src/* usr/src/kbus-$ver/
src/include/uapi/linux/kbus_defns.h usr/include/linux/
debian/kbus.conf etc/modprobe.d/
EOI
cp "$here/module/dkms.conf" "$stage/debian/kbus-dkms.dkms"
# A fixed date, so that the same sources give the same package.
date=$(git -C "$here" log -1 --format=%aD 2>/dev/null || echo "Thu, 01 Jan 1970 00:00:00 +0000")
cat >"$stage/debian/changelog" <<EOC
kbus-dkms ($ver) unstable; urgency=medium

  * Built from the KBUS rig at $ver.

 -- KBUS rig <kbus-rig@localhost.invalid>  $date
EOC
(cd "$stage" && VERSION=$ver SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0) \
	dpkg-buildpackage -b -us -uc -rfakeroot >"$out/build.log" 2>&1) ||
	{ cat "$out/build.log" >&2; exit 1; }
deb=$out/kbus-dkms_${ver}_all.deb
mv "$out/build/kbus-dkms_${ver}_all.deb" "$deb"
echo "$deb"
