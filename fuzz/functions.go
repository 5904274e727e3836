package fuzz

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// kfunc is a function of a module, as the kernel's symbol table has it.
type kfunc struct {
	name  string
	start uint64
}

// moduleFunctions reads the text symbols of module from a /proc/kallsyms
// listing ("ADDRESS TYPE NAME [MODULE]"), sorted by address.
func moduleFunctions(r io.Reader, module string) ([]kfunc, error) {
	var fns []kfunc
	sc := bufio.NewScanner(r)
	tag := "[" + module + "]"
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[3] != tag || (f[1] != "t" && f[1] != "T") {
			continue
		}
		// The sanitizers' constructors and destructors: not the
		// module's code, and not instrumented.
		if strings.HasPrefix(f[2], "_sub_I_") || strings.HasPrefix(f[2], "_sub_D_") {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("kallsyms: %q: %w", sc.Text(), err)
		}
		if addr == 0 {
			return nil, fmt.Errorf("kallsyms hides the addresses of %s (kptr_restrict; run as root)", module)
		}
		fns = append(fns, kfunc{name: f[2], start: addr})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].start < fns[j].start })
	return fns, nil
}

// owner is the index in fns (sorted by address) of the function pc lies
// in, -1 if before them all: a function runs from its start to the next
// one's.
func owner(fns []kfunc, pc uintptr) int {
	return sort.Search(len(fns), func(i int) bool { return fns[i].start > uint64(pc) }) - 1
}

// unreached are the functions of fns in which none of blocks lies.
func unreached(fns []kfunc, blocks map[uintptr]struct{}) []string {
	hit := make([]bool, len(fns))
	for pc := range blocks {
		if i := owner(fns, pc); i >= 0 {
			hit[i] = true
		}
	}
	var out []string
	for i, f := range fns {
		if !hit[i] {
			out = append(out, f.name)
		}
	}
	// Static functions of several files may share a name.
	slices.Sort(out)
	return slices.Compact(out)
}

// placed names every block of blocks in the form "function+0xoffset",
// sorted, for the host to set against the module's instrumented calls.
func placed(fns []kfunc, blocks map[uintptr]struct{}) []string {
	var out []string
	for pc := range blocks {
		if i := owner(fns, pc); i >= 0 {
			out = append(out, fmt.Sprintf("%s+%#x", fns[i].name, uint64(pc)-fns[i].start))
		}
	}
	slices.Sort(out)
	return out
}

// unreachedFunctions are kbus.ko's functions the run never reached, from
// the running kernel's symbol table, and where each reached block is. KCOV reports addresses less the
// kernel's random base offset (KASLR), so they match the symbol table
// only on a kernel booted with nokaslr.
func unreachedFunctions(blocks map[uintptr]struct{}) ([]string, []string, error) {
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(strings.Fields(string(cmdline)), "nokaslr") {
		return nil, nil, fmt.Errorf("the kernel was not booted with nokaslr, so KCOV's addresses are not the symbol table's")
	}
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fns, err := moduleFunctions(f, "kbus")
	if err != nil {
		return nil, nil, err
	}
	if len(fns) == 0 {
		return nil, nil, fmt.Errorf("kallsyms lists no function of kbus")
	}
	return unreached(fns, blocks), placed(fns, blocks), nil
}
