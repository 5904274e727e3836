// Command rig builds a KBUS guest image, boots it in QEMU and reports on the
// specs it ran.
//
//	rig test  [flags]          build, boot, run the specs, write the report
//	rig bench [flags]          build, boot, run the benchmark, print its figures
//	rig shell [flags]          build, then boot the same image to a guest shell
//	rig target list            the targets and kernel flavours
//	rig target env ARCH [FLAVOUR]
//	                           what kernel/build.sh needs, as shell assignments
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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

const usageExit = 64

const usage = "usage: rig test|bench|shell [flags] (rig test -h for the flags), rig target list, rig target env ARCH [FLAVOUR]"

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
	case "test", "bench", "shell":
		return runGuests(ctx, args[0], args[1:], stdout, stderr)
	case "target":
		return runTarget(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return usageExit
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// options are the flags of rig test, bench and shell.
type options struct {
	arch, flavour, labels, out, root, cache, topology string
	suites, kargs, params                             listFlag
	cfg                                               pipeline.Config
	targets                                           []target.Target
}

func parseOptions(verb string, args []string, stderr io.Writer) (*options, bool) {
	o := &options{}
	fs := flag.NewFlagSet("rig "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.arch, "arch", target.Default, "guest architecture: "+strings.Join(target.Names(), ", ")+", or all")
	fs.StringVar(&o.flavour, "kernel", target.DefaultFlavour, "kernel flavour: default or debug")
	fs.StringVar(&o.labels, "labels", "", "Ginkgo label filter for the specs, e.g. 'stb || industrial' (default "+
		fmt.Sprintf("%q", pipeline.DefaultLabels)+")")
	fs.StringVar(&o.out, "out", "out", "folder for build products and reports")
	fs.StringVar(&o.root, "root", ".", "the repository")
	home, _ := os.UserHomeDir()
	fs.StringVar(&o.cache, "cache", filepath.Join(home, ".cache", "kbus-rig"), "cache for kernels and u-root bases")
	timeout := fs.Duration("timeout", 0, "hard limit for the guest (default: per architecture and kernel flavour)")
	fs.StringVar(&o.topology, "topology", "single", "single: one guest per architecture; pair: two guests joined by a network (test only)")
	fs.Var(&o.suites, "suite", "spec package to run, relative to the repository (repeatable; default: all of specs/)")
	fs.Var(&o.params, "module-param", "kbus.ko parameter NAME=VALUE, e.g. kbus_num_devices=3 (repeatable)")
	fs.Var(&o.kargs, "kernel-arg", "extra guest kernel argument, after the rig's own (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, false
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
	root, err := filepath.Abs(o.root)
	if err != nil {
		fmt.Fprintf(stderr, "rig %s: %v\n", verb, err)
		return nil, false
	}
	mode := guestproto.ModeTest
	if verb == "bench" {
		mode = guestproto.ModeBench
	}
	o.cfg = pipeline.Config{
		Root: root, Flavour: flavour, OutDir: o.out, CacheDir: o.cache, Mode: mode,
		Suites: o.suites, Labels: o.labels, ModuleParams: o.params, KernelArgs: o.kargs,
		Timeout: *timeout, Log: stderr,
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
	var outcomes []*pipeline.Outcome
	if o.topology == "pair" {
		outcomes = pipeline.RunPair(ctx, o.cfg)
		for _, out := range outcomes {
			out.Print(stdout)
		}
	} else {
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
	return worst.ExitCode()
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
		return 0
	case len(args) >= 2 && len(args) <= 3 && args[0] == "env":
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
		fmt.Fprint(stdout, t.ShellEnv(f))
		return 0
	}
	fmt.Fprintln(stderr, "usage: rig target list | rig target env ARCH [FLAVOUR]")
	return usageExit
}
