package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/internal/rigtest"
)

// recorded returns the results a guest left for the recorded suites in
// testdata, as Collect would have read them.
func recorded(t *testing.T, suites ...string) *Results {
	t.Helper()
	res := &Results{Status: &guestproto.Status{Mode: guestproto.ModeTest, Phase: guestproto.PhaseDone, ModuleUnloaded: true}}
	for _, s := range suites {
		reports, err := ReadReports(filepath.Join("testdata", s+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for range reports {
			res.ReportSuites = append(res.ReportSuites, s)
		}
		res.Reports = append(res.Reports, reports...)
		res.Status.Suites = append(res.Status.Suites, guestproto.SuiteResult{Name: s, Duration: reports[0].RunTime})
	}
	if len(suites) > 0 && suites[len(suites)-1] == "failing" {
		// The recorded run's boot time places its dmesg beside the failure.
		b, _ := os.ReadFile(filepath.Join("testdata", "failing-status.json"))
		dir := t.TempDir()
		rigtest.WriteFile(t, filepath.Join(dir, guestproto.StatusFile), string(b))
		recordedStatus, err := guestproto.ReadStatus(dir)
		if err != nil {
			t.Fatal(err)
		}
		res.Status.BootTime = recordedStatus.BootTime
		res.Status.Kernel = recordedStatus.Kernel
	}
	return res
}

// target builds a target's report from recorded results, deciding its
// verdict as the pipeline does.
func target(t *testing.T, name string, res *Results, dmesg string) *TargetReport {
	t.Helper()
	meta := TargetMeta{RunID: "test", Name: name, Target: name, Flavour: "default", Mode: guestproto.ModeTest,
		Rerun: "make qemu-test ARCH=" + name, QEMU: "qemu-system-" + name, Total: time.Minute,
		Kernel: Kernel{ConfigKey: "0123456789abcdef", Source: "linux-source-6.1 6.1.192-3"}}
	if res != nil {
		meta.Verdict, meta.Reasons = Decide(res.Evidence(nil, guestproto.ModeTest))
	}
	return BuildTarget(meta, res, dmesg)
}

func dmesg(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("testdata", "failing-dmesg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func greenRun(t *testing.T) *RunReport {
	return NewRun("green", Versions{Git: "v1-0-gabc"}, []*TargetReport{
		target(t, "x86_64", recorded(t, "device", "industrial"), ""),
		target(t, "arm64", recorded(t, "device", "industrial"), ""),
	})
}

// failingRun fails on arm only: it ran the runner's fixture suite, one of
// whose specs fails on purpose.
func failingRun(t *testing.T) *RunReport {
	return NewRun("failing", Versions{Git: "v1-1-gdef-dirty", Dirty: true}, []*TargetReport{
		target(t, "x86_64", recorded(t, "device", "industrial"), ""),
		target(t, "arm", recorded(t, "device", "failing"), dmesg(t)),
	})
}

func infraRun(t *testing.T) *RunReport {
	hung := target(t, "arm64", nil, "")
	hung.Verdict, hung.Reasons = Decide(Evidence{Status: &guestproto.Status{Phase: "specs",
		Error: `guest watchdog: run exceeded 18m0s in phase "specs"`}})
	return NewRun("infra", Versions{}, []*TargetReport{target(t, "x86_64", recorded(t, "device"), ""), hung})
}

func render(t *testing.T, r *RunReport) (dir, page string) {
	t.Helper()
	dir = t.TempDir()
	for _, tr := range r.Targets {
		if err := os.MkdirAll(filepath.Join(dir, tr.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteTargetPage(filepath.Join(dir, tr.Name), tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteRunPage(dir, r, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, string(b)
}

func mustContain(t *testing.T, page string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(page, p) {
			t.Errorf("the page does not say %q", p)
		}
	}
}

func TestGreenRunPage(t *testing.T) {
	r := greenRun(t)
	if r.Verdict != Pass || r.Counts().Failed != 0 || r.Counts().Run != 2*(8+5) {
		t.Fatalf("verdict %v, counts %+v", r.Verdict, r.Counts())
	}
	_, page := render(t, r)
	mustContain(t, page,
		`class="verdict pass">PASS<`, "2 target(s) · 26 specs run, 26 passed, 0 failed",
		`<th>device</th><th>industrial</th>`, "8/0/0", "5/0/0", "Failures (0)",
		"URGENT shutdown latency, trip to actuator", "<svg", "suite durations",
		`<option>industrial</option>`, "v1-0-gabc")
	if strings.Contains(page, "<script src") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the page is not self-contained")
	}
}

func TestFailureOnOneTargetOnly(t *testing.T) {
	r := failingRun(t)
	r.Compare(greenRun(t))
	if r.Verdict != Fail {
		t.Fatalf("verdict %v", r.Verdict)
	}
	if r.Targets[0].Name != "arm" {
		t.Errorf("targets %s first, want the failing arm first", r.Targets[0].Name)
	}
	_, page := render(t, r)
	mustContain(t, page,
		`class="verdict fail">FAIL<`, "1 failed",
		// the matrix: arm's fixture suite, one passed and one failed
		"1/1/0", "Failures (1)", `<b class="failed-spec">fails on purpose</b>`, "deliberate failure",
		"at failing_test.go:25", "[FAILED] deliberate failure", "In [It] at: github.com/kbus-project/kbus/rig/pipeline/testdata/failing/failing_test.go:25",
		`make qemu-test ARCH=arm FOCUS=&#39;The runner fixture fails on purpose&#39;`,
		`href="arm/suites/failing.log"`, "dmesg around the failure",
		// since last time: the green run had no arm target
		"New targets: arm", "Targets not run this time: arm64", "(uncommitted changes)")
	// The grid: the failing spec has a failing cell for arm and none for x86_64.
	row := regexp.MustCompile(`<tr class="spec failed"[^>]*><td>fails on purpose</td>(.*?)</tr>`).FindStringSubmatch(page)
	if row == nil {
		t.Fatal("no grid row for the failing spec")
	}
	if got := regexp.MustCompile(`class="(\w+) c"`).FindAllStringSubmatch(row[1], -1); len(got) != 2 ||
		got[0][1] != "fail" || got[1][1] != "none" {
		t.Errorf("cells %q, want fail on arm, none on x86_64", got)
	}
	f := r.Failures()[0].Spec.Failure
	if len(f.Dmesg) == 0 || !strings.Contains(strings.Join(f.Dmesg, "\n"), "[") {
		t.Errorf("no dmesg lines around the failure: %q", f.Dmesg)
	}
}

func TestSinceLastTime(t *testing.T) {
	base := failingRun(t)
	now := failingRun(t)
	// The same targets, the failure fixed, a spec slower, a figure moved.
	arm := now.Targets[0]
	for i, s := range arm.Specs {
		if s.Failed() {
			arm.Specs[i].Failure, arm.Specs[i].State = nil, "passed"
		}
	}
	x86 := now.Targets[1]
	x86.Specs[0].Duration = base.Targets[1].Specs[0].Duration*2 + 2*time.Second
	x86.Specs = x86.Specs[1:]
	x86.Figures[0].Values = []float64{1000, 1100, 1200}
	now.Compare(base)
	c := now.Changes
	if len(c.Fixed) != 1 || !strings.Contains(c.Fixed[0].Spec, "fails on purpose") || len(c.NewFailures) != 0 {
		t.Errorf("fixed %v, new failures %v", c.Fixed, c.NewFailures)
	}
	if len(c.Removed) != 1 || len(c.Figures) != 1 || c.Figures[0].Now != 1100 {
		t.Errorf("removed %v, figures %v", c.Removed, c.Figures)
	}
	// A spec only 10 ms slower is noise.
	if len(c.Slower) != 0 {
		t.Errorf("slower %v (the changed spec was removed)", c.Slower)
	}
	_, page := render(t, now)
	mustContain(t, page, "Compared with run failing.", "Fixed", "1 removed spec(s)", "Figures that moved")
}

func TestInfrastructureErrorPage(t *testing.T) {
	r := infraRun(t)
	if r.Verdict != Infra || r.Targets[0].Name != "arm64" {
		t.Fatalf("verdict %v, first %s", r.Verdict, r.Targets[0].Name)
	}
	_, page := render(t, r)
	mustContain(t, page, `class="verdict infrastructure">INFRASTRUCTURE ERROR<`,
		"arm64: INFRASTRUCTURE ERROR", "guest watchdog: run exceeded 18m0s", `href="arm64/serial.log"`)
}

func TestRunReportRoundTripsAndHistoryKeepsTheLatest(t *testing.T) {
	dir := t.TempDir()
	h := History{Dir: filepath.Join(dir, "history")}
	for i := 0; i < HistoryKeep+3; i++ {
		r := failingRun(t)
		r.RunID = time.Date(2026, 12, 1, 0, i, 0, 0, time.UTC).Format("20060102T150405Z")
		if err := h.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(h.Dir, "*.json"))
	if len(runs) != HistoryKeep {
		t.Errorf("%d runs kept, want %d", len(runs), HistoryKeep)
	}
	last, err := h.Latest("20261201T002200Z")
	if err != nil || last.RunID != "20261201T002100Z" || last.Verdict != Fail || len(last.Targets) != 2 {
		t.Fatalf("latest other run: %v, %+v", err, last)
	}
	if _, err := (History{Dir: t.TempDir()}).Latest("x"); err != ErrNoBaseline {
		t.Errorf("empty history: %v", err)
	}
}
