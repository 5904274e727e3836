package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kbus-project/kbus/internal/atomicfile"
	"github.com/kbus-project/kbus/rig/profile"
	"github.com/kbus-project/kbus/rig/requirements"
)

// RunFile is the whole run's machine-readable summary, beside the run's
// page in the reports folder and kept in the history folder.
const RunFile = "report.json"

// HistoryKeep is how many runs the history folder keeps.
const HistoryKeep = 20

// RunReport is everything one invocation of make ran: every target's
// report, what was tested, and what changed since the baseline.
type RunReport struct {
	RunID    string
	Date     time.Time
	Verdict  Verdict
	Versions Versions
	Targets  []*TargetReport
	// Baseline names the run the changes are against; empty when there
	// was none.
	Baseline string   `json:",omitempty"`
	Changes  *Changes `json:",omitempty"`
	// Profile is where the run's time went, when make test logged its
	// stages (scripts/timed.sh).
	Profile *profile.Profile `json:",omitempty"`
	// Requirements counts docs/kbus.md's sections by whether the run's
	// specs verified them (Trace).
	Requirements *requirements.Summary `json:",omitempty"`
}

// Versions is what was tested, and with what.
type Versions struct {
	Git     string // git describe
	Dirty   bool   // uncommitted changes in the tree
	Module  string // the module sources' content hash
	Go      string
	QEMU    map[string]string // binary → version line
	Host    string
	Kernels map[string]Kernel `json:",omitempty"` // target name → its kernel
}

// NewRun assembles a run from its targets, worst verdict first.
func NewRun(runID string, v Versions, targets []*TargetReport) *RunReport {
	SortTargets(targets)
	r := &RunReport{RunID: runID, Date: time.Now(), Versions: v, Targets: targets}
	if len(targets) == 0 {
		r.Verdict = Infra // nothing ran: not a pass
	}
	for _, t := range targets {
		r.Verdict = max(r.Verdict, t.Verdict)
		if r.Versions.Kernels == nil {
			r.Versions.Kernels = map[string]Kernel{}
		}
		r.Versions.Kernels[t.Name] = t.Kernel
		if r.Versions.Module == "" {
			r.Versions.Module = t.Module
		}
	}
	if len(targets) > 0 {
		r.Requirements = &r.Trace().Summary
	}
	return r
}

// Counts sums the targets' counts.
func (r *RunReport) Counts() Counts {
	var c Counts
	for _, t := range r.Targets {
		c.Run += t.Counts.Run
		c.Passed += t.Counts.Passed
		c.Failed += t.Counts.Failed
		c.Skipped += t.Counts.Skipped
	}
	return c
}

// WriteJSON writes the run's summary to path.
func (r *RunReport) WriteJSON(path string) error { return writeJSON(path, r) }

// readJSON decodes the file at path into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

// writeJSON writes v to path as indented JSON, creating its folder.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// ReadRun reads a run's summary, e.g. a baseline downloaded from CI.
func ReadRun(path string) (*RunReport, error) {
	var r RunReport
	if err := readJSON(path, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ErrNoBaseline means the history holds no earlier run.
var ErrNoBaseline = errors.New("no earlier run in the history")

// History is the folder of earlier runs' summaries, one file per run,
// named by run id so that they sort by time.
type History struct{ Dir string }

// Record keeps r in the history, dropping the oldest beyond HistoryKeep.
func (h History) Record(r *RunReport) error {
	if err := r.WriteJSON(filepath.Join(h.Dir, r.RunID+".json")); err != nil {
		return err
	}
	runs, err := h.list()
	if err != nil {
		return err
	}
	for len(runs) > HistoryKeep {
		if err := os.Remove(runs[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err // another run's rig may have pruned it first
		}
		runs = runs[1:]
	}
	return nil
}

// Latest returns the newest recorded run other than runID.
func (h History) Latest(runID string) (*RunReport, error) {
	runs, err := h.list()
	if err != nil {
		return nil, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if filepath.Base(runs[i]) != runID+".json" {
			return ReadRun(runs[i])
		}
	}
	return nil, ErrNoBaseline
}

func (h History) list() ([]string, error) {
	runs, err := filepath.Glob(filepath.Join(h.Dir, "*.json"))
	sort.Strings(runs)
	return runs, err
}

// Noise bands: a change smaller than these is not reported.
const (
	durationNoise = time.Second // and at least half again or a third less
	figureNoise   = 0.20        // a fifth of the baseline's median
)

// Changes is what differs from the baseline run.
type Changes struct {
	NewFailures []SpecChange   `json:",omitempty"` // failing now, not failing then
	Fixed       []SpecChange   `json:",omitempty"` // failing then, passing now
	Added       []SpecChange   `json:",omitempty"` // specs the baseline did not have
	Removed     []SpecChange   `json:",omitempty"` // specs only the baseline had
	Slower      []SpecChange   `json:",omitempty"`
	Faster      []SpecChange   `json:",omitempty"`
	Figures     []FigureChange `json:",omitempty"`
	NewTargets  []string       `json:",omitempty"`
	GoneTargets []string       `json:",omitempty"`
	Stages      []StageChange  `json:",omitempty"` // of the profile
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return c == nil || len(c.NewFailures)+len(c.Fixed)+len(c.Added)+len(c.Removed)+len(c.Slower)+
		len(c.Faster)+len(c.Figures)+len(c.NewTargets)+len(c.GoneTargets)+len(c.Stages) == 0
}

// SpecChange is one spec on one target that changed.
type SpecChange struct {
	Target string
	Spec   string // the family, containers and leaf
	Then   string `json:",omitempty"` // state or duration in the baseline
	Now    string `json:",omitempty"`
}

// FigureChange is a figure whose median moved beyond the noise band.
type FigureChange struct {
	Target, Name, Unit string
	Then, Now          float64
}

// Compare sets r's changes against base.
func (r *RunReport) Compare(base *RunReport) {
	r.Baseline = base.RunID
	c := &Changes{}
	baseTargets := map[string]*TargetReport{}
	for _, t := range base.Targets {
		baseTargets[t.Name] = t
	}
	seen := map[string]bool{}
	for _, t := range r.Targets {
		seen[t.Name] = true
		bt := baseTargets[t.Name]
		if bt == nil {
			c.NewTargets = append(c.NewTargets, t.Name)
			continue
		}
		compareSpecs(c, t, bt)
		compareFigures(c, t, bt)
	}
	for _, t := range base.Targets {
		if !seen[t.Name] {
			c.GoneTargets = append(c.GoneTargets, t.Name)
		}
	}
	c.Stages = stageChanges(r, base)
	r.Changes = c
}

func specKey(s SpecResult) string {
	if s.Variant != "" {
		return s.Key() + " [" + s.Variant + "]"
	}
	return s.Key()
}

func compareSpecs(c *Changes, t, base *TargetReport) {
	then := map[string]SpecResult{}
	for _, s := range base.Specs {
		then[specKey(s)] = s
	}
	now := map[string]bool{}
	for _, s := range t.Specs {
		k := specKey(s)
		now[k] = true
		ch := SpecChange{Target: t.Name, Spec: k, Now: s.State}
		b, ok := then[k]
		switch {
		case !ok:
			c.Added = append(c.Added, ch)
			if s.Failed() {
				c.NewFailures = append(c.NewFailures, ch)
			}
		case s.Failed() && !b.Failed():
			ch.Then = b.State
			c.NewFailures = append(c.NewFailures, ch)
		case !s.Failed() && b.Failed():
			ch.Then = b.State
			c.Fixed = append(c.Fixed, ch)
		case s.State == "passed" && b.State == "passed":
			d := s.Duration - b.Duration
			ch.Then, ch.Now = b.Duration.Round(time.Millisecond).String(), s.Duration.Round(time.Millisecond).String()
			switch {
			case d > durationNoise && s.Duration > b.Duration*3/2:
				c.Slower = append(c.Slower, ch)
			case -d > durationNoise && s.Duration < b.Duration*2/3:
				c.Faster = append(c.Faster, ch)
			}
		}
	}
	for _, s := range base.Specs {
		if k := specKey(s); !now[k] {
			c.Removed = append(c.Removed, SpecChange{Target: t.Name, Spec: k, Then: s.State})
		}
	}
}

func compareFigures(c *Changes, t, base *TargetReport) {
	then := map[string]float64{}
	for _, f := range base.Figures {
		then[f.Name] = f.Median()
	}
	for _, f := range t.Figures {
		b, ok := then[f.Name]
		if !ok || b == 0 {
			continue
		}
		if now := f.Median(); math.Abs(now-b) > figureNoise*math.Abs(b) {
			c.Figures = append(c.Figures, FigureChange{Target: t.Name, Name: f.Name, Unit: f.Unit, Then: b, Now: now})
		}
	}
}

// Families lists the suite families the run's targets ran, in order.
func (r *RunReport) Families() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range r.Targets {
		for _, s := range t.Suites {
			if !seen[s.Family] {
				seen[s.Family] = true
				out = append(out, s.Family)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Failures lists every failed spec of the run, target by target.
func (r *RunReport) Failures() []TargetSpec {
	var out []TargetSpec
	for _, t := range r.Targets {
		for _, s := range t.Specs {
			if s.Failed() {
				out = append(out, TargetSpec{Target: t, Spec: s, Prefix: t.Name + "/"})
			}
		}
	}
	return out
}

// TargetSpec is a spec with the target it ran on.
type TargetSpec struct {
	Target *TargetReport
	Spec   SpecResult
	Prefix string // the target's folder from the page that links to its files
}

// Column names the target and variant a grid column shows.
func Column(t *TargetReport, variant string) string {
	if variant == "" {
		return t.Name
	}
	return t.Name + " (" + variant + ")"
}

// oneLine folds white space, for short cells.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
