package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/kbus-project/kbus/rig/accept"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/target"
)

// vet checks what crosses flags, once parsing has checked each flag on its
// own, and resolves the targets and boards named. Nothing is built or read
// yet, so a bad command line costs nothing.
func vet(c *command, fs *flag.FlagSet, o *options) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if fs.NArg() > 0 && !c.Positional {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.Board == boardRequired && o.board == "":
		return fmt.Errorf("-board is required (%s, or all)", strings.Join(target.BoardNames(), ", "))
	case o.board != "":
		if clash := among(set, "arch", "kver", "kernel", "distro", "distro-module", "topology", "name"); clash != "" {
			return fmt.Errorf("-board goes without %s: the board names its kernel", clash)
		}
		names := []string{o.board}
		if o.board == "all" {
			names = target.BoardNames()
		}
		for _, n := range names {
			b, err := target.LookupBoard(n)
			if err != nil {
				return err
			}
			o.boards = append(o.boards, b)
		}
	case fs.Lookup("arch") != nil:
		if err := vetTargets(c, set, o); err != nil {
			return err
		}
	}
	if c.Name == "accept" {
		if err := vetAccept(set, &o.acceptance); err != nil {
			return err
		}
	}
	if set["image"] && len(o.boards) != 1 {
		return fmt.Errorf("-image goes with -board B (one board)")
	}
	if c.Name == "board-test" && (o.desk.Console == "" || len(o.boards) != 1) {
		return fmt.Errorf("-board B and -console DEVICE are required (one board at a time)")
	}
	if strings.Contains(o.labels+o.focus, `"`) {
		return fmt.Errorf("-labels and -focus cannot hold a double quote (the kernel command line cannot carry one)")
	}
	if o.streams < 0 || o.streams > guestproto.MaxStreams {
		return fmt.Errorf("-streams %d is outside 0..%d", o.streams, guestproto.MaxStreams)
	}
	if fs.Lookup("repeat") != nil && (o.repeat < 1 || o.repeat > guestproto.MaxRepeat) {
		return fmt.Errorf("-repeat %d is outside 1..%d", o.repeat, guestproto.MaxRepeat)
	}
	if _, err := regexp.Compile(o.focus); err != nil {
		return fmt.Errorf("-focus: %w", err)
	}
	if (o.distro == "") != (o.distroModule == "") {
		return fmt.Errorf("-distro and -distro-module go together")
	}
	if o.distro != "" && (len(o.targets) != 1 || o.targets[0].Name != target.X86_64 || o.topology == "pair") {
		return fmt.Errorf("-distro boots one x86_64 guest")
	}
	if o.distroPackage != "" && o.distro == "" {
		return fmt.Errorf("-distro-package goes with -distro")
	}
	if len(o.memberSuites) > 0 && o.distroPackage == "" {
		return fmt.Errorf("-member-suites needs -distro-package: the group comes from the package's udev rules")
	}
	return nil
}

// vetTargets resolves -arch, -kernel and -kver and checks the topology.
func vetTargets(c *command, set map[string]bool, o *options) error {
	switch o.topology {
	case "", "single":
	case "pair":
		// The pair's machines, suites and labels are the topology's own.
		if o.labels == "" {
			delete(set, "labels") // an empty -labels is the Makefile's default
		}
		if clash := among(set, "arch", "labels", "suite"); clash != "" {
			return fmt.Errorf("-topology pair runs an x86_64 and an arm64 guest on specs/pair; %s cannot be given with it", clash)
		}
	default:
		return fmt.Errorf("unknown topology %q (single or pair)", o.topology)
	}
	if _, err := target.LookupFlavour(o.flavour); err != nil {
		return err
	}
	if _, err := target.LookupVersion(o.kver); err != nil {
		return err
	}
	names := []string{o.arch}
	if o.arch == "all" {
		names = target.Names()
	}
	for _, n := range names {
		t, err := target.Lookup(n)
		if err != nil {
			return err
		}
		o.targets = append(o.targets, t)
	}
	if c.Name == "shell" && len(o.targets) > 1 {
		return fmt.Errorf("one architecture at a time")
	}
	if o.name != "" && (len(o.targets) > 1 || o.topology == "pair") {
		return fmt.Errorf("-name names one target's report folder")
	}
	return nil
}

// among lists which of names were set, as "-a, -b".
func among(set map[string]bool, names ...string) string {
	var got []string
	for _, n := range names {
		if set[n] {
			got = append(got, "-"+n)
		}
	}
	return strings.Join(got, ", ")
}

// guestConfig completes the run group and makes the pipeline's
// configuration from vetted options.
func (o *options) guestConfig(c *command) (pipeline.Config, error) {
	if err := o.finishPublish(); err != nil {
		return pipeline.Config{}, err
	}
	flavour, err := target.LookupFlavour(or(o.flavour, target.DefaultFlavour))
	if err != nil {
		return pipeline.Config{}, err
	}
	version, err := target.LookupVersion(or(o.kver, target.DefaultVersion))
	if err != nil {
		return pipeline.Config{}, err
	}
	mode := guestproto.ModeTest
	if c.Name == "bench" {
		mode = guestproto.ModeBench
	}
	cfg := pipeline.Config{
		Root: o.publish.Root, RunID: o.publish.RunID, Name: o.name, Flavour: flavour, Version: version, OutDir: o.out,
		CacheDir: o.cache, Mode: mode, Suites: o.suites, Labels: o.labels, Focus: o.focus, ModuleParams: o.params,
		KernelArgs: o.kargs, Timeout: o.timeout, Image: o.image, PrintkFlood: o.flood, Streams: o.streams,
		Repeat: o.repeat, Stage: os.Getenv(stageEnv), Icount: o.icount,
	}
	if o.distro != "" {
		d := &pipeline.Distro{Root: o.distro, Module: o.distroModule, Load: pipeline.DistroLoad,
			MemberSuites: o.memberSuites}
		rel, err := d.Release()
		if err != nil {
			return pipeline.Config{}, err
		}
		if o.distroPackage != "" {
			if d.Package, err = pipeline.LookupPackage(o.distroPackage); err != nil {
				return pipeline.Config{}, err
			}
		}
		cfg.Distro = d
		if cfg.Name == "" {
			cfg.Name = target.X86_64 + "-" + rel
		}
	}
	return cfg, nil
}

// stageEnv names the make test stage a rig runs in: scripts/timed.sh
// sets it, and the run's profile places the rig's guests by it.
const stageEnv = "KBUS_STAGE"

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// vetAccept checks rig accept's flags: signing needs a reviewer and a key,
// checking needs the allowed signers, and the two do not mix.
func vetAccept(set map[string]bool, a *acceptOptions) error {
	if a.verify {
		if clash := among(set, "by", "key", "notes", "waive"); clash != "" {
			return fmt.Errorf("-verify checks a record: -%s goes with signing one", clash)
		}
		if a.allowedSigners == "" {
			return fmt.Errorf("-verify needs -allowed-signers FILE")
		}
		return nil
	}
	if a.allowedSigners != "" {
		return fmt.Errorf("-allowed-signers goes with -verify")
	}
	if a.by == "" || a.key == "" {
		return fmt.Errorf(`-by "Name <mail>" and -key FILE are required to sign`)
	}
	for _, w := range a.waivers {
		if _, err := accept.ParseWaiver(w); err != nil {
			return err
		}
	}
	return nil
}
