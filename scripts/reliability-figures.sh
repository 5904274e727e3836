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
        f"{st['Blocks']} addresses and {st['Edges']} edges of kbus.ko reported by KCOV, corpus {st['Corpus']} ({st['New']} new), "
        f"{st.get('Kills', 0)} kills of its second process, {st.get('Scans', 0)} kmemleak scans, "
        f"{'fault injection on' if st.get('Faults') else 'no fault injection'}")
# The module's instrumented blocks, from its disassembly: each calls
# __sanitizer_cov_trace_pc once, and KCOV records the address that call
# returns to. Where the call is a function's last and the compiler made it
# a tail jump, KCOV records the caller's return address instead: such a
# block counts as reached when a reached address follows a call of its
# function. Functions in the load and unload sections run before and
# after any program can.
sites, load_only, after_call = [], 0, {}
if os.path.exists(ko):
    out = subprocess.run(["objdump", "-dr", ko], capture_output=True, text=True, check=True).stdout
    sec = fn = ""
    base, last = 0, None
    for l in out.splitlines():
        if l.startswith("Disassembly of section "):
            sec = l.split()[-1].rstrip(":")
            continue
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", l)
        if m:
            fn, base = m.group(2), int(m.group(1), 16)
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(\S+)?", l)
        if m and m.group(3):
            last = (int(m.group(1), 16), len(m.group(2).split()), m.group(3))
            c = re.search(r"call\s+[0-9a-f]+ <([^+>]+)>", l)
            if c:
                after_call[f"{fn}+{last[0] + last[1] - base:#x}"] = c.group(1)
            continue
        m = re.match(r"^\s+[0-9a-f]+: R_\S+\s+(\S+?)-0x4$", l)
        if m and last:
            at, size, op = last
            if op.startswith("call"):
                after_call[f"{fn}+{at + size - base:#x}"] = m.group(1)
            if m.group(1) == "__sanitizer_cov_trace_pc":
                load = sec in (".init.text", ".exit.text", ".text.startup", ".text.exit")
                load_only += load
                sites.append((fn, f"{fn}+{at + size - base:#x}", op.startswith("jmp"), load))
total = len(sites)
if total and st.get("Reached"):
    pcs = set(st["Reached"])
    called = {after_call[p] for p in pcs if p in after_call}
    hit = [s for s in sites if (s[0] in called if s[2] else s[1] in pcs)]
    n = len(hit)
    line += (f"; {n} of the module's {total} instrumented blocks ({100 * n / total:.1f}%), "
             f"of the {total - load_only} outside its load and unload code ({100 * n / (total - load_only):.1f}%)")
    per_fn, got = {}, {}
    for s in sites:
        if not s[3]:
            per_fn[s[0]] = per_fn.get(s[0], 0) + 1
    for s in hit:
        got[s[0]] = got.get(s[0], 0) + 1
    missed = sorted(((c - got.get(f, 0), f) for f, c in per_fn.items() if c > got.get(f, 0)), reverse=True)
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
