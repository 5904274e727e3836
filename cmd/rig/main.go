// Command rig builds a KBUS guest image, boots it in QEMU and reports on the
// specs it ran.
//
//	rig test  [flags]   build, boot, run the specs, write the report
//	rig bench [flags]   build, boot, run the benchmark, print its figures
//	rig shell [flags]   build, then boot the same image to a guest shell
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
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kbus-project/kbus/arch"
	"github.com/kbus-project/kbus/pipeline"
)

const usageExit = 64

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || (args[0] != "test" && args[0] != "bench" && args[0] != "shell") {
		fmt.Fprintln(os.Stderr, "usage: rig test|bench|shell [flags]; rig test -h for the flags")
		return usageExit
	}
	mode := args[0]
	fs := flag.NewFlagSet("rig "+mode, flag.ContinueOnError)
	archName := fs.String("arch", "x86_64", "guest architecture: x86_64, arm64, arm, or all")
	flavour := fs.String("kernel", "default", "kernel flavour: default or debug")
	labels := fs.String("labels", "", "Ginkgo label filter for the specs, e.g. 'stb || industrial'")
	out := fs.String("out", "out", "folder for build products and reports")
	root := fs.String("root", ".", "the repository")
	home, _ := os.UserHomeDir()
	cache := fs.String("cache", filepath.Join(home, ".cache", "kbus-rig"), "cache for kernels and u-root bases")
	timeout := fs.Duration("timeout", 0, "hard limit for the guest (default: per architecture)")
	topology := fs.String("topology", "single", "single: one guest per architecture; pair: two guests joined by a network (test only)")
	var suites, kargs listFlag
	fs.Var(&suites, "suite", "spec package to run, relative to the repository (repeatable; default: all of specs/)")
	fs.Var(&kargs, "kernel-arg", "extra guest kernel argument, e.g. kbus.kbus_num_devices=3 (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageExit
	}

	if *topology != "single" && (*topology != "pair" || mode != "test") {
		fmt.Fprintf(os.Stderr, "rig %s: unknown topology %q (single; pair with rig test)\n", mode, *topology)
		return usageExit
	}
	if *topology == "pair" {
		// The pair's machines, suites and labels are the topology's own.
		var clash []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "arch" || f.Name == "suite" || (f.Name == "labels" && f.Value.String() != "") {
				clash = append(clash, "-"+f.Name)
			}
		})
		if len(clash) > 0 {
			fmt.Fprintf(os.Stderr, "rig test: -topology pair runs an x86_64 and an arm64 guest on specs/pair; %s cannot be given with it\n",
				strings.Join(clash, ", "))
			return usageExit
		}
	}
	names := []string{*archName}
	if *archName == "all" {
		names = arch.Names()
	}
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return usageExit
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var outcomes []*pipeline.Outcome
	if *topology == "pair" {
		cfg := pipeline.Config{
			Root: absRoot, Flavour: *flavour, OutDir: *out, CacheDir: *cache,
			KernelArgs: kargs, Timeout: *timeout, Log: os.Stderr, Mode: mode,
		}
		outcomes = pipeline.RunPair(ctx, cfg)
		for _, o := range outcomes {
			o.Print(os.Stdout)
		}
		names = nil
	}
	for _, n := range names {
		a, err := arch.Lookup(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rig:", err)
			return usageExit
		}
		cfg := pipeline.Config{
			Root: absRoot, Arch: a, Flavour: *flavour, OutDir: *out, CacheDir: *cache,
			Suites: suites, Labels: *labels, KernelArgs: kargs, Timeout: *timeout, Log: os.Stderr,
			Mode: mode,
		}
		if mode == "shell" {
			if err := pipeline.Shell(ctx, cfg); err != nil {
				fmt.Fprintln(os.Stderr, "rig:", err)
				return int(pipeline.Infra)
			}
			return 0
		}
		o := pipeline.Run(ctx, cfg)
		o.Print(os.Stdout)
		outcomes = append(outcomes, o)
	}
	worst := pipeline.Pass
	for _, o := range outcomes {
		worst = max(worst, o.Verdict)
	}
	if len(outcomes) > 1 {
		fmt.Println()
		pipeline.PrintTable(os.Stdout, outcomes)
	}
	return worst.ExitCode()
}
