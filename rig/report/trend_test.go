package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failSpec makes the i-th spec of run r's target name fail.
func failSpec(r *RunReport, name string, i int) string {
	for _, t := range r.Targets {
		if t.Name != name {
			continue
		}
		specs := append([]SpecResult(nil), t.Specs...)
		specs[i].State, specs[i].Failure = "failed", &FailureDetail{Message: "it broke"}
		t.Specs = specs
		return specs[i].Text
	}
	panic("no target " + name)
}

// history is three recorded runs: a green one but for an x86_64 spec
// that fails; one of the same commit, module and kernels where that spec
// fails again and an arm64 spec fails (flaky, as nothing changed); and one
// of a later commit where both pass again (the x86_64 one fixed) and
// another x86_64 spec fails for the first time.
func history(t *testing.T) (runs []*RunReport, flaky, broken, fixed string) {
	a := greenRun(t)
	a.RunID = "20261201T000000Z"
	fixed = failSpec(a, "x86_64", 3)
	b := greenRun(t)
	b.RunID = "20261202T000000Z"
	flaky = failSpec(b, "arm64", 1)
	failSpec(b, "x86_64", 3)
	c := greenRun(t)
	c.RunID, c.Versions.Git = "20261203T000000Z", "v1-1-gdef"
	broken = failSpec(c, "x86_64", 2)
	return []*RunReport{a, b, c}, flaky, broken, fixed
}

func TestTheTrendNamesFlakesAndWhereAFailureBegan(t *testing.T) {
	runs, flaky, broken, fixed := history(t)
	tr := BuildTrend(runs)
	if len(tr.Runs) != 3 || tr.Runs[2].Git != "v1-1-gdef" {
		t.Fatalf("runs %+v", tr.Runs)
	}
	if len(tr.Specs) != 3 {
		t.Fatalf("rows %+v, want the failing, the flaky and the fixed spec", tr.Specs)
	}
	now, fl, fx := tr.Specs[0], tr.Specs[1], tr.Specs[2]
	if !strings.HasSuffix(fx.Spec, fixed) || fx.Target != "x86_64" || fx.Flaky() || fx.FailingSince != "" ||
		fx.FixedIn != "20261203T000000Z" || fx.FixedInGit != "v1-1-gdef" || strings.Join(fx.Cells, ",") != "failed,failed,passed" {
		t.Errorf("the fixed spec: %+v", fx)
	}
	if now.FixedIn != "" || fl.FixedIn != "" {
		t.Errorf("a failing or flaky spec named fixed: %+v, %+v", now, fl)
	}
	if !strings.HasSuffix(now.Spec, broken) || now.Target != "x86_64" || now.FailingSince != "20261203T000000Z" ||
		now.FailingSinceGit != "v1-1-gdef" || now.Flaky() || strings.Join(now.Cells, ",") != "passed,passed,failed" {
		t.Errorf("the new failure: %+v", now)
	}
	if !strings.HasSuffix(fl.Spec, flaky) || fl.Target != "arm64" || !fl.Flaky() || fl.Flips != 1 ||
		fl.FailingSince != "" || strings.Join(fl.Cells, ",") != "passed,failed,passed" {
		t.Errorf("the flaky spec: %+v", fl)
	}
	if tr.Flaky != 1 {
		t.Errorf("flaky count %d", tr.Flaky)
	}
	if len(tr.Durations) != 2 || len(tr.Durations[0].X) != 3 {
		t.Errorf("durations %+v", tr.Durations)
	}

	// A failure that goes on over a change of commit is no flake.
	runs[2].Versions.Git = runs[1].Versions.Git
	failSpec(runs[2], "arm64", 1)
	tr = BuildTrend(runs)
	for _, s := range tr.Specs {
		if s.Target == "arm64" && (s.Flips != 1 || s.FailingSince != "20261202T000000Z") {
			t.Errorf("arm64's spec, failing since the second run: %+v", s)
		}
	}
}

func TestRunsAreReadFromAHistoryOrAFolderOfCopies(t *testing.T) {
	runs, _, _, _ := history(t)
	dir := t.TempDir()
	// One as the history keeps it, one as a CI artifact folder holds it.
	if err := runs[0].WriteJSON(filepath.Join(dir, runs[0].RunID+".json")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "ci-123"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := runs[1].WriteJSON(filepath.Join(dir, "ci-123", RunFile)); err != nil {
		t.Fatal(err)
	}
	if err := runs[2].WriteJSON(filepath.Join(dir, "current.json")); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRuns(dir, runs[2].RunID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RunID != runs[0].RunID || got[1].RunID != runs[1].RunID {
		t.Errorf("read %d runs", len(got))
	}
	if got, _ := ReadRuns(dir, "", 1); len(got) != 1 || got[0].RunID != runs[2].RunID {
		t.Errorf("the newest one alone: %v", got)
	}
}

func TestThePageShowsTheHistory(t *testing.T) {
	runs, flaky, broken, fixed := history(t)
	dir := t.TempDir()
	if err := writeRunPage(dir, runs[2], BuildTrend(runs)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(b), `<h2 id="history">History</h2>`, "<b>1 flaky</b>", flaky, broken,
		"failing since 20261203T000000Z (v1-1-gdef)", "<b>flaky</b>, 1 flip(s)", "the suites&#39; time, run by run",
		fixed, "fixed in 20261203T000000Z (v1-1-gdef)")
}
