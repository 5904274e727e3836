// Package pipeline runs the rig's stages in order for one architecture:
//
//	kernel → module → specs → initramfs → boot → report
//
// Each stage is timed; a stage that fails before the guest reports is an
// infrastructure error, distinct from specs that fail.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kbus-project/kbus/arch"
	"github.com/kbus-project/kbus/report"
	"github.com/kbus-project/kbus/vm"
)

// Config is one run of the pipeline.
type Config struct {
	Root    string // the repository
	Arch    arch.Arch
	Flavour string // kernel flavour: default or debug
	// Mode is what the guest does: "test" runs the spec suites (the
	// default), "bench" runs the benchmark instead.
	Mode     string
	OutDir   string // out/: build products and reports
	CacheDir string // kernels and u-root bases, outside the repository
	// Suites are the spec packages to compile, relative to Root; empty
	// means every suite under specs/.
	Suites []string
	Labels string
	// KernelArgs are added to the guest's command line (module
	// parameters as kbus.NAME=VALUE, rig.fault=... for the rig's tests).
	KernelArgs []string
	// Timeout is the hard limit for the guest; 0 means the arch default.
	Timeout time.Duration
	Log     io.Writer
	// Net joins the guest to the other guest of a two-machine run.
	Net *Net
	// NativeOnly builds the suites for the guest's own architecture only,
	// not also the 32-bit build a 64-bit ARM kernel could run.
	NativeOnly bool
}

// Net is a guest's place on the network between two guests.
type Net struct {
	Link vm.Link
	IP   string // this guest's address, ADDR/PREFIX
	Peer string // the other guest's address
}

// Verdict is the outcome class of a run.
type Verdict int

// Verdicts, in the order the exit codes use them.
const (
	Pass  Verdict = iota // every spec passed, no splat
	Fail                 // specs failed, no spec ran, or the kernel splatted
	Infra                // the rig could not build, boot or hear from the guest
)

// ExitCode maps a verdict to the runner's exit status.
func (v Verdict) ExitCode() int { return int(v) }

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	default:
		return "INFRASTRUCTURE ERROR"
	}
}

// StageTime is how long one stage took.
type StageTime struct {
	Name     string
	Duration time.Duration
	Note     string // e.g. "cached"
}

// Outcome is the result of a run.
type Outcome struct {
	Arch      string
	Verdict   Verdict
	Reasons   []string // why the verdict is not Pass
	Summary   report.Summary
	Splats    []report.Splat
	Stages    []StageTime
	ReportDir string
	Cmdline   string        // the QEMU command line
	Boot      time.Duration // kernel start to init, as the guest saw it
	Total     time.Duration
	Bench     string // the benchmark's figures, in bench mode
}

// infraError marks failures of the rig itself.
type infraError struct{ err error }

func (e infraError) Error() string { return e.err.Error() }
func (e infraError) Unwrap() error { return e.err }

func infra(format string, a ...any) error { return infraError{fmt.Errorf(format, a...)} }

// IsInfra reports whether err is an infrastructure error.
func IsInfra(err error) bool {
	var ie infraError
	return errors.As(err, &ie)
}

type runner struct {
	cfg   Config
	out   *Outcome
	start time.Time
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(r.cfg.Log, "rig %s: %s\n", r.cfg.Arch.Name, fmt.Sprintf(format, a...))
}

// stage runs f as the named stage and records its time.
func (r *runner) stage(name string, f func() (note string, err error)) error {
	start := time.Now()
	note, err := f()
	d := time.Since(start)
	r.out.Stages = append(r.out.Stages, StageTime{Name: name, Duration: d, Note: note})
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
	if cfg.Flavour == "" {
		cfg.Flavour = "default"
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	out := &Outcome{Arch: cfg.Arch.Name, ReportDir: filepath.Join(cfg.OutDir, "reports", cfg.Arch.Name)}
	return &runner{cfg: cfg, out: out, start: time.Now()}
}

// finish completes the outcome: its total time, its verdict when err is
// an error of the rig, and its HTML page.
func (r *runner) finish(err error) *Outcome {
	out := r.out
	out.Total = time.Since(r.start)
	if err != nil {
		out.Verdict = Infra
		out.Reasons = append([]string{err.Error()}, out.Reasons...)
	}
	if err := out.writePage(r.cfg.Flavour, out.Cmdline); err != nil {
		r.logf("writing the HTML page: %v", err)
	}
	return out
}

// guestFiles are what the build stages produced for one boot.
type guestFiles struct {
	kernel, initramfs, share string
}

// prepare runs the build stages and readies the results share and the
// report folder.
func (r *runner) prepare(ctx context.Context) (guestFiles, error) {
	build := filepath.Join(r.cfg.OutDir, "build", r.cfg.Arch.Name+"-"+r.cfg.Flavour)
	if err := os.MkdirAll(build, 0o755); err != nil {
		return guestFiles{}, infra("%w", err)
	}
	k, image, err := r.buildImage(ctx, build)
	if err != nil {
		return guestFiles{}, err
	}
	share, err := r.freshShare(build)
	if err != nil {
		return guestFiles{}, err
	}
	if err := os.RemoveAll(r.out.ReportDir); err != nil {
		return guestFiles{}, infra("%w", err)
	}
	if err := os.MkdirAll(r.out.ReportDir, 0o755); err != nil {
		return guestFiles{}, infra("%w", err)
	}
	return guestFiles{kernel: k.image, initramfs: image, share: share}, nil
}

func (r *runner) bootAndReport(ctx context.Context, g guestFiles) error {
	bootErr := r.stage("boot", func() (string, error) { return r.boot(ctx, g.kernel, g.initramfs, g.share) })
	// The report is written whatever happened to the guest: a timeout or a
	// panic still leaves a console log and possibly partial results.
	return r.stage("report", func() (string, error) { return "", r.report(g.share, bootErr) })
}

func (r *runner) freshShare(build string) (string, error) {
	share := filepath.Join(build, "results")
	if err := os.RemoveAll(share); err != nil {
		return "", infra("%w", err)
	}
	if err := os.MkdirAll(share, 0o755); err != nil {
		return "", infra("%w", err)
	}
	return share, nil
}

// Shell builds the image as Run does and boots it to an interactive shell.
func Shell(ctx context.Context, cfg Config) error {
	r := newRunner(cfg)
	build := filepath.Join(r.cfg.OutDir, "build", cfg.Arch.Name+"-"+cfg.Flavour)
	if err := os.MkdirAll(build, 0o755); err != nil {
		return err
	}
	k, image, err := r.buildImage(ctx, build)
	if err != nil {
		return err
	}
	c := r.vmConfig(k.image, image, "")
	c.Timeout = 0
	return vm.Shell(ctx, c)
}

// buildImage runs the build stages: the kernel, the module, the guest
// binaries and the initramfs.
func (r *runner) buildImage(ctx context.Context, build string) (kernel, string, error) {
	var k kernel
	if err := r.stage("kernel", func() (string, error) { return r.buildKernel(ctx, &k) }); err != nil {
		return k, "", err
	}
	var ko string
	if err := r.stage("module", func() (string, error) { return r.buildModule(ctx, k, build, &ko) }); err != nil {
		return k, "", err
	}
	var bins binaries
	if err := r.stage("specs", func() (string, error) { return r.buildBinaries(ctx, build, k, &bins) }); err != nil {
		return k, "", err
	}
	image := filepath.Join(build, "initramfs.cpio")
	if err := r.stage("initramfs", func() (string, error) { return r.buildInitramfs(ko, bins, image) }); err != nil {
		return k, "", err
	}
	return k, image, nil
}
