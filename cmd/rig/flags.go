package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/flash"
	"github.com/kbus-project/kbus/rig/pipeline"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

// options hold every flag a verb may take; each verb registers only the
// groups it uses (commands.go), and vet (vet.go) turns them into what the
// pipeline needs.
type options struct {
	// target group
	arch, flavour, kver, name string
	// distro group
	distro, distroModule string
	distroPackage        string
	memberSuites         commaList
	// spec group
	suites        listFlag
	labels, focus string
	streams       int
	repeat        int
	// boot group
	params, kargs listFlag
	timeout       time.Duration
	// run group
	out, root string
	publish   report.Publish
	cache     string
	// board group
	board, image string
	flood        bool
	icount       bool
	topology     string
	desk         pipeline.DeskBoard
	// rig accept's own
	acceptance acceptOptions
	// rig report's and rig flash's own
	screenshot, pdf string
	force           bool
	maxSize         int64

	// What vet makes of them.
	cfg     pipeline.Config
	targets []target.Target
	boards  []target.Board
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// commaList is a flag of comma-separated names, repeatable.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }
func (l *commaList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// A flagGroup is flags that several verbs share, the way Ginkgo's CLI
// combines its flag sets per command; rig VERB -h lists them by group.
type flagGroup struct {
	Name string
	Add  func(*options, *flag.FlagSet)
}

var (
	targetFlags  = flagGroup{"kernel", addTargetFlags}
	distroFlags  = flagGroup{"distribution kernel", addDistroFlags}
	specFlags    = flagGroup{"specs", addSpecFlags}
	bootFlags    = flagGroup{"guest", addBootFlags}
	timeoutFlag  = flagGroup{"time", addTimeoutFlag}
	runFlags     = flagGroup{"run and report", addRunFlags}
	cacheFlag    = flagGroup{"cache", addCacheFlag}
	boardFlags   = flagGroup{"board", addBoardFlags}
	imageFlag    = flagGroup{"board image", addImageFlag}
	topologyFlag = flagGroup{"topology", addTopologyFlag}
	deskFlags    = flagGroup{"board on the desk", addDeskFlags}
	reportFlags  = flagGroup{"report", addReportFlags}
	flashFlags   = flagGroup{"flash", addFlashFlags}
	acceptFlags  = flagGroup{"sign-off", addAcceptFlags}
	benchFlags   = flagGroup{"benchmark", addBenchFlags}
)

// addBenchFlags are rig bench's own.
func addBenchFlags(o *options, fs *flag.FlagSet) {
	fs.BoolVar(&o.icount, "icount", false, "run the guest on TCG's instruction counter: its clock counts instructions, "+
		"so figures measure each message's work, not the host's load (slower; for comparing two modules)")
}

// addTargetFlags choose the guest's kernel: architecture, flavour, version,
// and the name of the report folder it writes.
func addTargetFlags(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.arch, "arch", target.Default, "guest architecture: "+strings.Join(target.Names(), ", ")+", or all")
	fs.StringVar(&o.flavour, "kernel", target.DefaultFlavour, "kernel flavour: "+strings.Join(target.FlavourNames(), " or "))
	fs.StringVar(&o.kver, "kver", target.DefaultVersion, "kernel version: "+strings.Join(target.VersionNames(), " or "))
	fs.StringVar(&o.name, "name", "", "the report folder's name (default ARCH, or ARCH-FLAVOUR for a flavour other than the default)")
}

// addDistroFlags boot a distribution's kernel instead of building one.
func addDistroFlags(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.distro, "distro", "", "boot this distribution kernel instead of building one: its image package unpacked "+
		"(x86_64 only; with -distro-module)")
	fs.StringVar(&o.distroModule, "distro-module", "", "kbus.ko built for the -distro kernel (by DKMS)")
	fs.StringVar(&o.distroPackage, "distro-package", "", "the module's package installed here (kbus-dkms): the guest "+
		"starts the distribution's udev with the package's rules (with -distro)")
	fs.Var(&o.memberSuites, "member-suites", "comma-separated suites the guest runs as a member of the group the "+
		"package's rules give the device nodes, not as root (with -distro-package)")
}

// addSpecFlags choose the specs the guest carries and runs.
func addSpecFlags(o *options, fs *flag.FlagSet) {
	fs.Var(&o.suites, "suite", "spec package to run, relative to the repository (repeatable; default: all of specs/)")
	fs.StringVar(&o.labels, "labels", "", "Ginkgo label filter for the specs, e.g. 'stb || industrial' (default "+
		fmt.Sprintf("%q", pipeline.DefaultLabels)+")")
	fs.StringVar(&o.focus, "focus", "", "run only the specs whose full text matches this regular expression")
	fs.IntVar(&o.streams, "streams", 0, "suites the guest runs side by side, each on a KBUS device of its own; "+
		"1 runs them one at a time (default: one per vCPU; docs/testing.md)")
	fs.IntVar(&o.repeat, "repeat", 1, "run every chosen suite this many times; the page gives each spec's pass rate")
}

// addBootFlags are what the guest's kernel and module are given.
func addBootFlags(o *options, fs *flag.FlagSet) {
	fs.Var(&o.params, "module-param", "kbus.ko parameter NAME=VALUE, e.g. kbus_num_devices=3 (repeatable)")
	fs.Var(&o.kargs, "kernel-arg", "extra guest kernel argument, after the rig's own (repeatable)")
}

// addTimeoutFlag bounds a guest that runs unattended.
func addTimeoutFlag(o *options, fs *flag.FlagSet) {
	fs.DurationVar(&o.timeout, "timeout", 0, "hard limit for the guest (default: per architecture and kernel flavour)")
}

// addRunFlags say where products go and which run a report belongs to and is
// compared with.
func addRunFlags(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.out, "out", "out", "folder for build products, reports (out/reports) and their history (out/history)")
	fs.StringVar(&o.root, "root", ".", "the repository")
	fs.StringVar(&o.publish.RunID, "run-id", "", "the run this is part of: one page gathers every target with the same id (default: a new one)")
	fs.StringVar(&o.publish.Baseline, "baseline", "", "a run's report.json to compare with (default: the newest run in the history)")
}

// addCacheFlag is where kernels, modules, u-root bases and guest programs are
// kept between runs.
func addCacheFlag(o *options, fs *flag.FlagSet) {
	home, _ := os.UserHomeDir()
	fs.StringVar(&o.cache, "cache", filepath.Join(home, ".cache", "kbus-rig"), "cache for kernels, modules, u-root bases and guest programs")
}

// addBoardFlags choose a board profile (docs/boards.md).
func addBoardFlags(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.board, "board", "", "a board profile: "+strings.Join(target.BoardNames(), ", ")+", or all")
	fs.BoolVar(&o.flood, "printk-flood", false, "the guest floods the kernel log while it prints its console signals "+
		"(proves that none is lost; docs/boards.md)")
}

// addImageFlag boots a board image built elsewhere.
func addImageFlag(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.image, "image", "", "with -board B: boot this image of the board instead of building one")
}

// addTopologyFlag chooses one guest per architecture or two joined ones.
func addTopologyFlag(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.topology, "topology", "single", "single: one guest per architecture; pair: an x86_64 and an arm64 guest "+
		"joined by a network, running specs/pair")
}

// addDeskFlags reach a real board on the desk.
func addDeskFlags(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.desk.Console, "console", "", "the board's serial console, e.g. /dev/ttyUSB0 (required)")
	fs.IntVar(&o.desk.Baud, "baud", 0, "the console's baud (default: the board profile's)")
	fs.StringVar(&o.desk.PowerCmd, "power-cmd", "", "shell command that power-cycles the board (USB relay, SD mux, "+
		"'labgrid-client power cycle'); default: you are asked to")
	fs.StringVar(&o.desk.Flash, "flash", "", "write the image to this card first (rig flash's checks apply)")
	fs.BoolVar(&o.desk.Force, "force", false, "with -flash: rig flash --force")
	fs.DurationVar(&o.desk.Silent, "silent", 2*time.Minute, "how long the board may say nothing after power-on")
}

// addReportFlags are rig report's own.
func addReportFlags(o *options, fs *flag.FlagSet) {
	fs.StringVar(&o.screenshot, "screenshot", "", "also save a PNG of the page here (needs chromium)")
	fs.StringVar(&o.pdf, "pdf", "", "also print the page, every part open, to this PDF (needs chromium)")
	fs.StringVar(&o.publish.TrendDir, "history", "", "read the page's history view from the runs in this folder\n"+
		"(RUNID.json or */report.json, e.g. copied from CI; default: -out's history)")
}

// acceptOptions are rig accept's flags.
type acceptOptions struct {
	report, by, key, notes, allowedSigners string
	verify                                 bool
	waivers                                listFlag
}

// addAcceptFlags are rig accept's own.
func addAcceptFlags(o *options, fs *flag.FlagSet) {
	a := &o.acceptance
	fs.StringVar(&a.report, "report", filepath.Join("out", "reports", "report.json"), "the run's report.json")
	fs.StringVar(&a.by, "by", "", `the reviewer, "Name <mail>" (the mail is the principal of -allowed-signers)`)
	fs.StringVar(&a.key, "key", "", "the reviewer's SSH private key (ssh-keygen -Y sign -f)")
	fs.StringVar(&a.notes, "notes", "", "free text kept in the record")
	fs.Var(&a.waivers, "waive", "ID=reason: accept an item that did not pass (repeatable; * in ID stands for any text)")
	fs.BoolVar(&a.verify, "verify", false, "check the record beside -report instead of writing one")
	fs.StringVar(&a.allowedSigners, "allowed-signers", "", "with -verify: who may sign, in ssh-keygen's allowed signers format")
}

// addFlashFlags are rig flash's own.
func addFlashFlags(o *options, fs *flag.FlagSet) {
	fs.BoolVar(&o.force, "force", false, "write a disk that is not removable or is larger than -max-size")
	fs.Int64Var(&o.maxSize, "max-size", flash.DefaultMaxSize, "the largest disk written without -force, in bytes")
}

// ProfileLog is where make test's scripts/timed.sh logs the stages of
// run runID (the Makefile's PROFILE names the same file).
func ProfileLog(out, runID string) string {
	return filepath.Join(out, "profile", runID+".tsv")
}

// finishPublish completes the run group: absolute root, the folders under
// -out, a new run id when none was given.
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
	o.publish.Versions = pipeline.Provenance(root)
	return nil
}
