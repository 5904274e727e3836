#!/bin/sh
# timed.sh LOG STAGE COMMAND...: runs COMMAND and appends one line to LOG,
# "STAGE<TAB>start<TAB>end<TAB>exit status" (times in Unix seconds with
# nanoseconds). make test times each of its stages this way; rig report
# reads LOG into the run's profile (docs/testing.md, "Where the time goes").
# Exits with COMMAND's status.
set -u
log=$1 stage=$2
shift 2
mkdir -p "$(dirname "$log")"
start=$(date +%s.%N)
"$@"
rc=$?
printf '%s\t%s\t%s\t%d\n' "$stage" "$start" "$(date +%s.%N)" "$rc" >>"$log"
exit "$rc"
