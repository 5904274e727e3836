package report

import (
	"bufio"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/figure"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/internal/shell"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// TargetFile is a target's report in a form the run's page and history
// read: everything the page shows of the target, without the raw reports.
const TargetFile = "target.json"

// MarshalText writes a verdict by name, as reports store it.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads a verdict's name.
func (v *Verdict) UnmarshalText(b []byte) error {
	for _, c := range []Verdict{Pass, Fail, Infra} {
		if c.String() == string(b) {
			*v = c
			return nil
		}
	}
	return fmt.Errorf("unknown verdict %q", b)
}

// TargetMeta is what the pipeline knows of a target's run beyond what the
// guest left.
type TargetMeta struct {
	RunID   string
	Name    string // the report folder's name: x86_64, x86_64-debug, pair-arm64
	Target  string // the architecture
	Flavour string
	Role    string // the machine's role in a topology, e.g. "service box"
	Mode    guestproto.Mode
	Labels  string // the label filter it ran with
	// Stage is the make test stage that ran it (scripts/timed.sh), for
	// the run's profile.
	Stage string `json:",omitempty"`
	// Rerun is the make command that reruns this target; a spec's rerun
	// adds FOCUS to it.
	Rerun   string
	Cmdline string // the QEMU command line
	Kernel  Kernel
	Module  string // the module sources' content hash
	QEMU    string // the QEMU binary
	Verdict Verdict
	Reasons []string
	Stages  []Stage
	Total   time.Duration
	// Start is when the pipeline began; BootToInit the kernel's start to
	// init as the guest saw it. The run's profile places and splits the
	// target's time by them.
	Start      time.Time     `json:",omitempty"`
	BootToInit time.Duration `json:",omitempty"`
	// Streams and SuitesWall: how many suites the guest ran side by side,
	// and the time from the first one's start to the last one's end.
	Streams    int           `json:",omitempty"`
	SuitesWall time.Duration `json:",omitempty"`
}

// Kernel is the kernel a target ran.
type Kernel struct {
	Release   string // uname -r and -m, as the guest saw it
	ConfigKey string // the kernel build's content key
	Source    string // the source package and version
	Compiler  string
}

// TargetReport is one target's part of a run.
type TargetReport struct {
	TargetMeta
	Counts  Counts
	Suites  []SuiteTime
	Specs   []SpecResult
	Figures []FigureOf
	Splats  []Splat
	Bench   string `json:",omitempty"`
}

// Counts tallies specs.
type Counts struct{ Run, Passed, Failed, Skipped int }

// SuiteTime is how one suite binary ran.
type SuiteTime struct {
	Name     string // e.g. core, core-arm32
	Family   string // the suite's folder under specs/: core
	Duration time.Duration
	ExitCode int
	Error    string `json:",omitempty"`
}

// SpecResult is one spec (or failed suite node) on one target.
type SpecResult struct {
	Suite     string // the suite binary that ran it
	Family    string
	Variant   string   `json:",omitempty"` // e.g. arm32, for a compat build of the suites
	Container string   // the containers' texts, joined by " › "
	Text      string   // the leaf's text
	Labels    []string `json:",omitempty"`
	State     string   // passed, failed, skipped, pending, panicked, ...
	Duration  time.Duration
	Location  string         // file:line of the spec
	Failure   *FailureDetail `json:",omitempty"`
	// Runs and Passes count a spec's runs when its suite was repeated
	// (rig test -repeat): its pass rate. A spec that failed once failed.
	Runs   int `json:",omitempty"`
	Passes int `json:",omitempty"`
	// Attempts is how many times Ginkgo ran the spec in one run when it
	// retries failures (FlakeAttempts): a spec passed on a later attempt
	// is flaky, never a plain pass.
	Attempts int `json:",omitempty"`
}

// Flaky says the spec passed only on a retry, or failed in some of its
// repeated runs and passed in others.
func (s SpecResult) Flaky() bool {
	return (s.State == "passed" && s.Attempts > 1) || (s.Runs > 1 && s.Passes > 0 && s.Passes < s.Runs)
}

// rate is " passes/runs" for a repeated spec, "" otherwise.
func (s SpecResult) rate() string {
	if s.Runs < 2 {
		return ""
	}
	return fmt.Sprintf(" %d/%d", s.Passes, s.Runs)
}

// FullText is the spec's containers and leaf, as Ginkgo's focus matches it.
func (s SpecResult) FullText() string {
	return strings.TrimSpace(strings.ReplaceAll(s.Container, " › ", " ") + " " + s.Text)
}

// Key identifies a spec across targets and runs.
func (s SpecResult) Key() string { return s.Family + " | " + s.Container + " › " + s.Text }

// Failed reports whether the spec failed in any way.
func (s SpecResult) Failed() bool { return s.Failure != nil }

// FailureDetail is everything the page shows of one failure.
type FailureDetail struct {
	Message  string
	Location string
	Timeline []string
	Output   string   `json:",omitempty"`
	Dmesg    []string `json:",omitempty"` // kernel lines around the failure
	Log      string   // the suite's console log, relative to the target's folder
	Rerun    string
}

// FigureOf is a figure a spec recorded.
type FigureOf struct {
	Spec string
	figure.Figure
}

// Family is the suite's folder name: a compat build "core-arm32" is core.
func Family(suite string) (family, variant string) {
	if i := strings.LastIndex(suite, "-"); i > 0 {
		return suite[:i], suite[i+1:]
	}
	return suite, ""
}

// BuildTarget assembles a target's report from what the pipeline knows and
// what the guest left (res may be nil when the guest never ran).
func BuildTarget(meta TargetMeta, res *Results, dmesg string) *TargetReport {
	t := &TargetReport{TargetMeta: meta}
	if res == nil {
		return t
	}
	t.Splats, t.Bench = res.Splats, res.Bench
	for _, f := range res.BenchFigures {
		t.Figures = append(t.Figures, FigureOf{Spec: "kbusbench", Figure: f})
	}
	var boot time.Time
	if st := res.Status; st != nil {
		boot = st.BootTime
		if meta.Kernel.Release == "" {
			t.Kernel.Release = st.Kernel
		}
		t.Streams, t.SuitesWall = st.Streams, st.SuitesWall
		for _, s := range st.Suites {
			fam, _ := Family(s.Name)
			t.Suites = append(t.Suites, SuiteTime{Name: s.Name, Family: fam, Duration: s.Duration, ExitCode: s.ExitCode, Error: s.Error})
		}
	}
	sum := Summarize(res.Reports)
	t.Counts = Counts{Run: sum.Run, Passed: sum.Passed, Failed: sum.Failed, Skipped: sum.Skipped}
	kernelLog := parseDmesg(dmesg)
	for i, r := range res.Reports {
		suite := ""
		if i < len(res.ReportSuites) {
			suite = res.ReportSuites[i]
		}
		fam, variant := Family(suite)
		for _, sr := range r.SpecReports {
			isSpec := sr.LeafNodeType == types.NodeTypeIt
			if !isSpec && !sr.Failed() {
				continue
			}
			s := SpecResult{
				Suite: suite, Family: fam, Variant: variant,
				Container: strings.Join(sr.ContainerHierarchyTexts, " › "), Text: specText(sr),
				Labels: specLabels(r, sr), State: sr.State.String(), Duration: sr.RunTime,
				Location: fmt.Sprintf("%s:%d", filepath.Base(sr.LeafNodeLocation.FileName), sr.LeafNodeLocation.LineNumber),
			}
			if sr.NumAttempts > 1 {
				s.Attempts = sr.NumAttempts
			}
			if sr.Failed() {
				s.Failure = failureDetail(meta, suite, s, sr, boot, kernelLog)
			}
			t.Specs = append(t.Specs, s)
			for _, e := range sr.ReportEntries {
				if f, ok := figure.Decode(e.Value.AsJSON); ok {
					spec := s.FullText()
					if variant != "" {
						spec += " (" + variant + " build)"
					}
					t.Figures = append(t.Figures, FigureOf{Spec: spec, Figure: f})
				}
			}
		}
	}
	if merged, repeated := mergeRuns(t.Specs); repeated {
		t.Specs = merged
		t.Counts = Counts{}
		for _, s := range merged {
			switch {
			case s.Failed():
				t.Counts.Run++
				t.Counts.Failed++
			case s.State == "passed":
				t.Counts.Run++
				t.Counts.Passed++
			default:
				t.Counts.Skipped++
			}
		}
	}
	return t
}

// mergeRuns folds the runs of a repeated suite (rig test -repeat, whose
// reports follow one another): each spec's results become one, in the
// order it first ran, failed with its first failure if any run failed,
// with how many times it ran and passed and its slowest duration. It says
// whether any spec ran more than once.
func mergeRuns(specs []SpecResult) ([]SpecResult, bool) {
	index := map[string]int{}
	var out []SpecResult
	repeated := false
	for _, s := range specs {
		k := s.Suite + "\x00" + s.Key() + "\x00" + s.Location
		ran := s.Failed() || s.State == "passed"
		i, seen := index[k]
		if !seen {
			if ran {
				s.Runs = 1
				if !s.Failed() {
					s.Passes = 1
				}
			}
			index[k] = len(out)
			out = append(out, s)
			continue
		}
		repeated = true
		m := &out[i]
		if !ran {
			continue
		}
		m.Runs++
		if !s.Failed() {
			m.Passes++
		}
		m.Duration = max(m.Duration, s.Duration)
		m.Attempts = max(m.Attempts, s.Attempts)
		if s.Failed() && !m.Failed() {
			passes, runs := m.Passes, m.Runs
			*m = s
			m.Passes, m.Runs = passes, runs
		} else if m.State != "passed" && !m.Failed() && s.State == "passed" {
			m.State = "passed"
		}
	}
	if !repeated {
		for i := range out {
			out[i].Runs, out[i].Passes = 0, 0
		}
	}
	return out, repeated
}

func specText(sr types.SpecReport) string {
	if sr.LeafNodeType != types.NodeTypeIt {
		return sr.LeafNodeType.String()
	}
	return sr.LeafNodeText
}

func failureDetail(meta TargetMeta, suite string, s SpecResult, sr types.SpecReport, boot time.Time, klog []dmesgLine) *FailureDetail {
	f := &FailureDetail{
		Message:  strings.TrimSpace(sr.FailureMessage()),
		Location: sr.FailureLocation().String(),
		Output:   strings.TrimSpace(sr.CombinedOutput()),
		Log:      filepath.ToSlash(filepath.Join(SuitesDir, suite+".log")),
	}
	if sr.FailureLocation().FileName != "" {
		f.Location = fmt.Sprintf("%s:%d", filepath.Base(sr.FailureLocation().FileName), sr.FailureLocation().LineNumber)
	}
	if meta.Rerun != "" {
		f.Rerun = meta.Rerun + " FOCUS=" + shell.Quote(regexp.QuoteMeta(s.FullText()))
	}
	// The spec's timeline as Ginkgo itself renders it (steps, failures,
	// report entries, progress reports, with their times).
	if tl := strings.TrimRight(reporters.RenderTimeline(sr, true), "\n"); tl != "" {
		f.Timeline = strings.Split(tl, "\n")
	}
	at := sr.Failure.TimelineLocation.Time
	if at.IsZero() {
		at = sr.EndTime
	}
	if !boot.IsZero() && !at.IsZero() {
		f.Dmesg = around(klog, at.Sub(boot).Seconds(), 10, 2)
	}
	return f
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// dmesgLine is a kernel log line with its printk time in seconds since boot.
type dmesgLine struct {
	at   float64
	text string
}

func parseDmesg(log string) []dmesgLine {
	var out []dmesgLine
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		m := printkTime.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		at, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			out = append(out, dmesgLine{at: at, text: sc.Text()})
		}
	}
	return out
}

// around returns the kernel lines from before seconds before at to after
// seconds after it, at most 40, the latest kept.
func around(lines []dmesgLine, at, before, after float64) []string {
	var out []string
	for _, l := range lines {
		if l.at >= at-before && l.at <= at+after {
			out = append(out, l.text)
		}
	}
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	return out
}

// WriteTarget writes t as dir/target.json.
func WriteTarget(dir string, t *TargetReport) error {
	return writeJSON(filepath.Join(dir, TargetFile), t)
}

// ReadTargets reads the target report of every target folder under dir that
// belongs to run runID (all runs when runID is empty), ordered worst
// verdict first, then by name.
func ReadTargets(dir, runID string) ([]*TargetReport, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", TargetFile))
	if err != nil {
		return nil, err
	}
	var out []*TargetReport
	for _, p := range paths {
		var t TargetReport
		if err := readJSON(p, &t); err != nil {
			return nil, err
		}
		if runID == "" || t.RunID == runID {
			out = append(out, &t)
		}
	}
	SortTargets(out)
	return out, nil
}

// SortTargets orders targets worst verdict first, then by name.
func SortTargets(ts []*TargetReport) {
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Verdict != ts[j].Verdict {
			return ts[i].Verdict > ts[j].Verdict
		}
		return ts[i].Name < ts[j].Name
	})
}
