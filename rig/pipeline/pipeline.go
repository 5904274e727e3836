// Package pipeline runs the rig's stages in order for one target:
//
//	kernel → module → specs → initramfs → boot → report
//
// Each stage is timed. Whatever happens, a run ends in an Outcome whose
// verdict report.Decide gave from what the stages left: a stage that fails
// before the guest reports is an infrastructure error, distinct from specs
// that fail.
package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/internal/shell"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
	"github.com/kbus-project/kbus/rig/vm"
)

// Config is one run of the pipeline.
type Config struct {
	Root string // the repository
	// RunID names the invocation this run is part of: the run's page
	// gathers every target report with the same id. Empty means a new one.
	RunID string
	// Name is the target's report folder under OutDir/reports (and its
	// build folder); empty means the target, with "-FLAVOUR" unless the
	// flavour is the default.
	Name string
	// Role is the machine's part in a topology, e.g. "service box".
	Role    string
	Target  target.Target
	Flavour target.Flavour // the kernel flavour; zero means the default
	Version target.Version // the kernel version; zero means the default
	// Mode is what the guest does; empty means guestproto.ModeTest.
	Mode     guestproto.Mode
	OutDir   string // out/: build products and reports
	CacheDir string // kernels and u-root bases, outside the repository
	// Suites are the spec packages to compile, relative to Root; empty
	// means every suite under specs/.
	Suites []string
	// Stage is the make test stage running this (for the run's profile);
	// empty outside make test.
	Stage string
	// Labels is the Ginkgo label filter; empty means DefaultLabels.
	Labels string
	// Focus runs only the specs whose full text matches this regular
	// expression.
	Focus string
	// Distro, when set, is a distribution's kernel to boot instead of
	// building one, with the module built for it.
	Distro *Distro
	// ModuleParams are kbus.ko's parameters, NAME=VALUE.
	ModuleParams []string
	// KernelArgs are added to the guest's command line after the rig's
	// own, so they override them (the rig's tests inject faults this way).
	KernelArgs []string
	// Timeout is the hard limit for the guest; 0 means the target's
	// budget for the flavour.
	Timeout time.Duration
	Log     io.Writer
	// Net joins the guest to the other guest of a two-machine run.
	Net *Net
	// Board, when set, runs the board's image booted through its
	// firmware (RunBoard, BuildImage); Target is then the board's.
	Board *target.Board
	// Image, with Board, is an image to boot instead of building one
	// (rig test -board B -image PATH).
	Image string
	// PrintkFlood makes the guest flood the kernel log while it prints
	// its console signals (guestproto.ArgPrintkFlood), for the rig's
	// proof that kernel messages cost no test case.
	PrintkFlood bool
	// Streams is how many suites the guest runs side by side
	// (guestproto.Request.Streams); 0 means one per vCPU.
	Streams int
	// Repeat runs every suite this many times, for each spec's pass rate
	// (guestproto.Request.Repeat); the timeout grows with it.
	Repeat int
	// Icount runs the guest on the instruction counter (vm.Icount).
	Icount bool
	// NativeOnly builds the suites for the target's own Go target only,
	// not also for the 32-bit one its kernel can run (Target.Compat).
	NativeOnly bool
}

// Net is a guest's place on the network between two guests.
type Net struct {
	Link vm.Link
	IP   string // this guest's address, ADDR/PREFIX
	Peer string // the other guest's address
}

// DefaultLabels is the label filter when none is given: everything but the
// minutes-long soak, the two-machine specs, the fuzzer and the stress run,
// which make test runs in boots of their own, and the hostile neighbours,
// which it runs on x86_64, arm64 (both ABIs), armv7 and the debug kernel
// (docs/testing.md).
const DefaultLabels = "!soak && !pair && !fuzz && !stress && !hostile"

type runner struct {
	cfg     Config
	out     *Outcome
	start   time.Time
	built   guest           // what the build stages made, for the report
	results *report.Results // what the guest left, once collected
	version string          // the project's, for the module and the tools
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(r.cfg.Log, "rig %s: %s\n", r.cfg.Target.Name, fmt.Sprintf(format, a...))
}

// stage runs f as the named stage and records its time.
func (r *runner) stage(name string, f func() (note string, err error)) error {
	start := time.Now()
	note, err := f()
	d := time.Since(start)
	r.out.Stages = append(r.out.Stages, report.Stage{Name: name, Duration: d, Note: note})
	if err != nil {
		r.logf("%-9s failed after %v", name, d.Round(time.Millisecond))
		return err
	}
	msg := fmt.Sprintf("%-9s %8v", name, d.Round(time.Millisecond))
	if note != "" {
		msg += "  (" + note + ")"
	}
	r.logf("%s", msg)
	return nil
}

// Run runs the whole pipeline. The returned Outcome is complete even when
// the run fails; its Verdict says how.
func Run(ctx context.Context, cfg Config) *Outcome {
	r := newRunner(cfg)
	g, err := r.prepare(ctx)
	if err == nil {
		err = r.bootAndReport(ctx, g)
	}
	return r.finish(err)
}

func newRunner(cfg Config) *runner {
	if cfg.Flavour.Name == "" {
		cfg.Flavour, _ = target.LookupFlavour(target.DefaultFlavour)
	}
	if cfg.Version.Name == "" {
		cfg.Version, _ = target.LookupVersion(target.DefaultVersion)
	}
	if cfg.Mode == "" {
		cfg.Mode = guestproto.ModeTest
	}
	if b := cfg.Board; b != nil {
		cfg.Target = b.Target()
		if cfg.Name == "" {
			cfg.Name = b.Name
		}
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.RunID == "" {
		cfg.RunID = NewRunID(time.Now())
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Target.Name
		if cfg.Version.Name != target.DefaultVersion {
			cfg.Name += "-" + cfg.Version.Name
		}
		if cfg.Flavour.Name != target.DefaultFlavour {
			cfg.Name += "-" + cfg.Flavour.Name
		}
	}
	out := &Outcome{
		Name: cfg.Name, Role: cfg.Role, Flavour: cfg.Flavour.Name,
		ReportDir: filepath.Join(cfg.OutDir, "reports", cfg.Name),
	}
	return &runner{cfg: cfg, out: out, start: time.Now(), version: Version(cfg.Root)}
}

// finish decides the verdict from what the run left and rigErr, the rig's
// own failure if any, and writes the HTML page.
func (r *runner) finish(rigErr error) *Outcome {
	out := r.out
	out.Total = time.Since(r.start)
	ev := report.Evidence{RigErr: rigErr, Mode: r.cfg.Mode}
	if res := r.results; res != nil {
		if rigErr == nil {
			rigErr = r.checkMembers(res.Status)
		}
		ev = res.Evidence(rigErr, r.cfg.Mode)
		out.Bench = res.Bench
		if res.Status != nil {
			out.Boot = res.Status.BootToInit
		}
	}
	out.Summary, out.Splats = ev.Summary, ev.Splats
	out.Verdict, out.Reasons = report.Decide(ev)
	if err := r.writeReport(); err != nil {
		r.logf("writing the report: %v", err)
	}
	return out
}

// writeReport writes the target's summary for the run's page and its own
// HTML page, when the run got far enough to have a report folder.
func (r *runner) writeReport() error {
	out := r.out
	if _, err := os.Stat(out.ReportDir); err != nil {
		return nil
	}
	meta := report.TargetMeta{
		RunID: r.cfg.RunID, Name: r.cfg.Name, Target: r.cfg.Target.Name, Flavour: r.cfg.Flavour.Name,
		Role: r.cfg.Role, Mode: r.cfg.Mode, Labels: r.request().Labels, Rerun: r.rerun(),
		Cmdline: out.Cmdline, Kernel: r.built.kernel.info, Module: r.built.module.hash, QEMU: r.cfg.Target.QEMU.Binary,
		Verdict: out.Verdict, Reasons: out.Reasons, Stages: out.Stages, Total: out.Total,
		Start: r.start, BootToInit: out.Boot, Stage: r.cfg.Stage,
	}
	dmesg, _ := os.ReadFile(filepath.Join(out.ReportDir, report.DmesgFile))
	t := report.BuildTarget(meta, r.results, string(dmesg))
	if err := report.WriteTarget(out.ReportDir, t); err != nil {
		return err
	}
	return report.WriteTargetPage(out.ReportDir, t)
}

// rerun is the make command that runs this target again.
func (r *runner) rerun() string {
	if r.cfg.Net != nil {
		return "make qemu-test TOPOLOGY=pair"
	}
	if r.cfg.Distro != nil {
		return "make distro-test"
	}
	if b := r.cfg.Board; b != nil {
		return "make image-test BOARD=" + b.Name
	}
	cmd := "make qemu-test ARCH=" + r.cfg.Target.Name
	if r.cfg.Version.Name != target.DefaultVersion {
		cmd += " KVER=" + r.cfg.Version.Name
	}
	if r.cfg.Flavour.Name != target.DefaultFlavour {
		cmd += " KERNEL=" + r.cfg.Flavour.Name
	}
	if len(r.cfg.Suites) == 1 {
		cmd += " SUITE=" + r.cfg.Suites[0]
	}
	if r.cfg.Labels != "" {
		cmd += " LABELS=" + shell.Quote(r.cfg.Labels)
	}
	return cmd
}

// NewRunID names a run by its start, so that runs sort by time.
func NewRunID(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// guestFiles are what the build stages produced for one boot.
type guestFiles struct {
	kernel, initramfs, share string
}

func (r *runner) buildDir() string {
	return filepath.Join(r.cfg.OutDir, "build", r.cfg.Name)
}

// prepare runs the build stages and readies the results share and the
// report folder.
func (r *runner) prepare(ctx context.Context) (guestFiles, error) {
	g, err := r.buildGuest(ctx, r.buildDir())
	if err != nil {
		return guestFiles{}, err
	}
	share, err := r.freshResults()
	if err != nil {
		return guestFiles{}, err
	}
	return guestFiles{kernel: g.kernel.image, initramfs: g.initramfs, share: share}, nil
}

// freshResults empties the folder the guest's results land in and the
// report folder, and returns the former.
func (r *runner) freshResults() (string, error) {
	share := filepath.Join(r.buildDir(), "results")
	return share, emptyDirs(share, r.out.ReportDir)
}

// emptyDirs makes each folder exist and hold nothing.
func emptyDirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// bootAndReport boots the guest and collects what it left on its share.
func (r *runner) bootAndReport(ctx context.Context, g guestFiles) error {
	err := r.bootThenCollect(g.share, func() error { return r.boot(ctx, g) }, nil, nil)
	if r.results != nil {
		if terr := r.recordTimes(r.results.Status); terr != nil {
			r.logf("%v", terr)
		}
	}
	return err
}

// bootThenCollect is the last two stages of every run, in QEMU or on a
// board: boot, then collect what the guest left into the report folder,
// whatever happened to the guest (a timeout or a panic still leaves a
// console log and maybe partial results). fetch, if set, first brings
// what the guest left into share (from a results partition, a console);
// check, if set, cross-checks what was collected. A boot error is the
// one returned.
func (r *runner) bootThenCollect(share string, boot func() error, fetch, check func() (string, error)) error {
	bootErr := r.stage(report.BootStage, func() (string, error) { return "", boot() })
	err := r.stage("report", func() (string, error) {
		var note string
		if fetch != nil {
			var err error
			if note, err = fetch(); err != nil {
				return "", err
			}
		}
		var err error
		if r.results, err = report.Collect(share, r.out.ReportDir, r.cfg.Mode); err != nil || check == nil {
			return note, err
		}
		return check()
	})
	if bootErr != nil {
		return bootErr
	}
	return err
}

// Shell builds the image as Run does and boots it to an interactive shell.
func Shell(ctx context.Context, cfg Config) error {
	cfg.Mode = guestproto.ModeShell
	r := newRunner(cfg)
	g, err := r.buildGuest(ctx, r.buildDir())
	if err != nil {
		return err
	}
	c := r.vmConfig(guestFiles{kernel: g.kernel.image, initramfs: g.initramfs})
	c.Timeout = 0
	return vm.Shell(ctx, c)
}

// guest is what the build stages make for one guest: its kernel, the
// module built for it, and the initramfs with the guest's programs.
type guest struct {
	kernel    kernel
	module    module
	initramfs string
}

// step runs f as the named stage (its time and note go into the report)
// and returns what it made.
func step[T any](r *runner, name string, f func() (T, string, error)) (T, error) {
	var made T
	err := r.stage(name, func() (string, error) {
		v, note, err := f()
		made = v
		return note, err
	})
	return made, err
}

// buildGuest runs the build stages in build: the kernel, the module, the
// guest's programs and the initramfs.
func (r *runner) buildGuest(ctx context.Context, build string) (guest, error) {
	var g guest
	defer func() { r.built = g }() // what got built, for the report, even when a stage failed
	if err := os.MkdirAll(build, 0o755); err != nil {
		return g, err
	}
	var err error
	if d := r.cfg.Distro; d != nil {
		if g.kernel, err = step(r, "kernel", d.kernel); err != nil {
			return g, err
		}
		if g.module, err = step(r, "module", func() (module, string, error) { return d.module(build) }); err != nil {
			return g, err
		}
	} else {
		if g.kernel, err = step(r, "kernel", func() (kernel, string, error) { return r.buildKernel(ctx) }); err != nil {
			return g, err
		}
		if g.module, err = step(r, "module", func() (module, string, error) { return r.buildModule(ctx, g.kernel, build) }); err != nil {
			return g, err
		}
	}
	bins, err := step(r, "specs", func() (binaries, string, error) { return r.buildBinaries(ctx, build, g.kernel) })
	if err != nil {
		return g, err
	}
	g.initramfs, err = step(r, "initramfs", func() (string, string, error) {
		return r.buildInitramfs(ctx, g.kernel, g.module, bins, build)
	})
	return g, err
}

// checkMembers fails a distribution run whose guest did not run each
// suite -member-suites names as a member of the package's group (a name
// that is no suite of the run, or a guest that ignored the request).
func (r *runner) checkMembers(st *guestproto.Status) error {
	d := r.cfg.Distro
	if d == nil || len(d.MemberSuites) == 0 || st == nil || st.Phase != guestproto.PhaseDone {
		return nil
	}
	ran := map[string]bool{}
	for _, s := range st.Suites {
		if s.Member {
			ran[s.Name] = true
		}
	}
	var missing []string
	for _, s := range d.MemberSuites {
		if !ran[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("suites %s were to run as members of group %s, not as root, and did not",
			strings.Join(missing, ", "), d.Package.Group)
	}
	return nil
}
