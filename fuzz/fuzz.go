package fuzz

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"
)

//go:embed corpus/*.json
var committed embed.FS

// Corpus is the committed corpus (fuzz/corpus): programs every run
// replays before it fuzzes, among them the reproducers of what it found.
func Corpus() ([]Program, error) {
	entries, err := committed.ReadDir("corpus")
	if err != nil {
		return nil, fmt.Errorf("fuzz: reading the committed corpus: %w", err)
	}
	var ps []Program
	for _, e := range entries {
		b, err := committed.ReadFile("corpus/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("fuzz: %s: %w", e.Name(), err)
		}
		p, err := Decode(b)
		if err != nil {
			return nil, fmt.Errorf("fuzz: %s: %w", e.Name(), err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Config is one fuzzing run.
type Config struct {
	Device string        // e.g. /dev/kbus0
	Seed   int64         // of the random choices
	Budget time.Duration // how long to fuzz after the replay (0: replay only)
	Replay []Program     // run first, in order, and kept as the start corpus
	Out    string        // where new corpus entries and reproducers go ("": nowhere)
	Log    io.Writer     // progress lines
}

// Stats are a run's figures.
type Stats struct {
	Execs    int     // programs run, replayed ones included
	Replayed int     // of which from the committed corpus
	Seconds  float64 // wall time
	Running  float64 // of which running programs (not kmemleak's scans)
	// Blocks counts the distinct addresses KCOV reported in the module:
	// one per block reached, except that a block ending in a tail call
	// of KCOV's hook is reported at each of its function's callers, so
	// this is an upper bound (scripts/reliability-figures.sh counts the
	// blocks themselves against the module's disassembly).
	Blocks int
	Edges  int  // distinct transitions between those addresses
	Corpus int  // programs kept at the end
	New    int  // of which found by this run
	Kills  int  // times the second process was killed mid-program
	Scans  int  // kmemleak scans (debug kernel)
	Faults bool // the kernel can make a call's Nth allocation fail (Op.Fail)
	// Unreached are the module's functions none of whose blocks ran
	// (from /proc/kallsyms; empty if it could not be read, and why in
	// UnreachedErr).
	Unreached    []string
	UnreachedErr string `json:",omitempty"`
	// Reached is every block reached, as "function+0xoffset".
	Reached []string `json:",omitempty"`
}

// ExecsPerSecond is the run's exec rate while it ran programs.
func (s Stats) ExecsPerSecond() float64 {
	if s.Running == 0 {
		return 0
	}
	return float64(s.Execs) / s.Running
}

func (s Stats) String() string {
	out := fmt.Sprintf("%d execs in %.0f s, %.0f s running programs (%.1f/s, %d replayed), %d KCOV addresses, %d edges, "+
		"corpus %d (%d new), %d kills, %d kmemleak scans, fault injection %s",
		s.Execs, s.Seconds, s.Running, s.ExecsPerSecond(), s.Replayed, s.Blocks, s.Edges, s.Corpus, s.New, s.Kills, s.Scans,
		map[bool]string{true: "on", false: "not in this kernel"}[s.Faults])
	switch {
	case s.UnreachedErr != "":
		out += "; unreached functions unknown: " + s.UnreachedErr
	case s.Blocks > 0:
		out += fmt.Sprintf("; %d functions never reached: %s", len(s.Unreached), strings.Join(s.Unreached, " "))
	}
	return out
}

// Finding is a problem the kernel reported, or a hang, with the programs
// that ran last (the newest last) and where they were saved.
type Finding struct {
	Reason   string // what the kernel said, or ErrHang's text
	Programs []Program
	Saved    string // the reproducer's path, if Out was set
}

func (f *Finding) Error() string {
	s := "fuzz: " + f.Reason
	if f.Saved != "" {
		s += " (reproducer: " + f.Saved + ")"
	}
	return s
}

// recent is how many of the last programs a reproducer keeps: a report
// can come a little after the program that caused it.
const recent = 4

// leakEvery is how often a run has kmemleak scan (debug kernel; a scan
// costs the guest seconds under TCG, time the budget then lacks), and
// maxSinceScan the most programs a leak's reproducer keeps.
const (
	leakEvery    = 5 * time.Minute
	maxSinceScan = 2000
)

type fuzzer struct {
	cfg   Config
	exec  *Executor
	watch *kernelLog
	leaks *leakWatch // nil without kmemleak
	// since is every program run since the last scan that found no leak
	since  []Program
	rand   *rand.Rand
	blocks map[uintptr]struct{}
	edges  map[uint64]struct{}
	corpus []Program
	last   []Program
	stats  Stats
}

// Run replays cfg.Replay, then fuzzes for cfg.Budget or until ctx ends.
// It returns the run's figures and a *Finding if the kernel reported a
// problem (a KASAN report, a lockdep splat, a WARN, a BUG, a hung task, a
// leak kmemleak found in one of its scans every leakEvery and at the end)
// or an operation hung; other errors are the fuzzer's own.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	start := time.Now()
	f := &fuzzer{cfg: cfg, rand: rand.New(rand.NewSource(cfg.Seed)),
		blocks: map[uintptr]struct{}{}, edges: map[uint64]struct{}{}}
	if cfg.Log == nil {
		f.cfg.Log = io.Discard
	}
	var err error
	if f.stats.Faults, err = setUpFaults(); err != nil {
		return f.stats, err
	}
	if f.watch, err = openKernelLog(); err != nil {
		return f.stats, err
	}
	defer f.watch.Close()
	if f.leaks, err = openLeakWatch(); err != nil {
		return f.stats, err
	}
	if f.leaks != nil {
		f.stats.Scans++ // what was there before the run
	}
	if f.exec, err = NewExecutor(cfg.Device, false); err != nil {
		return f.stats, err
	}
	defer f.exec.Close()

	for _, p := range cfg.Replay {
		if _, err := f.one(p); err != nil {
			return f.finish(start), err
		}
		f.stats.Replayed++
		f.corpus = append(f.corpus, p)
	}
	deadline := time.Now().Add(cfg.Budget)
	nextReport := time.Now().Add(10 * time.Second)
	nextScan := time.Now().Add(leakEvery)
	for cfg.Budget > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		if f.leaks != nil && time.Now().After(nextScan) {
			if err := f.checkLeaks(); err != nil {
				return f.finish(start), err
			}
			nextScan = time.Now().Add(leakEvery)
		}
		var p Program
		if len(f.corpus) == 0 || f.rand.Intn(8) == 0 {
			p = Generate(f.rand)
		} else {
			p = Mutate(f.rand, pick(f.rand, f.corpus), pick(f.rand, f.corpus))
		}
		fresh, err := f.one(p)
		if err != nil {
			return f.finish(start), err
		}
		if fresh {
			f.corpus = append(f.corpus, p)
			f.stats.New++
			f.save(filepath.Join("corpus", fmt.Sprintf("%05d.json", f.stats.New)), p.Encode())
		}
		if time.Now().After(nextReport) {
			fmt.Fprintf(f.cfg.Log, "fuzz: %s\n", f.finish(start))
			nextReport = time.Now().Add(10 * time.Second)
		}
	}
	if f.leaks != nil {
		// What the last programs left is old enough to report once
		// kmemleak's minimum age has passed.
		f.exec.Close()
		time.Sleep(kmemleakMinAge)
		if err := f.checkLeaks(); err != nil {
			return f.finish(start), err
		}
	}
	return f.finish(start), nil
}

// checkLeaks has kmemleak scan; a new leak is a Finding whose reproducer
// is every program since the last clean scan, run as one.
func (f *fuzzer) checkLeaks() error {
	line, err := f.leaks.Scan()
	f.stats.Scans++
	if err != nil {
		return err
	}
	if line == "" {
		f.since = f.since[:0]
		return nil
	}
	// One program: each of them, then closes in both processes (which is
	// what the executor does after each).
	var all Program
	for _, p := range f.since {
		all = append(all, p...)
		for proc := Procs - 1; proc >= 0; proc-- {
			for s := 0; s < Slots; s++ {
				all = append(all, Op{Kind: OpClose, Slot: s, Proc: proc})
			}
		}
	}
	fd := &Finding{Reason: line, Programs: []Program{all}}
	fd.Saved = f.save(fmt.Sprintf("leak-%d.json", f.stats.Execs), all.Encode())
	f.save(fmt.Sprintf("leak-%d.txt", f.stats.Execs),
		[]byte(fmt.Sprintf("# %s\n# %d programs since the last clean scan, run as one in leak-%d.json\n",
			line, len(f.since), f.stats.Execs)))
	return fd
}

func (f *fuzzer) finish(start time.Time) Stats {
	f.stats.Seconds = time.Since(start).Seconds()
	f.stats.Blocks, f.stats.Edges, f.stats.Corpus = len(f.blocks), len(f.edges), len(f.corpus)
	if f.exec != nil {
		f.stats.Kills = f.exec.kills
	}
	if len(f.blocks) > 0 {
		var err error
		if f.stats.Unreached, f.stats.Reached, err = unreachedFunctions(f.blocks); err != nil {
			f.stats.UnreachedErr = err.Error()
		}
	}
	return f.stats
}

// one runs p, checks the kernel's log and says whether p reached new
// edges.
func (f *fuzzer) one(p Program) (bool, error) {
	defer func(t time.Time) { f.stats.Running += time.Since(t).Seconds() }(time.Now())
	f.last = append(f.last, p)
	if len(f.last) > recent {
		f.last = f.last[1:]
	}
	if f.leaks != nil {
		f.since = append(f.since, p)
		if len(f.since) > maxSinceScan {
			f.since = f.since[1:]
		}
	}
	runs, err := f.exec.Run(p)
	f.stats.Execs++
	if err != nil {
		if errors.Is(err, ErrHang) {
			return false, f.found(err.Error())
		}
		return false, err
	}
	if line := f.watch.Problem(); line != "" {
		return false, f.found(line)
	}
	fresh := false
	for _, pcs := range runs {
		var prev uintptr
		for _, pc := range pcs {
			if _, ok := f.blocks[pc]; !ok {
				f.blocks[pc] = struct{}{}
			}
			e := uint64(prev)*0x9e3779b97f4a7c15 ^ uint64(pc)
			if _, ok := f.edges[e]; !ok {
				f.edges[e] = struct{}{}
				fresh = true
			}
			prev = pc
		}
	}
	return fresh, nil
}

// found saves the last programs as a reproducer and returns the Finding.
func (f *fuzzer) found(reason string) error {
	fd := &Finding{Reason: reason, Programs: append([]Program(nil), f.last...)}
	var b strings.Builder
	for _, p := range fd.Programs {
		b.Write(p.Encode())
	}
	// The last program alone is the corpus format; the file with all of
	// them says what ran before it.
	name := fmt.Sprintf("crash-%d", f.stats.Execs)
	fd.Saved = f.save(name+".json", fd.Programs[len(fd.Programs)-1].Encode())
	f.save(name+"-all.txt", []byte("# "+reason+"\n"+b.String()))
	return fd
}

// save writes a file under Out, returning its path ("" if not written).
func (f *fuzzer) save(name string, b []byte) string {
	if f.cfg.Out == "" {
		return ""
	}
	path := filepath.Join(f.cfg.Out, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ""
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return ""
	}
	return path
}
