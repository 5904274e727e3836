package main

import (
	"context"
	"fmt"

	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

// eachBoard runs do for each board the invocation names, with the
// pipeline's configuration for it, and returns the worst exit status.
func eachBoard(inv *invocation, do func(cfg pipeline.Config, b target.Board) int) int {
	cfg, ok := inv.config()
	if !ok {
		return report.Infra.ExitCode()
	}
	code := 0
	for _, b := range inv.opts.boards {
		c := cfg
		c.Board = &b
		code = max(code, do(c, b))
	}
	return code
}

// runImage is rig image: each board's disk image, its block map, checksum
// and manifest under out/images/BOARD.
func runImage(ctx context.Context, inv *invocation) int {
	return eachBoard(inv, func(cfg pipeline.Config, b target.Board) int {
		res, err := pipeline.BuildImage(ctx, cfg)
		if err != nil {
			fmt.Fprintf(inv.stderr, "rig image %s: %v\n", b.Name, err)
			return report.Infra.ExitCode()
		}
		fmt.Fprintf(inv.stdout, "%s: %s\n  sha256 %s\n  bmap %s\n  manifest %s\n", b.Name, res.Image, res.Sum, res.Bmap, res.Manifest)
		return 0
	})
}

// runLAVAJobs is rig lava-jobs: each board's LAVA jobs.
func runLAVAJobs(ctx context.Context, inv *invocation) int {
	return eachBoard(inv, func(cfg pipeline.Config, b target.Board) int {
		f, err := pipeline.WriteLAVAJobs(ctx, cfg)
		if err != nil {
			fmt.Fprintf(inv.stderr, "rig lava-jobs %s: %v\n", b.Name, err)
			return report.Infra.ExitCode()
		}
		fmt.Fprintf(inv.stdout, "%s: %s, %s %s\n", b.Name, f.QEMUJob, f.Device, f.BoardJob)
		return 0
	})
}

// runLAVATest is rig lava-test: each board's QEMU job through lava-run,
// and LAVA's record of it checked against the board's last image test
// (report.DecideLAVA).
func runLAVATest(ctx context.Context, inv *invocation) int {
	return eachBoard(inv, func(cfg pipeline.Config, b target.Board) int {
		f, rec, e := pipeline.RunLAVA(ctx, cfg)
		v, why := report.DecideLAVA(e)
		where := ""
		if rec != nil {
			where = fmt.Sprintf("; job %s, log %s", f.QEMUJob, rec.Log)
		}
		w := inv.stdout
		if v != report.Pass {
			w = inv.stderr
		}
		fmt.Fprintf(w, "rig lava-test %s: %s: %s%s\n", b.Name, v, why, where)
		return v.ExitCode()
	})
}
