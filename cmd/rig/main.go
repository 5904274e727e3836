// Command rig builds a KBUS guest image, boots it in QEMU and reports on the
// specs it ran.
//
//	rig test  [flags]          build, boot, run the specs, write the report
//	rig bench [flags]          build, boot, run the benchmark, print its figures
//	rig shell [flags]          build, then boot the same image to a guest shell
//	rig report [flags]         write the run's page from its targets' reports
//	rig target list            the targets, kernel flavours and boards
//	rig target env ARCH [FLAVOUR]
//	                           what kernel/build.sh needs, as shell assignments
//	rig image -board B|all     build a board's disk image (out/images/B)
//	rig test -board B|all      boot that image through the board's firmware
//	rig flash IMAGE DEVICE     write an image to an SD card or USB disk, safely
//	rig lava-jobs -board B|all LAVA job definitions for the board (out/lava/B)
//	rig lava-test -board B     run its QEMU job with lava-run, check LAVA's results
//	rig board-test -board B -console DEV [-power-cmd CMD] [-flash CARD]
//	                           a real board on the desk, read over its serial line
//
// With -topology pair, rig test boots two machines at once instead: an
// x86_64 set-top box and an arm64 service box, joined by a QEMU network,
// running the two sides of specs/pair.
//
// Exit status: 0 every spec passed; 1 specs failed, none ran, or the kernel
// splatted; 2 infrastructure error (build failed, guest hung, panicked or
// never reported); 64 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/internal/version"
	"github.com/kbus-project/kbus/rig/flash"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/lava"
	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

const usageExit = 64

const usage = "usage: rig test|bench|shell|report|image [flags] (rig test -h for the flags), rig flash IMAGE DEVICE, rig target list, " +
	"rig target env ARCH [FLAVOUR [KVER]], rig --version"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageExit
	}
	switch args[0] {
	case "test", "bench", "shell", "image", "lava-jobs", "lava-test", "board-test":
		return runGuests(ctx, args[0], args[1:], stdout, stderr)
	case "target":
		return runTarget(args[1:], stdout, stderr)
	case "flash":
		return runFlash(ctx, args[1:], stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], stdout, stderr)
	case "--version", "version":
		fmt.Fprintf(stdout, "rig %s\n", version.String())
		return 0
	}
	fmt.Fprintln(stderr, usage)
	return usageExit
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// options are the flags of rig test, bench and shell.
type options struct {
	arch, flavour, kver, labels, out, root, cache, topology string
	name, focus, distro, distroModule, board                string
	suites, kargs, params                                   listFlag
	publish                                                 report.Publish
	cfg                                                     pipeline.Config
	targets                                                 []target.Target
	boards                                                  []target.Board
	desk                                                    pipeline.DeskBoard
}

// runFlags are the flags that say which run a report belongs to and what
// it is compared with, shared by rig test and rig report.
func runFlags(fs *flag.FlagSet, p *report.Publish, out, root *string) {
	fs.StringVar(out, "out", "out", "folder for build products, reports (out/reports) and their history (out/history)")
	fs.StringVar(root, "root", ".", "the repository")
	fs.StringVar(&p.RunID, "run-id", "", "the run this is part of: one page gathers every target with the same id (default: a new one)")
	fs.StringVar(&p.Baseline, "baseline", "", "a run's report.json to compare with (default: the newest run in the history)")
}

func (o *options) finishPublish() error {
	root, err := filepath.Abs(o.root)
	if err != nil {
		return err
	}
	o.publish.Root = root
	o.publish.ReportsDir = filepath.Join(o.out, "reports")
	o.publish.HistoryDir = filepath.Join(o.out, "history")
	if o.publish.RunID == "" {
		o.publish.RunID = pipeline.NewRunID(time.Now())
	}
	o.publish.ProfileLog = ProfileLog(o.out, o.publish.RunID)
	return nil
}

// ProfileLog is where make test's scripts/timed.sh logs the stages of
// run runID (the Makefile's PROFILE names the same file).
func ProfileLog(out, runID string) string {
	return filepath.Join(out, "profile", runID+".tsv")
}

func parseOptions(verb string, args []string, stderr io.Writer) (*options, bool) {
	o := &options{}
	fs := flag.NewFlagSet("rig "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.arch, "arch", target.Default, "guest architecture: "+strings.Join(target.Names(), ", ")+", or all")
	fs.StringVar(&o.flavour, "kernel", target.DefaultFlavour, "kernel flavour: default or debug")
	fs.StringVar(&o.kver, "kver", target.DefaultVersion, "kernel version: "+strings.Join(target.VersionNames(), " or "))
	fs.StringVar(&o.labels, "labels", "", "Ginkgo label filter for the specs, e.g. 'stb || industrial' (default "+
		fmt.Sprintf("%q", pipeline.DefaultLabels)+")")
	runFlags(fs, &o.publish, &o.out, &o.root)
	fs.StringVar(&o.name, "name", "", "the report folder's name (default ARCH, or ARCH-FLAVOUR for a flavour other than the default)")
	fs.StringVar(&o.focus, "focus", "", "run only the specs whose full text matches this regular expression")
	fs.StringVar(&o.distro, "distro", "", "boot this distribution kernel instead of building one: its image package unpacked (x86_64 only; with -distro-module)")
	fs.StringVar(&o.distroModule, "distro-module", "", "kbus.ko built for the -distro kernel (by DKMS)")
	home, _ := os.UserHomeDir()
	fs.StringVar(&o.cache, "cache", filepath.Join(home, ".cache", "kbus-rig"), "cache for kernels and u-root bases")
	timeout := fs.Duration("timeout", 0, "hard limit for the guest (default: per architecture and kernel flavour)")
	fs.StringVar(&o.topology, "topology", "single", "single: one guest per architecture; pair: two guests joined by a network (test only)")
	fs.Var(&o.suites, "suite", "spec package to run, relative to the repository (repeatable; default: all of specs/)")
	fs.Var(&o.params, "module-param", "kbus.ko parameter NAME=VALUE, e.g. kbus_num_devices=3 (repeatable)")
	fs.Var(&o.kargs, "kernel-arg", "extra guest kernel argument, after the rig's own (repeatable)")
	fs.StringVar(&o.board, "board", "", "a board profile ("+strings.Join(target.BoardNames(), ", ")+
		", or all): rig image builds its disk image, rig test boots that image through the board's firmware")
	flood := fs.Bool("printk-flood", false, "the guest floods the kernel log while it prints its console signals "+
		"(proves that none is lost; docs/boards.md)")
	image := fs.String("image", "", "with rig test -board: boot this image of the board instead of building one")
	if verb == "board-test" {
		fs.StringVar(&o.desk.Console, "console", "", "the board's serial console, e.g. /dev/ttyUSB0 (required)")
		fs.IntVar(&o.desk.Baud, "baud", 0, "the console's baud (default: the board profile's)")
		fs.StringVar(&o.desk.PowerCmd, "power-cmd", "", "shell command that power-cycles the board (USB relay, SD mux, "+
			"'labgrid-client power cycle'); default: you are asked to")
		fs.StringVar(&o.desk.Flash, "flash", "", "write the image to this card first (rig flash's checks apply)")
		fs.BoolVar(&o.desk.Force, "force", false, "with -flash: rig flash --force")
		fs.DurationVar(&o.desk.Silent, "silent", 2*time.Minute, "how long the board may say nothing after power-on")
	}
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	boardVerb := verb == "image" || verb == "lava-jobs" || verb == "lava-test" || verb == "board-test"
	if verb == "board-test" && (o.desk.Console == "" || o.board == "all") {
		fmt.Fprintln(stderr, "rig board-test: -board B and -console DEVICE are required (one board at a time)")
		return nil, false
	}
	if boardVerb && o.board == "" {
		fmt.Fprintf(stderr, "rig %s: -board is required (%s, or all)\n", verb, strings.Join(target.BoardNames(), ", "))
		return nil, false
	}
	if o.board != "" {
		var clash []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "arch", "kver", "kernel", "distro", "distro-module", "topology", "name":
				clash = append(clash, "-"+f.Name)
			}
		})
		if len(clash) > 0 || (verb != "test" && !boardVerb) {
			fmt.Fprintf(stderr, "rig %s: -board goes with rig image and rig test, without %s: the board names its kernel\n",
				verb, strings.Join(clash, ", "))
			return nil, false
		}
		names := []string{o.board}
		if o.board == "all" {
			names = target.BoardNames()
		}
		for _, n := range names {
			b, err := target.LookupBoard(n)
			if err != nil {
				fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
				return nil, false
			}
			o.boards = append(o.boards, b)
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rig %s: unexpected argument %q\n", verb, fs.Arg(0))
		return nil, false
	}
	if o.topology != "single" && (o.topology != "pair" || verb != "test") {
		fmt.Fprintf(stderr, "rig %s: unknown topology %q (single; pair with rig test)\n", verb, o.topology)
		return nil, false
	}
	if o.topology == "pair" {
		// The pair's machines, suites and labels are the topology's own.
		var clash []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "arch" || f.Name == "suite" || (f.Name == "labels" && f.Value.String() != "") {
				clash = append(clash, "-"+f.Name)
			}
		})
		if len(clash) > 0 {
			fmt.Fprintf(stderr, "rig test: -topology pair runs an x86_64 and an arm64 guest on specs/pair; %s cannot be given with it\n",
				strings.Join(clash, ", "))
			return nil, false
		}
	}
	flavour, err := target.LookupFlavour(o.flavour)
	if err != nil {
		fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
		return nil, false
	}
	version, err := target.LookupVersion(o.kver)
	if err != nil {
		fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
		return nil, false
	}
	names := []string{o.arch}
	if o.arch == "all" {
		names = target.Names()
	}
	for _, n := range names {
		t, err := target.Lookup(n)
		if err != nil {
			fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
			return nil, false
		}
		o.targets = append(o.targets, t)
	}
	if verb == "shell" && len(o.targets) > 1 {
		fmt.Fprintln(stderr, "rig shell: one architecture at a time")
		return nil, false
	}
	if o.name != "" && (len(o.targets) > 1 || o.topology == "pair") {
		fmt.Fprintf(stderr, "rig %s: -name names one target's report folder\n", verb)
		return nil, false
	}
	if strings.Contains(o.labels+o.focus, `"`) {
		fmt.Fprintf(stderr, "rig %s: -labels and -focus cannot hold a double quote (the kernel command line cannot carry one)\n", verb)
		return nil, false
	}
	if _, err := regexp.Compile(o.focus); err != nil {
		fmt.Fprintf(stderr, "rig %s: -focus: %v\n", verb, err)
		return nil, false
	}
	if err := o.finishPublish(); err != nil {
		fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
		return nil, false
	}
	mode := guestproto.ModeTest
	if verb == "bench" {
		mode = guestproto.ModeBench
	}
	o.cfg = pipeline.Config{
		Root: o.publish.Root, RunID: o.publish.RunID, Name: o.name, Flavour: flavour, Version: version, OutDir: o.out, CacheDir: o.cache,
		Mode: mode, Suites: o.suites, Labels: o.labels, Focus: o.focus, ModuleParams: o.params, KernelArgs: o.kargs,
		Timeout: *timeout, Log: stderr, Image: *image, PrintkFlood: *flood,
	}
	if *image != "" && (verb != "test" || o.board == "" || o.board == "all") {
		fmt.Fprintf(stderr, "rig %s: -image goes with rig test -board B (one board)\n", verb)
		return nil, false
	}
	if (o.distro == "") != (o.distroModule == "") {
		fmt.Fprintf(stderr, "rig %s: -distro and -distro-module go together\n", verb)
		return nil, false
	}
	if o.distro != "" {
		if len(o.targets) != 1 || o.targets[0].Name != target.X86_64 || o.topology != "single" {
			fmt.Fprintf(stderr, "rig %s: -distro boots one x86_64 guest\n", verb)
			return nil, false
		}
		d := &pipeline.Distro{Root: o.distro, Module: o.distroModule, Load: pipeline.DistroLoad}
		rel, err := d.Release()
		if err != nil {
			fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
			return nil, false
		}
		o.cfg.Distro = d
		if o.cfg.Name == "" {
			o.cfg.Name = target.X86_64 + "-" + rel
		}
	}
	return o, true
}

// runGuests is rig test, bench and shell.
func runGuests(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) int {
	o, ok := parseOptions(verb, args, stderr)
	if !ok {
		return usageExit
	}
	if verb == "shell" {
		cfg := o.cfg
		cfg.Target = o.targets[0]
		if err := pipeline.Shell(ctx, cfg); err != nil {
			fmt.Fprintln(stderr, "rig:", err)
			return report.Infra.ExitCode()
		}
		return 0
	}
	switch verb {
	case "image":
		return buildImages(ctx, o, stdout, stderr)
	case "lava-jobs", "lava-test":
		return runLAVA(ctx, verb, o, stdout, stderr)
	}
	var outcomes []*pipeline.Outcome
	switch {
	case verb == "board-test":
		cfg := o.cfg
		cfg.Board = &o.boards[0]
		out := pipeline.RunDeskBoard(ctx, cfg, o.desk)
		out.Print(stdout)
		outcomes = append(outcomes, out)
	case len(o.boards) > 0:
		for _, b := range o.boards {
			cfg := o.cfg
			cfg.Board = &b
			out := pipeline.RunBoard(ctx, cfg)
			out.Print(stdout)
			outcomes = append(outcomes, out)
		}
	case o.topology == "pair":
		outcomes = pipeline.RunPair(ctx, o.cfg)
		for _, out := range outcomes {
			out.Print(stdout)
		}
	default:
		for _, t := range o.targets {
			cfg := o.cfg
			cfg.Target = t
			out := pipeline.Run(ctx, cfg)
			out.Print(stdout)
			outcomes = append(outcomes, out)
		}
	}
	worst := report.Pass
	for _, out := range outcomes {
		worst = max(worst, out.Verdict)
	}
	if len(outcomes) > 1 {
		fmt.Fprintln(stdout)
		pipeline.PrintTable(stdout, outcomes)
	}
	if err := publish(ctx, o.publish, stdout); err != nil {
		fmt.Fprintln(stderr, "rig: the run's page:", err)
		worst = max(worst, report.Infra)
	}
	return worst.ExitCode()
}

// buildImages is rig image: each board's disk image, its block map,
// checksum and manifest under out/images/BOARD.
func buildImages(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	code := 0
	for _, b := range o.boards {
		cfg := o.cfg
		cfg.Board = &b
		res, err := pipeline.BuildImage(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "rig image %s: %v\n", b.Name, err)
			code = report.Infra.ExitCode()
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n  sha256 %s\n  bmap %s\n  manifest %s\n", b.Name, res.Image, res.Sum, res.Bmap, res.Manifest)
	}
	return code
}

// runLAVA is rig lava-jobs (write each board's LAVA jobs) and rig
// lava-test (also run the QEMU job with lava-run and check that LAVA
// recorded every spec of the board's last image-test).
func runLAVA(ctx context.Context, verb string, o *options, stdout, stderr io.Writer) int {
	code := 0
	for _, b := range o.boards {
		cfg := o.cfg
		cfg.Board = &b
		if verb == "lava-jobs" {
			f, err := pipeline.WriteLAVAJobs(ctx, cfg)
			if err != nil {
				fmt.Fprintf(stderr, "rig lava-jobs %s: %v\n", b.Name, err)
				code = report.Infra.ExitCode()
				continue
			}
			fmt.Fprintf(stdout, "%s: %s, %s %s\n", b.Name, f.QEMUJob, f.Device, f.BoardJob)
			continue
		}
		f, out, err := pipeline.RunLAVA(ctx, cfg)
		switch {
		case errors.Is(err, lava.ErrLAVA) || out == nil:
			fmt.Fprintf(stderr, "rig lava-test %s: INFRASTRUCTURE ERROR: %v\n", b.Name, err)
			code = max(code, report.Infra.ExitCode())
		case err != nil:
			fmt.Fprintf(stderr, "rig lava-test %s: FAIL: %v\n", b.Name, err)
			code = max(code, report.Fail.ExitCode())
		case failedCases(out.Cases) > 0:
			fmt.Fprintf(stderr, "rig lava-test %s: FAIL: LAVA recorded the guest's results faithfully, and %d specs failed (%s)\n",
				b.Name, failedCases(out.Cases), out.Log)
			code = max(code, report.Fail.ExitCode())
		default:
			suites := map[string]bool{}
			for _, c := range out.Cases {
				suites[c.Suite] = true
			}
			fmt.Fprintf(stdout, "rig lava-test %s: PASS: lava-run recorded %d test cases in %d suites, "+
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

// runFlash is rig flash: an image onto an SD card or USB disk, refusing
// anything that could be the wrong disk (rig/flash).
func runFlash(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rig flash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rig flash [--force] [--max-size BYTES] IMAGE DEVICE\n"+
			"writes IMAGE's mapped blocks (IMAGE.bmap) to the whole disk DEVICE and reads them back;\n"+
			"IMAGE.sha256 must match. Refuses partitions, disks in use or holding /, /boot or swap,\n"+
			"and, unless --force, fixed disks and disks larger than --max-size.")
		fs.PrintDefaults()
	}
	force := fs.Bool("force", false, "write a disk that is not removable or is larger than --max-size")
	maxSize := fs.Int64("max-size", flash.DefaultMaxSize, "the largest disk written without --force, in bytes")
	if err := fs.Parse(args); err != nil {
		return usageExit
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return usageExit
	}
	img, dev := fs.Arg(0), fs.Arg(1)
	fmt.Fprintf(stdout, "rig flash: %s -> %s\n", img, dev)
	rep, err := flash.Flash(ctx, flash.Options{Image: img, Device: dev, Force: *force, MaxSize: *maxSize, Progress: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "rig flash: %v\n", err)
		if errors.Is(err, flash.ErrRefused) {
			fmt.Fprintln(stderr, "rig flash: nothing was written")
			return 1
		}
		return report.Infra.ExitCode()
	}
	d := rep.Disk
	fmt.Fprintf(stdout, "rig flash: wrote %d bytes in %d mapped ranges to %s (%s, %d bytes), synced, read back and verified in %v\n",
		rep.Written, rep.Ranges, d.Path, d.Name, d.Size, rep.Duration.Round(time.Millisecond))
	return 0
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

// runReport is rig report: the run's page again, e.g. against another
// baseline. Its exit status is the run's verdict.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := &options{}
	fs := flag.NewFlagSet("rig report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runFlags(fs, &o.publish, &o.out, &o.root)
	screenshot := fs.String("screenshot", "", "also save a PNG of the page here (needs chromium)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageExit
	}
	if o.publish.RunID == "" {
		last, err := report.ReadRun(filepath.Join(o.out, "reports", report.RunFile))
		if err != nil {
			fmt.Fprintf(stderr, "rig report: no -run-id and no latest run: %v\n", err)
			return usageExit
		}
		o.publish.RunID = last.RunID
	}
	if err := o.finishPublish(); err != nil {
		fmt.Fprintln(stderr, "rig report:", err)
		return usageExit
	}
	run, err := o.publish.Write(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "rig report:", err)
		return report.Infra.ExitCode()
	}
	page := filepath.Join(o.publish.ReportsDir, report.HTMLFile)
	if run.Profile != nil {
		fmt.Fprintln(stdout)
		run.Profile.Print(stdout)
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "run %s: %s: %s\n", run.RunID, run.Verdict, page)
	if *screenshot != "" {
		if err := report.Screenshot(ctx, page, *screenshot); err != nil {
			fmt.Fprintln(stderr, "rig report:", err)
			return report.Infra.ExitCode()
		}
	}
	return run.Verdict.ExitCode()
}

// runTarget is rig target: the target table, for people and scripts.
func runTarget(args []string, stdout, stderr io.Writer) int {
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
		name := target.DefaultFlavour
		if len(args) == 3 {
			name = args[2]
		}
		f, err := target.LookupFlavour(name)
		if err != nil {
			fmt.Fprintln(stderr, "rig target env:", err)
			return usageExit
		}
		kver := target.DefaultVersion
		if len(args) == 4 {
			kver = args[3]
		}
		v, err := target.LookupVersion(kver)
		if err != nil {
			fmt.Fprintln(stderr, "rig target env:", err)
			return usageExit
		}
		fmt.Fprint(stdout, t.ShellEnv(f, v))
		return 0
	}
	fmt.Fprintln(stderr, "usage: rig target list | rig target env ARCH [FLAVOUR [KVER]]")
	return usageExit
}
