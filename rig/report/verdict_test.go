package report

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/guestproto"
)

func done(suites ...guestproto.SuiteResult) *guestproto.Status {
	return &guestproto.Status{Mode: guestproto.ModeTest, Phase: guestproto.PhaseDone, ModuleUnloaded: true, Suites: suites}
}

func TestDecide(t *testing.T) {
	passed := Summary{Run: 3, Passed: 3}
	for _, c := range []struct {
		name    string
		e       Evidence
		want    Verdict
		reasons []string // each a part of the reason at that index
	}{
		{"a clean run", Evidence{Status: done(guestproto.SuiteResult{Name: "core"}), Summary: passed}, Pass, nil},
		{"a failed spec", Evidence{Status: done(), Summary: Summary{Run: 3, Passed: 2, Failed: 1}},
			Fail, []string{"1 spec(s) failed"}},
		{"no spec ran", Evidence{Status: done()}, Fail, []string{"no spec ran"}},
		{"a splat on a green run", Evidence{Status: done(), Summary: passed, Splats: []Splat{{Text: "BUG: KASAN"}}},
			Fail, []string{"kernel splat: 1 line(s)", "BUG: KASAN"}},
		{"the module stayed loaded", Evidence{Status: &guestproto.Status{Phase: guestproto.PhaseDone}, Summary: passed},
			Fail, []string{"could not be unloaded"}},
		{"a suite without a report", Evidence{Status: done(guestproto.SuiteResult{Name: "core", ExitCode: 2}),
			Unreported: []string{"core"}, Summary: passed}, Fail, []string{"suite core exited 2 without a report"}},
		{"a suite killed at the deadline", Evidence{Status: done(guestproto.SuiteResult{Name: "soak", Error: "killed"}),
			Summary: passed}, Fail, []string{"suite soak: killed"}},
		{"a build that failed", Evidence{RigErr: errors.New("kernel build failed")}, Infra, []string{"kernel build failed"}},
		{"a guest that never reported, and splatted", Evidence{StatusErr: fmt.Errorf("x: %w", guestproto.ErrNoStatus),
			Splats: []Splat{{Text: "Kernel panic"}}}, Infra, []string{"guest did not report", "kernel splat"}},
		{"no status and no reason", Evidence{}, Infra, []string{"guest did not report"}},
		{"the guest's own error", Evidence{Status: &guestproto.Status{Phase: "load-module", Error: "EEXIST"}},
			Infra, []string{"guest error in phase load-module: EEXIST"}},
		{"the rig's error comes first", Evidence{RigErr: errors.New("guest timed out"),
			Status: &guestproto.Status{Phase: "specs", Error: "watchdog"}}, Infra, []string{"guest timed out"}},
		{"a benchmark that ran", Evidence{Mode: guestproto.ModeBench, Status: done(guestproto.SuiteResult{Name: "kbusbench"})}, Pass, nil},
		{"a benchmark that failed", Evidence{Mode: guestproto.ModeBench,
			Status: done(guestproto.SuiteResult{Name: "kbusbench", ExitCode: 1})}, Fail, []string{"the benchmark exited 1"}},
		{"a benchmark that did not run", Evidence{Mode: guestproto.ModeBench, Status: done()}, Fail,
			[]string{"the benchmark did not run"}},
	} {
		v, reasons := Decide(c.e)
		if v != c.want || (v == Pass) != (len(reasons) == 0) {
			t.Errorf("%s: %v %q, want %v %q", c.name, v, reasons, c.want, c.reasons)
			continue
		}
		if len(c.reasons) > 0 && !strings.Contains(reasons[0], c.reasons[0]) {
			t.Errorf("%s: the first reason %q does not say %q", c.name, reasons[0], c.reasons[0])
		}
		for _, part := range c.reasons {
			if !strings.Contains(strings.Join(reasons, "\n"), part) {
				t.Errorf("%s: reasons %q do not say %q", c.name, reasons, part)
			}
		}
	}
}

func TestVerdictsOrderByExitCode(t *testing.T) {
	if Pass.ExitCode() != 0 || Fail.ExitCode() != 1 || Infra.ExitCode() != 2 || max(Fail, Infra) != Infra {
		t.Error("exit codes: PASS 0, FAIL 1, INFRASTRUCTURE ERROR 2")
	}
	if Infra.String() != "INFRASTRUCTURE ERROR" {
		t.Error(Infra.String())
	}
}

func TestLAVAVerdicts(t *testing.T) {
	for _, c := range []struct {
		e    LAVAEvidence
		want Verdict
		says string
	}{
		{LAVAEvidence{JobErr: errors.New("lava-run: job timed out"), Mismatch: errors.New("x")}, Infra, "timed out"},
		{LAVAEvidence{Mismatch: errors.New("LAVA recorded 561 test cases, the reports hold 562"), Cases: 561}, Fail, "561"},
		{LAVAEvidence{Cases: 562, Suites: 9, Failed: 2}, Fail, "2 specs failed"},
		{LAVAEvidence{Cases: 562, Suites: 9}, Pass, "562 test cases in 9 suites"},
		{LAVAEvidence{Cases: 562, Suites: 9, Failed: 1, Flipped: []string{"core/a fail"}}, Fail,
			"1 ended otherwise in the image-test run: core/a fail"},
	} {
		v, why := DecideLAVA(c.e)
		if v != c.want || !strings.Contains(why, c.says) {
			t.Errorf("%+v: %v %q, want %v saying %q", c.e, v, why, c.want, c.says)
		}
	}
}
