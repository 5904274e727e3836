#!/usr/bin/env bash
# Install the Debian packages the rig needs, only those missing.
# Idempotent and silent when everything is already there.
set -euo pipefail

pkgs=(
	linux-source-6.1 linux-source-6.12
	build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils kmod
	qemu-system-x86 qemu-system-arm
	gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
	# cross libcs: the ABI test compiles the uapi header for ILP32, and the C
	# client is linked statically for every guest
	libc6-dev-armhf-cross libc6-dev-arm64-cross
	sparse
	# the report's browser test opens the run's page in headless Chromium
	chromium
	# rig accept signs and checks a run's sign-off with ssh-keygen -Y
	openssh-client
	# make deb / distro-test / qemu-test-6.12: the DKMS package, built for
	# Debian's own kernels, its 6.1 and its 6.12
	dkms dh-dkms debhelper fakeroot linux-headers-amd64 linux-headers-6.12-amd64
	# distro-test: Debian's udev (udevadm, also its daemon) goes into the
	# guest to apply the package's rule
	udev
	# make image / image-test / flash: the boards' firmware and boot
	# loaders, the image tools, the block map
	u-boot-qemu ovmf systemd-boot-efi genimage mtools dosfstools bmap-tools
	# make lava-test: LAVA's dispatcher, run locally with lava-run
	lava-dispatcher
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
