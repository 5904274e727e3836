package main

import (
	"context"
	"fmt"

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
		f, out, e := pipeline.RunLAVA(ctx, c)
		v, why := report.DecideLAVA(e)
		where := ""
		if out != nil {
			where = fmt.Sprintf("; job %s, log %s", f.QEMUJob, out.Log)
		}
		w := inv.stdout
		if v != report.Pass {
			w = inv.stderr
		}
		fmt.Fprintf(w, "rig lava-test %s: %s: %s%s\n", b.Name, v, why, where)
		code = max(code, v.ExitCode())
	}
	return code
}
