package report

import (
	"strings"
	"testing"
)

func TestARepeatedSuitesSpecsGetTheirPassRate(t *testing.T) {
	// The device suite run twice, as a repeated suite's joined reports
	// hold it: every spec twice.
	twice := target(t, "x86_64", recorded(t, "device", "device"), "")
	once := target(t, "x86_64", recorded(t, "device"), "")
	if len(twice.Specs) != len(once.Specs) || twice.Counts != once.Counts {
		t.Fatalf("twice: %d specs %+v; once: %d specs %+v", len(twice.Specs), twice.Counts, len(once.Specs), once.Counts)
	}
	for _, s := range twice.Specs {
		if s.State == "passed" && (s.Runs != 2 || s.Passes != 2 || s.Flaky()) {
			t.Errorf("%s: %d of %d runs passed, flaky %v", s.Text, s.Passes, s.Runs, s.Flaky())
		}
	}
	for _, s := range once.Specs {
		if s.Runs != 0 {
			t.Errorf("a spec of a suite run once has runs counted: %+v", s)
		}
	}

	pass := SpecResult{Suite: "core", Family: "core", Container: "C", Text: "t", Location: "x_test.go:1", State: "passed"}
	fail := pass
	fail.State, fail.Failure = "failed", &FailureDetail{Message: "broke on the second run"}
	got, repeated := mergeRuns([]SpecResult{pass, fail, pass, pass})
	if !repeated || len(got) != 1 {
		t.Fatalf("merged %+v", got)
	}
	m := got[0]
	if !m.Failed() || m.Runs != 4 || m.Passes != 3 || !m.Flaky() || m.Failure.Message != "broke on the second run" ||
		m.rate() != " 3/4" {
		t.Errorf("a spec that failed once in four: %+v", m)
	}
	retried := pass
	retried.Attempts = 2
	if !retried.Flaky() {
		t.Error("a spec passed on its second attempt is not a plain pass")
	}
}

func TestThePageShowsAPassRateAndAFlake(t *testing.T) {
	r := greenRun(t)
	specs := r.Targets[0].Specs
	specs[0].Runs, specs[0].Passes = 5, 5
	specs[1].Attempts = 3
	_, page := render(t, r)
	mustContain(t, page, ">✓ 5/5<", `class="flaky c" title="flaky: passed on attempt 3">⚠<`)
	if strings.Count(page, "⚠") != 1 {
		t.Errorf("one flaky cell, found %d", strings.Count(page, "⚠"))
	}
}
