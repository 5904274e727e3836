package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/report"
)

// config is the invocation's pipeline configuration; a failure to make it
// (a -distro kernel that cannot be read) is an infrastructure error.
func (inv *invocation) config() (pipeline.Config, bool) {
	cfg, err := inv.opts.guestConfig(inv.cmd)
	if err != nil {
		fmt.Fprintf(inv.stderr, "rig %s: %v\n", inv.cmd.Name, err)
		return cfg, false
	}
	cfg.Log = inv.stderr
	return cfg, true
}

// runTest is rig test: each -arch, each -board, or the pair topology.
func runTest(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	o := inv.opts
	var outcomes []*pipeline.Outcome
	switch {
	case len(o.boards) > 0:
		for _, b := range o.boards {
			c := cfg
			c.Board = &b
			outcomes = append(outcomes, pipeline.RunBoard(ctx, c))
			outcomes[len(outcomes)-1].Print(inv.stdout)
		}
	case o.topology == "pair":
		outcomes = pipeline.RunPair(ctx, cfg)
		for _, out := range outcomes {
			out.Print(inv.stdout)
		}
	default:
		outcomes = runTargets(ctx, inv, cfg)
	}
	return finishGuests(ctx, inv, outcomes)
}

// runBench is rig bench: each -arch's guest runs the benchmark.
func runBench(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	return finishGuests(ctx, inv, runTargets(ctx, inv, cfg))
}

// runTargets boots each target in turn.
func runTargets(ctx context.Context, inv *invocation, cfg pipeline.Config) []*pipeline.Outcome {
	var outcomes []*pipeline.Outcome
	for _, t := range inv.opts.targets {
		c := cfg
		c.Target = t
		out := pipeline.Run(ctx, c)
		out.Print(inv.stdout)
		outcomes = append(outcomes, out)
	}
	return outcomes
}

// runShell is rig shell.
func runShell(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	cfg.Target = inv.opts.targets[0]
	if err := pipeline.Shell(ctx, cfg); err != nil {
		fmt.Fprintln(inv.stderr, "rig shell:", err)
		return report.Infra.ExitCode()
	}
	return 0
}

// runBoardTest is rig board-test: a real board on the desk.
func runBoardTest(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	cfg.Board = &inv.opts.boards[0]
	out := pipeline.RunDeskBoard(ctx, cfg, inv.opts.desk)
	out.Print(inv.stdout)
	return finishGuests(ctx, inv, []*pipeline.Outcome{out})
}

// finishGuests prints the table of several outcomes, writes the run's page
// and returns the worst verdict's exit status.
func finishGuests(ctx context.Context, inv *invocation, outcomes []*pipeline.Outcome) int {
	worst := report.Pass
	for _, out := range outcomes {
		worst = max(worst, out.Verdict)
	}
	if len(outcomes) > 1 {
		fmt.Fprintln(inv.stdout)
		pipeline.PrintTable(inv.stdout, outcomes)
	}
	if err := publish(ctx, inv.opts.publish, inv.stdout); err != nil {
		fmt.Fprintln(inv.stderr, "rig: the run's page:", err)
		worst = max(worst, report.Infra)
	}
	return worst.ExitCode()
}

// publish writes the run's page over every target of the run so far.
func publish(ctx context.Context, p report.Publish, stdout io.Writer) error {
	run, err := p.Write(ctx)
	if err != nil {
		return err
	}
	c := run.Counts()
	fmt.Fprintf(stdout, "run %s: %s, %d target(s), %d specs run, %d failed: %s\n", run.RunID, run.Verdict,
		len(run.Targets), c.Run, c.Failed, filepath.Join(p.ReportsDir, report.HTMLFile))
	return nil
}
