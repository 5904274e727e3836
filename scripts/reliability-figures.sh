#!/usr/bin/env bash
# scripts/reliability-figures.sh REPORT_DIR [KBUS_KO]
#
# Prints the figures of a fuzz and/or stress run from its report folder:
# the fuzzer's stats.json (execs, rate, blocks and edges reached) and, with
# the debug build of kbus.ko, the fraction of the module's basic blocks
# those are (each block KCOV instruments calls __sanitizer_cov_trace_pc
# once); the stress run's summary line from its suite log.
set -euo pipefail
dir=${1:?usage: scripts/reliability-figures.sh REPORT_DIR [KBUS_KO]}
ko=${2:-}

if [ -f "$dir/fuzz/stats.json" ]; then
	python3 - "$dir/fuzz/stats.json" "$ko" <<'PY'
import json, subprocess, sys
s = json.load(open(sys.argv[1]))
st, ko = s["stats"], sys.argv[2]
line = (f"fuzz: seed {s['seed']}: {st['Execs']} programs in {st['Seconds']:.0f} s "
        f"({s['execs_per_second']:.1f}/s, {st['Replayed']} from the committed corpus), "
        f"{st['Blocks']} basic blocks and {st['Edges']} edges of kbus.ko reached, corpus {st['Corpus']} ({st['New']} new)")
if ko:
    out = subprocess.run(["objdump", "-r", ko], capture_output=True, text=True, check=True).stdout
    total = sum(1 for l in out.splitlines() if l.rstrip().endswith("__sanitizer_cov_trace_pc"))
    if total:
        line += f"; {st['Blocks']} of the module's {total} instrumented blocks ({100 * st['Blocks'] / total:.0f}%)"
print(line)
PY
fi
for log in "$dir"/suites/stress.log; do
	[ -f "$log" ] && grep -h "^ *stress: " "$log" | sed 's/^ *//' || true
done
