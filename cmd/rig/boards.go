package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/lava"
	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/report"
)

// runImage is rig image: each board's disk image, its block map, checksum
// and manifest under out/images/BOARD.
func runImage(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	code := 0
	for _, b := range inv.opts.boards {
		c := cfg
		c.Board = &b
		res, err := pipeline.BuildImage(ctx, c)
		if err != nil {
			fmt.Fprintf(inv.stderr, "rig image %s: %v\n", b.Name, err)
			code = report.Infra.ExitCode()
			continue
		}
		fmt.Fprintf(inv.stdout, "%s: %s\n  sha256 %s\n  bmap %s\n  manifest %s\n", b.Name, res.Image, res.Sum, res.Bmap, res.Manifest)
	}
	return code
}

// runLAVAJobs is rig lava-jobs: each board's LAVA jobs.
func runLAVAJobs(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	code := 0
	for _, b := range inv.opts.boards {
		c := cfg
		c.Board = &b
		f, err := pipeline.WriteLAVAJobs(ctx, c)
		if err != nil {
			fmt.Fprintf(inv.stderr, "rig lava-jobs %s: %v\n", b.Name, err)
			code = report.Infra.ExitCode()
			continue
		}
		fmt.Fprintf(inv.stdout, "%s: %s, %s %s\n", b.Name, f.QEMUJob, f.Device, f.BoardJob)
	}
	return code
}

// runLAVATest is rig lava-test: each board's QEMU job through lava-run,
// and LAVA's record of it checked against the board's last image test.
func runLAVATest(ctx context.Context, inv *invocation) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	code := 0
	for _, b := range inv.opts.boards {
		c := cfg
		c.Board = &b
		f, out, err := pipeline.RunLAVA(ctx, c)
		switch {
		case errors.Is(err, lava.ErrLAVA) || out == nil:
			fmt.Fprintf(inv.stderr, "rig lava-test %s: INFRASTRUCTURE ERROR: %v\n", b.Name, err)
			code = max(code, report.Infra.ExitCode())
		case err != nil:
			fmt.Fprintf(inv.stderr, "rig lava-test %s: FAIL: %v\n", b.Name, err)
			code = max(code, report.Fail.ExitCode())
		case failedCases(out.Cases) > 0:
			fmt.Fprintf(inv.stderr, "rig lava-test %s: FAIL: LAVA recorded the guest's results faithfully, and %d specs failed (%s)\n",
				b.Name, failedCases(out.Cases), out.Log)
			code = max(code, report.Fail.ExitCode())
		default:
			suites := map[string]bool{}
			for _, c := range out.Cases {
				suites[c.Suite] = true
			}
			fmt.Fprintf(inv.stdout, "rig lava-test %s: PASS: lava-run recorded %d test cases in %d suites, "+
				"each as the guest's reports in %s have it; job %s, log %s\n",
				b.Name, len(out.Cases), len(suites), f.ReportDir, f.QEMUJob, out.Log)
		}
	}
	return code
}

func failedCases(cases []lava.Case) int {
	n := 0
	for _, c := range cases {
		if c.Result == guestproto.LAVAFail {
			n++
		}
	}
	return n
}
