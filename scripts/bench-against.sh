#!/usr/bin/env bash
# scripts/bench-against.sh COMMIT [RIG-BENCH-FLAGS...]
# Benchmarks the module as it was at COMMIT with today's benchmark: a
# worktree of HEAD whose module sources are COMMIT's, with today's uapi
# header (kbus_bench.c builds against it, and on a module without the
# one-call ioctls measures the original calls alone), then rig bench there
# with the flags given, e.g. -icount -focus '^c' (docs/benchmark.md,
# "Against an older module"). The worktree is removed afterwards; the
# report stays in out/against/COMMIT.
set -euo pipefail
commit=${1:?usage: scripts/bench-against.sh COMMIT [RIG-BENCH-FLAGS...]}
shift
root=$(git rev-parse --show-toplevel)
short=$(git -C "$root" rev-parse --short "$commit")
out=$root/out/against/$short
wt=$(mktemp -d "${TMPDIR:-/tmp}/kbus-against.XXXXXX")
cleanup() { git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"; }
trap cleanup EXIT
git -C "$root" worktree add -q --detach "$wt" HEAD
rm -rf "$wt/module"
git -C "$root" archive "$commit" module | tar -x -C "$wt"
cp "$root/module/include/uapi/linux/kbus_defns.h" "$wt/module/include/uapi/linux/kbus_defns.h"
cd "$wt"
go build -o out/bin/rig ./cmd/rig
echo "bench-against: the module of $short, today's benchmark; report in $out" >&2
out/bin/rig bench -out "$out" -name "against-$short" "$@"
