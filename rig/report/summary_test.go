package report

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func spec(text string, state types.SpecState, labels ...string) types.SpecReport {
	return types.SpecReport{
		ContainerHierarchyTexts:  []string{"KBUS"},
		ContainerHierarchyLabels: [][]string{labels},
		LeafNodeType:             types.NodeTypeIt,
		LeafNodeText:             text,
		State:                    state,
		RunTime:                  time.Millisecond,
	}
}

func TestSummarizeCountsEveryState(t *testing.T) {
	failed := spec("rejects a bad guard", types.SpecStateFailed, "core")
	failed.Failure = types.Failure{Message: "expected EINVAL", Location: types.CodeLocation{FileName: "x_test.go", LineNumber: 7}}
	r := types.Report{
		SuiteDescription: "KBUS core",
		RunTime:          2 * time.Second,
		SpecReports: types.SpecReports{
			spec("binds", types.SpecStatePassed, "core"),
			spec("sends", types.SpecStatePassed, "stb"),
			failed,
			spec("panics", types.SpecStatePanicked),
			spec("slow", types.SpecStateSkipped, "soak"),
			spec("later", types.SpecStatePending),
			{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
			{LeafNodeType: types.NodeTypeAfterSuite, State: types.SpecStateFailed,
				Failure: types.Failure{Message: "cleanup failed"}},
		},
	}
	s := Summarize([]types.Report{r})
	if s.Total != 6 || s.Run != 4 || s.Passed != 2 || s.Failed != 3 || s.Skipped != 2 {
		t.Errorf("got total %d run %d passed %d failed %d skipped %d; want 6 4 2 3 2",
			s.Total, s.Run, s.Passed, s.Failed, s.Skipped)
	}
	if s.Duration != 2*time.Second {
		t.Errorf("duration %v", s.Duration)
	}
	if len(s.Failures) != 3 {
		t.Fatalf("failures %v", s.Failures)
	}
	if f := s.Failures[0]; f.Spec != "KBUS rejects a bad guard" || f.Message != "expected EINVAL" || f.Location != "x_test.go:7" {
		t.Errorf("first failure %+v", f)
	}
	if s.Failures[2].Spec != "AfterSuite" {
		t.Errorf("suite node failure named %q", s.Failures[2].Spec)
	}
	if c := s.ByLabel["core"]; c == nil || c.Passed != 1 || c.Failed != 1 {
		t.Errorf("core label %+v", c)
	}
	if got := s.Labels(); len(got) != 4 || got[len(got)-1] != "" {
		t.Errorf("labels %q, want the unlabelled group last", got)
	}
}

func TestSummarizeNothing(t *testing.T) {
	s := Summarize(nil)
	if s.Run != 0 || s.Failed != 0 || len(s.Failures) != 0 {
		t.Errorf("%+v", s)
	}
}

func TestReadReportsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := []types.Report{{SuiteDescription: "a", SpecReports: types.SpecReports{spec("x", types.SpecStatePassed)}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "a.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadReports(p, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || Summarize(got).Passed != 2 {
		t.Errorf("read %d reports: %+v", len(got), Summarize(got))
	}
}

func TestReadReportsRejectsGarbage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(p, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadReports(p); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := ReadReports(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSuiteLabelsCount(t *testing.T) {
	r := types.Report{SuiteLabels: []string{"stb"}, SpecReports: types.SpecReports{spec("a", types.SpecStatePassed), spec("b", types.SpecStatePassed, "slow")}}
	s := Summarize([]types.Report{r})
	if c := s.ByLabel["stb"]; c == nil || c.Passed != 2 {
		t.Errorf("stb: %+v", c)
	}
	if c := s.ByLabel["slow"]; c == nil || c.Passed != 1 {
		t.Errorf("slow: %+v", c)
	}
}
