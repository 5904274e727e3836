#!/bin/sh
# failed-stages.sh LOG: prints, for each stage of make test that failed,
# the last lines it printed (kept by scripts/stages.sh in LOG.failed).
set -u
dir=$1.failed
[ -d "$dir" ] || exit 0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	echo
	echo "make test: stage $(basename "$f") failed; its last lines:"
	sed 's/^/    /' "$f"
done
