#!/bin/sh
# timed.sh LOG STAGE COMMAND...: runs COMMAND and appends one line to LOG,
# "STAGE<TAB>start<TAB>end<TAB>exit status[<TAB>lane]" (times in Unix
# seconds with nanoseconds; the lane is $KBUS_LANE, when make test runs
# stages side by side, scripts/stages.sh). COMMAND sees KBUS_STAGE=STAGE,
# which a rig records in its targets so the profile places their guests.
# make test times each of its stages this way; rig report reads LOG into
# the run's profile (docs/testing.md, "Where the time goes"). Exits with
# COMMAND's status.
set -u
log=$1 stage=$2
shift 2
mkdir -p "$(dirname "$log")"
start=$(date +%s.%N)
KBUS_STAGE=$stage "$@"
rc=$?
line=$(printf '%s\t%s\t%s\t%d' "$stage" "$start" "$(date +%s.%N)" "$rc")
[ -z "${KBUS_LANE:-}" ] || line=$(printf '%s\t%s' "$line" "$KBUS_LANE")
printf '%s\n' "$line" >>"$log"
exit "$rc"
