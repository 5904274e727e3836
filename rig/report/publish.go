package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Publish gathers a run's targets into its page: out/reports/index.html,
// out/reports/report.json, and a copy of the latter in the history.
type Publish struct {
	ReportsDir string // where the targets' folders are
	HistoryDir string
	// TrendDir is where the page's history view reads earlier runs from
	// (rig report -history: runs copied from CI); empty means HistoryDir.
	TrendDir string
	RunID    string
	// Baseline is a run report to compare with, e.g. one downloaded from
	// CI; empty means the newest other run in the history.
	Baseline string
	Root     string // the repository
	// Versions records what the run tested and with what (the pipeline's
	// Provenance); nil records nothing.
	Versions func(ctx context.Context, qemuBinaries []string) Versions
	// ProfileLog is the stages make test timed (scripts/timed.sh); a
	// missing file means no profile.
	ProfileLog string
}

// Write writes the run's page, summary and history entry and returns the
// run.
func (p Publish) Write(ctx context.Context) (*RunReport, error) {
	targets, err := ReadTargets(p.ReportsDir, p.RunID)
	if err != nil {
		return nil, err
	}
	var qemus []string
	for _, t := range targets {
		qemus = append(qemus, t.QEMU)
	}
	var v Versions
	if p.Versions != nil {
		v = p.Versions(ctx, qemus)
	}
	run := NewRun(p.RunID, v, targets)
	if p.ProfileLog != "" {
		if err := run.AddProfile(p.ProfileLog); err != nil {
			return nil, err
		}
	}
	hist := History{Dir: p.HistoryDir}
	var base *RunReport
	if p.Baseline != "" {
		if base, err = ReadRun(p.Baseline); err != nil {
			return nil, fmt.Errorf("the baseline: %w", err)
		}
	} else if base, err = hist.Latest(p.RunID); err != nil && !errors.Is(err, ErrNoBaseline) {
		return nil, err
	}
	if base != nil {
		run.Compare(base)
	}
	from := p.TrendDir
	if from == "" {
		from = p.HistoryDir
	}
	earlier, err := ReadRuns(from, p.RunID, TrendDepth-1)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	trend := BuildTrend(append(earlier, run))
	// A run that failed before its first guest still gets its page.
	if err := os.MkdirAll(p.ReportsDir, 0o755); err != nil {
		return nil, err
	}
	if err := writeRunPage(p.ReportsDir, run, trend); err != nil {
		return nil, err
	}
	if err := run.WriteJSON(filepath.Join(p.ReportsDir, RunFile)); err != nil {
		return nil, err
	}
	return run, hist.Record(run)
}
