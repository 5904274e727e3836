package report

import (
	"fmt"
	"io"
	"strings"
)

// PrintProblems writes, a line each, why the run is not a pass: every
// target whose verdict is not PASS with its first reason, then every
// failed spec with where it failed and the first line of its message, at
// most max spec lines. CI logs often keep only a run's last lines, so
// make test prints this just before the verdict (docs/testing.md, "Reading
// a failed run").
func (r *RunReport) PrintProblems(w io.Writer, max int) {
	if r.Verdict == Pass {
		return
	}
	fmt.Fprintln(w, "what failed:")
	for _, t := range r.Targets {
		if t.Verdict == Pass {
			continue
		}
		reason := "no reason recorded"
		if len(t.Reasons) > 0 {
			reason = short(t.Reasons[0])
		}
		fmt.Fprintf(w, "  %s %s: %s\n", t.Name, t.Verdict, reason)
	}
	fails := r.Failures()
	for i, f := range fails {
		if i == max {
			fmt.Fprintf(w, "  … and %d more failed spec(s): see the page\n", len(fails)-max)
			break
		}
		s := f.Spec
		where, msg := s.Location, ""
		if s.Failure != nil {
			if s.Failure.Location != "" {
				where = s.Failure.Location
			}
			msg = short(s.Failure.Message)
		}
		name := strings.TrimPrefix(s.Container+" › "+s.Text, " › ")
		fmt.Fprintf(w, "  %s %s: %s (%s): %s\n", Column(f.Target, s.Variant), s.Family, name, where, msg)
	}
}

// short is s's first line, cut to 200 bytes.
func short(s string) string {
	s = firstLine(s)
	if len(s) > 200 {
		s = s[:200] + " …"
	}
	return s
}

// PrintRequirements writes a line of how many of the specification's
// requirements the run's specs verified, and which no spec verifies.
func (r *RunReport) PrintRequirements(w io.Writer) {
	s := r.Requirements
	if s == nil {
		return
	}
	fmt.Fprintf(w, "requirements: %d of %d sections of %s verified, %d failing, %d not run, %d not verified by any spec",
		s.Verified, s.Total, s.Doc, s.Failing, s.NotRun, s.NotVerified)
	if len(s.NotVerifiedIDs) > 0 {
		fmt.Fprintf(w, " (§%s)", strings.Join(s.NotVerifiedIDs, ", §"))
	}
	fmt.Fprintln(w)
}
