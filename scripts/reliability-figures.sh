#!/usr/bin/env bash
# scripts/reliability-figures.sh REPORT_DIR...
#
# Prints the figures of the model comparison, the fuzzer and the stress
# run from report folders (out/reports/NAME), one line each, named by the
# folder: the difftest's programs and operations and its seed (from the
# model suite's log), the fuzzer's stats.json (programs run and the rate,
# blocks and edges reached) with the fraction of the module's instrumented
# basic blocks those blocks are (each calls __sanitizer_cov_trace_pc once
# in the debug build of kbus.ko the guest loaded, out/build/NAME/kbus.ko) and the
# module's functions it never reached, and the stress run's summary from
# its suite log.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/reliability-figures.sh REPORT_DIR..." >&2; exit 64; }

for dir in "$@"; do
	dir=${dir%/}
	name=$(basename "$dir")
	if [ -f "$dir/suites/model.log" ]; then
		grep -h "difftest: " "$dir/suites/model.log" | sed "s/^ */$name: /" || true
	fi
	if [ -f "$dir/fuzz/stats.json" ]; then
		ko=$(dirname "$(dirname "$dir")")/build/$name/kbus.ko
		python3 - "$dir/fuzz/stats.json" "$ko" "$name" <<'PY'
import json, os, re, subprocess, sys
s = json.load(open(sys.argv[1]))
st, ko, name = s["stats"], sys.argv[2], sys.argv[3]
line = (f"{name}: fuzz: seed {s['seed']}: {st['Execs']} programs in {st['Seconds']:.0f} s, "
        f"{st.get('Running', st['Seconds']):.0f} s of them running programs "
        f"({s['execs_per_second']:.1f}/s, {st['Replayed']} from the committed corpus), "
        f"{st['Blocks']} basic blocks and {st['Edges']} edges of kbus.ko reached, corpus {st['Corpus']} ({st['New']} new), "
        f"{st.get('Kills', 0)} kills of its second process, {st.get('Scans', 0)} kmemleak scans, "
        f"{'fault injection on' if st.get('Faults') else 'no fault injection'}")
# The module's instrumented blocks by function, from its disassembly: each
# calls __sanitizer_cov_trace_pc once. Functions in the load and unload
# sections run before and after any program can.
per_fn, load_only = {}, 0
if os.path.exists(ko):
    out = subprocess.run(["objdump", "-dr", ko], capture_output=True, text=True, check=True).stdout
    sec = fn = ""
    for l in out.splitlines():
        if l.startswith("Disassembly of section "):
            sec = l.split()[-1].rstrip(":")
        elif re.match(r"^[0-9a-f]+ <(.+)>:$", l):
            fn = re.match(r"^[0-9a-f]+ <(.+)>:$", l).group(1)
        elif "__sanitizer_cov_trace_pc" in l and "R_" in l:
            if sec in (".init.text", ".exit.text", ".text.startup", ".text.exit"):
                load_only += 1
            else:
                per_fn[fn] = per_fn.get(fn, 0) + 1
total = sum(per_fn.values()) + load_only
if total:
    line += (f"; {st['Blocks']} of the module's {total} instrumented blocks ({100 * st['Blocks'] / total:.0f}%), "
             f"of the {total - load_only} outside its load and unload code ({100 * st['Blocks'] / (total - load_only):.1f}%)")
    reached = {}
    for r in st.get("Reached") or []:
        f = r.rsplit("+", 1)[0]
        reached[f] = reached.get(f, 0) + 1
    missed = sorted(((n - reached.get(f, 0), f) for f, n in per_fn.items() if n > reached.get(f, 0)), reverse=True)
    if st.get("Reached"):
        line += "; most blocks missed in: " + ", ".join(f"{f} {m}/{per_fn[f]}" for m, f in missed[:8])
if st.get("UnreachedErr"):
    line += f"; unreached functions unknown: {st['UnreachedErr']}"
elif st.get("Blocks"):
    never = st.get("Unreached") or []
    line += f"; {len(never)} functions never reached" + (": " + " ".join(never) if never else "")
print(line)
PY
	fi
	if [ -f "$dir/suites/stress.log" ]; then
		grep -h "^ *stress: [0-9]" "$dir/suites/stress.log" | sed "s/^ */$name: /" || true
	fi
done
