package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbus-project/kbus/internal/version"
	"github.com/kbus-project/kbus/rig/accept"
	"github.com/kbus-project/kbus/rig/flash"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

// runFlash is rig flash: an image onto an SD card or USB disk, refusing
// anything that could be the wrong disk (rig/flash).
func runFlash(ctx context.Context, inv *invocation) int {
	if len(inv.args) != 2 {
		fmt.Fprintf(inv.stderr, "usage: %s (\"rig flash -h\" says more)\n", inv.cmd.usageLine())
		return usageExit
	}
	img, dev := inv.args[0], inv.args[1]
	fmt.Fprintf(inv.stdout, "rig flash: %s -> %s\n", img, dev)
	rep, err := flash.Flash(ctx, flash.Options{Image: img, Device: dev, Force: inv.opts.force, MaxSize: inv.opts.maxSize,
		Progress: inv.stderr})
	if err != nil {
		fmt.Fprintf(inv.stderr, "rig flash: %v\n", err)
		if errors.Is(err, flash.ErrRefused) {
			fmt.Fprintln(inv.stderr, "rig flash: nothing was written")
			return 1
		}
		return report.Infra.ExitCode()
	}
	d := rep.Disk
	fmt.Fprintf(inv.stdout, "rig flash: wrote %d bytes in %d mapped ranges to %s (%s, %d bytes), synced, read back and verified in %v\n",
		rep.Written, rep.Ranges, d.Path, d.Name, d.Size, rep.Duration.Round(time.Millisecond))
	return 0
}

// runReport is rig report: the run's page again, e.g. against another
// baseline. Its exit status is the run's verdict.
func runReport(ctx context.Context, inv *invocation) int {
	o := inv.opts
	if o.publish.RunID == "" {
		last, err := report.ReadRun(filepath.Join(o.out, "reports", report.RunFile))
		if err != nil {
			fmt.Fprintf(inv.stderr, "rig report: no -run-id and no latest run: %v\n", err)
			return usageExit
		}
		o.publish.RunID = last.RunID
	}
	if err := o.finishPublish(); err != nil {
		fmt.Fprintln(inv.stderr, "rig report:", err)
		return usageExit
	}
	run, err := o.publish.Write(ctx)
	if err != nil {
		fmt.Fprintln(inv.stderr, "rig report:", err)
		return report.Infra.ExitCode()
	}
	page := filepath.Join(o.publish.ReportsDir, report.HTMLFile)
	if run.Profile != nil {
		fmt.Fprintln(inv.stdout)
		run.Profile.Print(inv.stdout)
		fmt.Fprintln(inv.stdout)
	}
	run.PrintRequirements(inv.stdout)
	run.PrintProblems(inv.stdout, 20)
	fmt.Fprintf(inv.stdout, "run %s: %s: %s\n", run.RunID, run.Verdict, page)
	if o.screenshot != "" {
		if err := report.Screenshot(ctx, page, o.screenshot); err != nil {
			fmt.Fprintln(inv.stderr, "rig report:", err)
			return report.Infra.ExitCode()
		}
	}
	if o.pdf != "" {
		if err := report.PDF(ctx, page, o.pdf); err != nil {
			fmt.Fprintln(inv.stderr, "rig report:", err)
			return report.Infra.ExitCode()
		}
		fmt.Fprintf(inv.stdout, "rig report: printed the page to %s\n", o.pdf)
	}
	return run.Verdict.ExitCode()
}

// runTarget is rig target: the target table, for people and scripts.
func runTarget(_ context.Context, inv *invocation) int {
	args, stdout, stderr := inv.args, inv.stdout, inv.stderr
	switch {
	case len(args) == 1 && args[0] == "list":
		for _, n := range target.Names() {
			t := target.MustLookup(n)
			fmt.Fprintf(stdout, "%-8s kernel ARCH=%s %s, Go %s, %s %s, console %s, budget %v\n", t.Name,
				t.Kernel.Arch, t.Kernel.MakeTarget, t.Go, t.QEMU.Binary, strings.Join(t.QEMU.Machine, " "),
				t.QEMU.Console, t.Timeout)
		}
		for _, n := range target.BoardNames() {
			b, _ := target.LookupBoard(n)
			fmt.Fprintf(stdout, "board %-10s %s kernel, %s boot from %s, console %s: %s\n", b.Name, b.Arch,
				b.Loader.Kind, b.Loader.Package, b.Console, b.Summary)
			if b.Note != "" {
				fmt.Fprintf(stdout, "      %-10s note: %s\n", "", b.Note)
			}
		}
		return 0
	case len(args) >= 2 && len(args) <= 4 && args[0] == "env":
		t, err := target.Lookup(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "rig target env:", err)
			return usageExit
		}
		flavour, kver := target.DefaultFlavour, target.DefaultVersion
		if len(args) >= 3 {
			flavour = args[2]
		}
		if len(args) == 4 {
			kver = args[3]
		}
		f, err := target.LookupFlavour(flavour)
		if err != nil {
			fmt.Fprintln(stderr, "rig target env:", err)
			return usageExit
		}
		v, err := target.LookupVersion(kver)
		if err != nil {
			fmt.Fprintln(stderr, "rig target env:", err)
			return usageExit
		}
		fmt.Fprint(stdout, t.ShellEnv(f, v))
		return 0
	}
	fmt.Fprintf(stderr, "usage: %s\n", inv.cmd.usageLine())
	return usageExit
}

// runVersion is rig version (and rig --version).
func runVersion(_ context.Context, inv *invocation) int {
	fmt.Fprintf(inv.stdout, "rig %s\n", version.String())
	return 0
}

// runAccept is rig accept: a run's sign-off, or its check (rig/accept).
func runAccept(ctx context.Context, inv *invocation) int {
	a := inv.opts.acceptance
	dir := filepath.Dir(a.report)
	if a.verify {
		rec, err := accept.Verify(ctx, dir, a.allowedSigners)
		if err != nil {
			fmt.Fprintln(inv.stderr, "rig accept -verify:", err)
			return 1
		}
		fmt.Fprintf(inv.stdout, "rig accept: run %s (%s, %s): %s; signature good\n", rec.RunID, rec.Git, rec.Verdict,
			rec.Summary())
		return 0
	}
	b, err := os.ReadFile(a.report)
	if err != nil {
		fmt.Fprintln(inv.stderr, "rig accept:", err)
		return usageExit
	}
	run, err := report.ReadRun(a.report)
	if err != nil {
		fmt.Fprintln(inv.stderr, "rig accept:", err)
		return usageExit
	}
	var waivers []accept.WaiverArg
	for _, w := range a.waivers {
		arg, _ := accept.ParseWaiver(w) // vetted
		waivers = append(waivers, arg)
	}
	rec, err := accept.New(run.Subject(), filepath.Base(a.report), b, a.by, a.notes, waivers, time.Now())
	if err != nil {
		fmt.Fprintf(inv.stderr, "rig accept: run %s (%s) not signed: %v\n", run.RunID, run.Verdict, err)
		return 1
	}
	if err := accept.Sign(ctx, rec, dir, a.key); err != nil {
		fmt.Fprintln(inv.stderr, "rig accept:", err)
		return 1
	}
	// out/reports beside out/history: the page keeps its history view.
	if err := report.WriteRunPage(dir, run, filepath.Join(filepath.Dir(dir), "history")); err != nil {
		fmt.Fprintln(inv.stderr, "rig accept: the run's page:", err)
		return report.Infra.ExitCode()
	}
	fmt.Fprintf(inv.stdout, "rig accept: run %s: %s; wrote %s and %s\n", run.RunID, rec.Summary(),
		filepath.Join(dir, accept.File), filepath.Join(dir, accept.SigFile))
	return 0
}
