package pipeline

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kbus-project/kbus/rig/report"
)

// Outcome is the result of a run.
type Outcome struct {
	Name      string // the report folder's name: the target, or a machine of a topology
	Role      string // the machine's role in a topology
	Flavour   string
	Verdict   report.Verdict
	Reasons   []string // why the verdict is not Pass
	Summary   report.Summary
	Splats    []report.Splat
	Stages    []report.Stage
	ReportDir string
	Cmdline   string        // the QEMU command line
	Boot      time.Duration // kernel start to init, as the guest saw it
	Total     time.Duration
	Bench     string // the benchmark's figures, in bench mode
}

// Print writes the run's summary for a person.
func (o *Outcome) Print(w io.Writer) {
	s := o.Summary
	if o.Bench != "" {
		fmt.Fprintf(w, "\n%s", o.Bench)
	}
	name := o.Name
	if o.Role != "" {
		name += " (" + o.Role + ")"
	}
	fmt.Fprintf(w, "\n== KBUS rig %s: %s ==\n", name, o.Verdict)
	fmt.Fprintf(w, "specs: %d run, %d passed, %d failed, %d skipped, in %v\n",
		s.Run, s.Passed, s.Failed, s.Skipped, s.Duration.Round(time.Millisecond))
	if len(s.ByLabel) > 1 {
		var parts []string
		for _, l := range s.Labels() {
			c := s.ByLabel[l]
			name := l
			if name == "" {
				name = "(no label)"
			}
			parts = append(parts, fmt.Sprintf("%s %d/%d", name, c.Passed, c.Passed+c.Failed))
		}
		fmt.Fprintf(w, "by label (passed/run): %s\n", strings.Join(parts, ", "))
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAILED %s\n", f)
	}
	for i, sp := range o.Splats {
		if i == 10 {
			fmt.Fprintf(w, "... %d more splat line(s) in the report\n", len(o.Splats)-i)
			break
		}
		fmt.Fprintf(w, "SPLAT %s:%d: %s\n", sp.Source, sp.Line, sp.Text)
	}
	for _, r := range o.Reasons {
		fmt.Fprintf(w, "%s: %s\n", o.Verdict, r)
	}
	var stages []string
	for _, st := range o.Stages {
		stages = append(stages, fmt.Sprintf("%s %v", st.Name, st.Duration.Round(time.Millisecond)))
	}
	fmt.Fprintf(w, "stages: %s; total %v\n", strings.Join(stages, ", "), o.Total.Round(time.Millisecond))
	if o.Cmdline != "" {
		fmt.Fprintf(w, "rerun the guest: %s\n", o.Cmdline)
	}
	if _, err := os.Stat(o.ReportDir); err != nil {
		return
	}
	fmt.Fprintf(w, "reports: %s/{%s,%s,%s,%s,%s}\n", o.ReportDir,
		report.HTMLFile, report.JUnitFile, report.JSONFile, report.SerialFile, report.DmesgFile)
}

// PrintTable writes one line per run: the summary of several.
func PrintTable(w io.Writer, outs []*Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tverdict\tspecs run\tpassed\tfailed\tskipped\tboot\ttotal")
	for _, o := range outs {
		s := o.Summary
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%v\t%v\n", o.Name, o.Verdict, s.Run, s.Passed, s.Failed, s.Skipped,
			o.Boot.Round(10*time.Millisecond), o.Total.Round(time.Second))
	}
	tw.Flush()
}
