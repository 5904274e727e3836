#!/usr/bin/env bash
# stages.sh LOG 'FIRST…' 'LANE…' ['LANE…' …] -- COMMAND…: make test's
# stages. The FIRST stages run one after another; then each LANE's stages
# run one after another, the lanes side by side, each line of a lane's
# output prefixed with its letter (A|, B|, …). A stage is run as
# "COMMAND STAGE" and timed into LOG (scripts/timed.sh). The first
# failing stage ends its lane (a failure among FIRST ends everything);
# the exit status is the first failing stage's, 0 when none failed.
# A failing stage's last lines are kept in LOG.failed/STAGE, which make
# test prints again after the page (scripts/failed-stages.sh), so that the
# end of a run, all a CI log viewer may show, says what failed and why.
#
# Why lanes: a guest under TCG keeps about 1.4 of the machine's two cores
# busy, and some stages mostly wait (docs/testing.md, "Where the time
# goes"): two lanes of guests fill the machine.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
log=$1 first=$2
shift 2
lanes=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	lanes+=("$1")
	shift
done
[ "${1:-}" = "--" ] && [ $# -ge 2 ] || { echo "usage: stages.sh LOG 'FIRST…' 'LANE…'… -- COMMAND…" >&2; exit 64; }
shift
cmd=("$@")

failed=$log.failed
rm -rf "$failed"
stage() { # STAGE: run and time it, say so (and keep its end) when it fails
	local out rc
	out=$(mktemp)
	"$here/timed.sh" "$log" "$1" "${cmd[@]}" "$1" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		echo "make test: stage $1 failed (exit $rc)"
		mkdir -p "$failed"
		tail -n 40 "$out" >"$failed/$1"
	fi
	rm -f "$out"
	return "$rc"
}

for s in $first; do
	stage "$s" || exit $?
done

letters=(A B C D E F)
pids=()
for i in "${!lanes[@]}"; do
	lane=${letters[$i]}
	(
		export KBUS_LANE=$lane
		for s in ${lanes[$i]}; do
			stage "$s" 2>&1 | sed -u "s/^/$lane| /" || exit $?
		done
	) &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || { r=$?; [ "$rc" -ne 0 ] || rc=$r; }
done
exit "$rc"
