// Package report turns what a guest left in its results share into the
// run's report folder and verdict: Collect copies the kernel's logs and
// finds the splats in them, merges the suites' JUnit and JSON reports and
// keeps the benchmark's figures; Summarize counts the specs; Decide is the
// one place a verdict is decided (DecideLAVA beside it for LAVA's record);
// WriteTargetPage and WriteRunPage write the HTML pages from the files
// under page/.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// Summary counts the specs of one run.
type Summary struct {
	Total    int // specs in the suites, whether they ran or not
	Run      int
	Passed   int
	Failed   int // failed, panicked, timed out, aborted or interrupted
	Skipped  int // skipped or pending, including those a label filter left out
	Duration time.Duration
	Failures []Failure
	// ByLabel counts passed and failed specs per label ("" for none).
	ByLabel map[string]*LabelCount
}

// LabelCount is the tally of one label.
type LabelCount struct{ Passed, Failed, Skipped int }

// Failure names one failed spec or suite node.
type Failure struct {
	Suite    string
	Spec     string // the full text: containers and leaf
	State    string
	Message  string
	Location string
}

func (f Failure) String() string {
	return fmt.Sprintf("[%s] %s: %s (%s)\n    %s", f.State, f.Suite, f.Spec, f.Location,
		strings.ReplaceAll(strings.TrimSpace(f.Message), "\n", "\n    "))
}

// ReadReports reads Ginkgo JSON reports (each file holds a list).
func ReadReports(paths ...string) ([]types.Report, error) {
	var all []types.Report
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading report: %w", err)
		}
		var reports []types.Report
		if err := json.Unmarshal(b, &reports); err != nil {
			return nil, fmt.Errorf("decoding report %s: %w", p, err)
		}
		all = append(all, reports...)
	}
	return all, nil
}

// Summarize counts the specs of the reports. Failures of suite-level nodes
// (BeforeSuite, AfterSuite, ...) count as failures too.
func Summarize(reports []types.Report) Summary {
	s := Summary{ByLabel: map[string]*LabelCount{}}
	for _, r := range reports {
		s.Duration += r.RunTime
		for _, sr := range r.SpecReports {
			isSpec := sr.LeafNodeType == types.NodeTypeIt
			failed := sr.State.Is(types.SpecStateFailureStates)
			if !isSpec && !failed {
				continue
			}
			if isSpec {
				s.Total++
			}
			labels := specLabels(r, sr)
			if len(labels) == 0 {
				labels = []string{""}
			}
			tally := func(f func(*LabelCount)) {
				for _, l := range labels {
					if s.ByLabel[l] == nil {
						s.ByLabel[l] = &LabelCount{}
					}
					f(s.ByLabel[l])
				}
			}
			switch {
			case failed:
				if isSpec {
					s.Run++
				}
				s.Failed++
				tally(func(c *LabelCount) { c.Failed++ })
				s.Failures = append(s.Failures, Failure{
					Suite:    r.SuiteDescription,
					Spec:     specName(sr),
					State:    sr.State.String(),
					Message:  sr.FailureMessage(),
					Location: sr.FailureLocation().String(),
				})
			case sr.State == types.SpecStatePassed:
				s.Run++
				s.Passed++
				tally(func(c *LabelCount) { c.Passed++ })
			default:
				s.Skipped++
				tally(func(c *LabelCount) { c.Skipped++ })
			}
		}
	}
	return s
}

func specName(sr types.SpecReport) string {
	if sr.LeafNodeType != types.NodeTypeIt {
		return sr.LeafNodeType.String()
	}
	return sr.FullText()
}

// Labels returns the labels of s in order, "" (no label) last.
func (s Summary) Labels() []string {
	var ls []string
	for l := range s.ByLabel {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool {
		if (ls[i] == "") != (ls[j] == "") {
			return ls[j] == ""
		}
		return ls[i] < ls[j]
	})
	return ls
}

// specLabels are a spec's own labels and its suite's.
func specLabels(r types.Report, sr types.SpecReport) []string {
	return append(append([]string(nil), r.SuiteLabels...), sr.Labels()...)
}
