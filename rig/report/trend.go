package report

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/rig/figure"
)

// Trend is the page's view of the last runs, like TestGrid's: each spec
// that did not pass in one of them, its result run by run, whether it is
// flaky, and where each current failure began; and the suites' time run by
// run (docs/reports.md, "History").
type Trend struct {
	Runs  []TrendRun
	Specs []TrendSpec // the specs that did not pass in some run, failing now first
	// Flaky counts the specs marked flaky.
	Flaky int
	// Durations is the suites' summed time per run, a series per target.
	Durations []figure.Figure
}

// TrendRun is one column: a run, oldest first; the last is this run.
type TrendRun struct {
	RunID, Git string
	Dirty      bool
}

// TrendSpec is one row.
type TrendSpec struct {
	Target, Spec string
	Cells        []string // per run: "passed", "failed", "skipped" or "" (not in that run)
	// Flips counts verdict changes between two runs with the same
	// inputs (Inputs): a spec that flips without a change is flaky.
	Flips int
	// FailingSince is the first run of the failure that goes on in the
	// last run, "" when the spec passes now.
	FailingSince, FailingSinceGit string
	// FixedIn is the run after the spec's last failure, when it passes
	// from there to the last run and is not flaky: the run (and commit)
	// that fixed it.
	FixedIn, FixedInGit string
}

// Flaky says whether the spec changed verdict without a change to its
// inputs.
func (s TrendSpec) Flaky() bool { return s.Flips > 0 }

// inputs names what a target of a run was built from: a spec whose result
// differs between two runs with the same inputs is flaky. A run of an
// uncommitted tree has inputs of its own.
func inputs(r *RunReport, t *TargetReport) string {
	if r.Versions.Dirty || r.Versions.Git == "" {
		return "dirty:" + r.RunID
	}
	return strings.Join([]string{r.Versions.Git, r.Versions.Module, t.Kernel.ConfigKey}, "|")
}

// BuildTrend makes the view of runs, oldest first (the history's and then
// the current run).
func BuildTrend(runs []*RunReport) *Trend {
	tr := &Trend{}
	type row struct {
		target, spec string
		cells        []string
		inputs       []string
		notPass      bool
	}
	rows := map[string]*row{}
	var order []string
	for i, r := range runs {
		tr.Runs = append(tr.Runs, TrendRun{RunID: r.RunID, Git: r.Versions.Git, Dirty: r.Versions.Dirty})
		for _, t := range r.Targets {
			in := inputs(r, t)
			for _, s := range t.Specs {
				k := t.Name + "\x00" + specKey(s)
				w := rows[k]
				if w == nil {
					w = &row{target: t.Name, spec: s.Family + " › " + s.FullText() + variantSuffix(s),
						cells: make([]string, len(runs)), inputs: make([]string, len(runs))}
					rows[k] = w
					order = append(order, k)
				}
				state := "skipped"
				switch {
				case s.Failed():
					state = "failed"
				case s.State == "passed":
					state = "passed"
				}
				w.cells[i], w.inputs[i] = state, in
				if state == "failed" {
					w.notPass = true
				}
			}
		}
	}
	last := len(runs) - 1
	for _, k := range order {
		w := rows[k]
		s := TrendSpec{Target: w.target, Spec: w.spec, Cells: w.cells}
		// Flips: consecutive runs of the spec, each result against the
		// last one it had with the same inputs.
		seen := map[string]string{}
		for i, c := range w.cells {
			if c != "passed" && c != "failed" {
				continue
			}
			if was, ok := seen[w.inputs[i]]; ok && was != c {
				s.Flips++
				w.notPass = true
			}
			seen[w.inputs[i]] = c
		}
		if !w.notPass {
			continue
		}
		if last >= 0 && w.cells[last] == "failed" {
			first := last
			for first > 0 && (w.cells[first-1] == "failed") {
				first--
			}
			s.FailingSince, s.FailingSinceGit = runs[first].RunID, runs[first].Versions.Git
		}
		if last >= 0 && w.cells[last] == "passed" && !s.Flaky() {
			fixed := last
			for fixed > 0 && w.cells[fixed-1] != "failed" {
				fixed--
			}
			if fixed > 0 {
				s.FixedIn, s.FixedInGit = runs[fixed].RunID, runs[fixed].Versions.Git
			}
		}
		if s.Flaky() {
			tr.Flaky++
		}
		tr.Specs = append(tr.Specs, s)
	}
	sort.SliceStable(tr.Specs, func(i, j int) bool {
		a, b := tr.Specs[i], tr.Specs[j]
		if (a.FailingSince != "") != (b.FailingSince != "") {
			return a.FailingSince != ""
		}
		if a.Flaky() != b.Flaky() {
			return a.Flaky()
		}
		return a.Target+a.Spec < b.Target+b.Spec
	})
	tr.Durations = suiteTrend(runs)
	return tr
}

func variantSuffix(s SpecResult) string {
	if s.Variant == "" {
		return ""
	}
	return " (" + s.Variant + ")"
}

// suiteTrend is, per target present in the last run, its suites' summed
// time in each run that had it (x: the run's place, 1 the oldest).
func suiteTrend(runs []*RunReport) []figure.Figure {
	if len(runs) == 0 {
		return nil
	}
	var out []figure.Figure
	for _, t := range runs[len(runs)-1].Targets {
		var x, y []float64
		for i, r := range runs {
			for _, rt := range r.Targets {
				if rt.Name != t.Name {
					continue
				}
				var sum float64
				for _, s := range rt.Suites {
					sum += s.Duration.Seconds()
				}
				x, y = append(x, float64(i+1)), append(y, sum)
			}
		}
		if len(x) > 1 {
			out = append(out, figure.NewSeries(t.Name+": the suites' time, run by run (oldest 1)", "s", x, y))
		}
	}
	return out
}

// TrendDepth is how many runs the page's history view shows, this one
// included.
const TrendDepth = HistoryKeep

// ReadRuns reads every run summary in dir — the history's RUNID.json files,
// or runs copied from elsewhere as DIR/*.json or DIR/*/report.json — oldest
// first by run id, skipping skip (the run being written); at most the
// newest max.
func ReadRuns(dir, skip string, max int) ([]*RunReport, error) {
	var files []string
	for _, pattern := range []string{"*.json", filepath.Join("*", RunFile)} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	byID := map[string]*RunReport{}
	for _, f := range files {
		r, err := ReadRun(f)
		if err != nil {
			return nil, fmt.Errorf("the history: %w", err)
		}
		if r.RunID != "" && r.RunID != skip {
			byID[r.RunID] = r
		}
	}
	ids := slices.Sorted(maps.Keys(byID))
	if len(ids) > max {
		ids = ids[len(ids)-max:]
	}
	runs := make([]*RunReport, len(ids))
	for i, id := range ids {
		runs[i] = byID[id]
	}
	return runs, nil
}
