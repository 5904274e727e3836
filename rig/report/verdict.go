package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
)

// Verdict is the outcome class of a run; its value is the runner's exit
// status.
type Verdict int

// Verdicts, in the order the exit codes use them: a worse verdict is a
// larger number.
const (
	Pass  Verdict = iota // every spec passed, no splat, the module unloaded
	Fail                 // specs failed, no spec ran, or the kernel splatted
	Infra                // the rig could not build, boot or hear from the guest
)

// ExitCode maps a verdict to the runner's exit status.
func (v Verdict) ExitCode() int { return int(v) }

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	default:
		return "INFRASTRUCTURE ERROR"
	}
}

// Stage is one timed step of a run.
type Stage struct {
	Name     string
	Duration time.Duration
	Note     string // e.g. "cached"
}

// Evidence is everything a run's verdict is decided from.
type Evidence struct {
	// RigErr is a failure of the rig itself: a build that failed, QEMU
	// that could not start or was killed at the timeout.
	RigErr error
	Mode   guestproto.Mode
	// Status is the guest's status file, nil when StatusErr says why not.
	Status    *guestproto.Status
	StatusErr error
	// Unreported names the suites that exited without writing a report.
	Unreported []string
	Summary    Summary
	Splats     []Splat
}

// Decide returns the verdict of a run and, unless it is Pass, the reasons,
// most important first: the infrastructure error, then what failed.
func Decide(e Evidence) (Verdict, []string) {
	var reasons []string
	add := func(format string, a ...any) { reasons = append(reasons, fmt.Sprintf(format, a...)) }

	st := e.Status
	unreported := map[string]bool{}
	for _, n := range e.Unreported {
		unreported[n] = true
	}
	if st != nil {
		for _, s := range st.Suites {
			switch {
			case e.Mode == guestproto.ModeBench && s.ExitCode != 0:
				add("the benchmark exited %d %s", s.ExitCode, s.Error)
			case e.Mode == guestproto.ModeBench:
			case unreported[s.Name]:
				add("suite %s exited %d without a report %s", s.Name, s.ExitCode, strings.TrimSpace(s.Error))
			case s.Error != "":
				add("suite %s: %s", s.Name, s.Error)
			}
		}
	}
	if len(e.Splats) > 0 {
		add("kernel splat: %d line(s) in dmesg/console, first: %s", len(e.Splats), e.Splats[0].Text)
	}
	if e.Summary.Failed > 0 {
		add("%d spec(s) failed", e.Summary.Failed)
	}
	if st != nil && st.Error == "" {
		switch {
		case e.Mode == guestproto.ModeBench && len(st.Suites) == 0:
			add("the benchmark did not run")
		case e.Mode != guestproto.ModeBench && e.Summary.Run == 0:
			add("no spec ran")
		}
	}
	if st != nil && st.Phase == guestproto.PhaseDone && !st.ModuleUnloaded {
		add("kbus.ko could not be unloaded")
	}

	var infra string
	switch {
	case e.RigErr != nil:
		infra = e.RigErr.Error()
	case e.StatusErr != nil:
		infra = e.StatusErr.Error()
	case st == nil:
		infra = guestproto.ErrNoStatus.Error()
	case st.Error != "":
		infra = fmt.Sprintf("guest error in phase %s: %s", st.Phase, st.Error)
	}
	switch {
	case infra != "":
		return Infra, append([]string{infra}, reasons...)
	case len(reasons) > 0:
		return Fail, reasons
	}
	return Pass, nil
}

// LAVAEvidence is what a LAVA job of a board left, set against the
// guest's own reports of the same image.
type LAVAEvidence struct {
	// JobErr says LAVA could not run the job or failed it, or there was
	// no image test to compare with.
	JobErr error
	// Mismatch says LAVA recorded other test cases or results than the
	// guest's reports hold.
	Mismatch error
	// Flipped are the cases whose result in the job's boot differs from
	// the image-test run's (suite/id result, as LAVA has it).
	Flipped []string
	// Cases, Suites and Failed count what LAVA recorded.
	Cases, Suites, Failed int
}

// DecideLAVA returns the verdict of a LAVA job and a line that says why:
// an infrastructure error when the job did not run to its end, a failure
// when LAVA's record differs from the guest's or holds failed specs.
func DecideLAVA(e LAVAEvidence) (Verdict, string) {
	switch {
	case e.JobErr != nil:
		return Infra, e.JobErr.Error()
	case e.Mismatch != nil:
		return Fail, e.Mismatch.Error()
	case e.Failed > 0:
		return Fail, fmt.Sprintf("LAVA recorded every test case the guest signalled, and %d specs failed%s", e.Failed, flips(e.Flipped))
	}
	return Pass, fmt.Sprintf("LAVA recorded %d test cases in %d suites, each the guest signalled%s", e.Cases, e.Suites, flips(e.Flipped))
}

// flips names the cases whose result changed between the image-test run
// and the LAVA job's boot: a spec that is not stable.
func flips(cases []string) string {
	if len(cases) == 0 {
		return ""
	}
	const shown = 3
	list := cases
	if len(list) > shown {
		list = list[:shown]
	}
	more := ""
	if len(cases) > shown {
		more = fmt.Sprintf(" and %d more", len(cases)-shown)
	}
	return fmt.Sprintf("; %d ended otherwise in the image-test run: %s%s", len(cases), strings.Join(list, "; "), more)
}
