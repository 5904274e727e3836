#!/usr/bin/env bash
# kernel/build.sh ARCH [FLAVOUR [KVER]]
#
# Builds a minimal guest kernel for ARCH, FLAVOUR (default, debug) and
# kernel version KVER (6.1, 6.12) from Debian's kernel source package: tinyconfig plus the flavour's fragments in
# kernel/config/. The build is cached outside the repository, keyed by the
# source package version, the fragments, the architecture and the compiler
# version, so an unchanged kernel is never rebuilt.
#
# What differs between architectures (the kernel's ARCH, cross compiler,
# image, fragments, source package) comes from the rig's target table
# (rig/target), which "rig target env ARCH FLAVOUR KVER" prints as shell
# assignments. The rig passes
# them in the environment; run on its own, the script asks $KBUS_RIG (or
# "go run ./cmd/rig").
#
# Progress goes to stderr; the last line on stdout is the build directory,
# which holds the kernel image (see the file "image" in it) and everything an
# out-of-tree module build needs (the configured tree and Module.symvers).
set -euo pipefail

# Bump when the recipe below changes in a way that alters the result.
RECIPE=1

arch=${1:?usage: kernel/build.sh ARCH [default|debug [KVER]]}
flavour=${2:-default}
kver=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
cache=${KBUS_RIG_CACHE:-$HOME/.cache/kbus-rig}
jobs=${JOBS:-$(nproc)}

if [ -z "${KBUS_KARCH:-}" ]; then
	if [ -n "${KBUS_RIG:-}" ]; then
		facts=$("$KBUS_RIG" target env "$arch" "$flavour" $kver)
	else
		facts=$(cd "$here/.." && go run ./cmd/rig target env "$arch" "$flavour" $kver)
	fi || exit 2
	eval "$facts"
fi
karch=$KBUS_KARCH cross=$KBUS_CROSS_COMPILE image=$KBUS_KIMAGE target=$KBUS_KTARGET
srcpkg=$KBUS_KERNEL_SOURCE
# Device trees the boards on this architecture boot with (rig/target's
# board rows), built from the same tree; empty for most architectures.
dtbs=${KBUS_DTBS:-}
frags=()
for f in $KBUS_FRAGMENTS; do frags+=("$here/config/$f"); done
tarball=/usr/src/$srcpkg.tar.xz

log() { printf 'kernel %s/%s: %s\n' "$arch" "$flavour" "$*" >&2; }

[ -r "$tarball" ] || { log "missing $tarball (apt-get install $srcpkg)"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' "$srcpkg")
ccver=$("${cross}gcc" --version | head -n1)

key=$({
	echo "recipe $RECIPE"
	echo "source $srcpkg $srcver"
	echo "arch $arch"
	echo "compiler $ccver"
	for f in "${frags[@]}"; do echo "fragment $(basename "$f")"; cat "$f"; done
	[ -z "$dtbs" ] || echo "dtbs $dtbs"
} | sha256sum | cut -c1-16)

src=$cache/src/${srcpkg}_$srcver
out=$cache/kernel/$arch-$flavour-$key

# Runs may build side by side (make test's lanes, the runner's parallel VM
# tests): one build per kernel at a time, the others wait and find it cached.
mkdir -p "$cache/kernel" "$cache/src"
exec 9>"$cache/kernel/.$arch-$flavour-$key.lock"
flock -n 9 || { log "waiting for another build of this kernel"; flock 9; }

# Unpack the source once per package version, one unpacker at a time.
unpack() {
	exec 8>"$cache/src/.$srcpkg.lock"
	flock 8
	if [ ! -f "$src/.unpacked" ]; then
		log "unpacking $tarball ($srcver)"
		mkdir -p "$cache/src"
		tmp=$(mktemp -d "$cache/src/.unpack.XXXXXX")
		tar -C "$tmp" -xf "$tarball"
		rm -rf "$src"
		mv "$tmp/$srcpkg" "$src"
		rmdir "$tmp"
		echo "$srcver" >"$src/.unpacked"
	fi
	flock -u 8
}

if [ -f "$out/.complete" ]; then
	# A build names its source by absolute path (its Makefile's include,
	# its source link), which a cache moved with its HOME or copied from
	# another machine no longer has: point it at this cache's source, or
	# building a module against it fails.
	here_src=$(readlink -f "$src")
	if [ "$(readlink -f "$out/source")" != "$here_src" ] || ! grep -qxF "include $here_src/Makefile" "$out/Makefile"; then
		unpack
		log "cached ($out), built elsewhere: pointing it at $src"
		# The kernel's own target writes both, as the build did.
		make -s -C "$src" O="$out" ARCH="$karch" CROSS_COMPILE="$cross" outputmakefile >&2
	fi
	log "cached ($out)"
	echo "$out"
	exit 0
fi

# KBUS_KERNEL_CACHED_ONLY=1 asks only whether it is cached: exit 3 if not.
if [ -n "${KBUS_KERNEL_CACHED_ONLY:-}" ]; then
	log "not cached ($out)"
	exit 3
fi

start=$(date +%s)
elapsed() { local s=$(( $(date +%s) - start )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

unpack

mkdir -p "$out"
buildlog=$out/build.log
: >"$buildlog"
kmake() { make -C "$src" O="$out" ARCH="$karch" CROSS_COMPILE="$cross" "$@" >>"$buildlog" 2>&1; }
fail() { log "FAILED: $* (after $(elapsed)); last lines of $buildlog:"; tail -n 30 "$buildlog" >&2; exit 1; }

log "configuring: tinyconfig + ${frags[*]##*/} (key $key)"
kmake tinyconfig || fail "tinyconfig"
(cd "$out" && ARCH=$karch CROSS_COMPILE=$cross "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
	"$out/.config" "${frags[@]}" >>"$buildlog" 2>&1) || fail "merging fragments"
kmake olddefconfig || fail "olddefconfig"

# Every option the fragments name must have survived olddefconfig.
dropped=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) opt=${line%%=*} want=$line ;;
	"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}; want=$line ;;
	*) continue ;;
	esac
	got=$(grep -E "^(# )?$opt[= ]" "$out/.config" || true)
	if [ "$got" != "$want" ] && ! { [ -z "$got" ] && [ "${want#\# }" != "$want" ]; }; then
		dropped+=("$want (got: ${got:-unset})")
	fi
done < <(cat "${frags[@]}")
if [ ${#dropped[@]} -gt 0 ]; then
	log "options dropped by Kconfig (missing dependencies?):"
	printf '  %s\n' "${dropped[@]}" >&2
	exit 1
fi

log "building $target and modules with $jobs jobs (log: $buildlog)"
(
	while sleep 30; do
		n=$(find "$out" -name '*.o' 2>/dev/null | wc -l)
		log "building... $(elapsed), $n objects"
	done
) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
kmake -j"$jobs" "$target" modules || fail "make $target modules"
kill $ticker 2>/dev/null || true
if [ -n "$dtbs" ]; then
	# shellcheck disable=SC2086 # a list of make targets
	kmake $dtbs || fail "make $dtbs"
fi

echo "$image" >"$out/image"
echo "$dtbs" >"$out/dtbs"
cat >"$out/build-info" <<INFO
source: $srcpkg $srcver
arch: $arch
flavour: $flavour
compiler: $ccver
key: $key
image: $image
dtbs: $dtbs
INFO
touch "$out/.complete"
log "built in $(elapsed): $out/$image"
echo "$out"
