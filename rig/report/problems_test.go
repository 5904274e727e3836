package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrintProblemsNamesEveryFailureBeforeTheVerdict(t *testing.T) {
	failed := SpecResult{Family: "core", Container: "Requests › When the replier dies", Text: "gives GoneAway",
		Location: "specs/core/x_test.go:10", State: "failed",
		Failure: &FailureDetail{Message: "Expected\n  <int>: 1\nto equal 2", Location: "specs/core/x_test.go:12"}}
	run := &RunReport{Verdict: Fail, Targets: []*TargetReport{
		{TargetMeta: TargetMeta{Name: "x86_64", Verdict: Pass}, Specs: []SpecResult{{Family: "core", State: "passed"}}},
		{TargetMeta: TargetMeta{Name: "qemu-arm64", Verdict: Fail, Reasons: []string{"1 spec(s) failed"}},
			Specs: []SpecResult{failed, failed}},
		{TargetMeta: TargetMeta{Name: "arm", Verdict: Infra, Reasons: []string{"boot: QEMU exited\nmore"}}},
	}}
	var b bytes.Buffer
	run.PrintProblems(&b, 1)
	out := b.String()
	for _, want := range []string{
		"what failed:\n",
		"  qemu-arm64 FAIL: 1 spec(s) failed\n",
		"  arm INFRASTRUCTURE ERROR: boot: QEMU exited …\n",
		"  qemu-arm64 core: Requests › When the replier dies › gives GoneAway (specs/core/x_test.go:12): Expected …\n",
		"  … and 1 more failed spec(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "x86_64") {
		t.Errorf("a passing target is listed:\n%s", out)
	}

	b.Reset()
	(&RunReport{Verdict: Pass}).PrintProblems(&b, 20)
	if b.Len() != 0 {
		t.Errorf("a passing run prints %q", b.String())
	}
}
