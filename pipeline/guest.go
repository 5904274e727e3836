package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbus-project/kbus/report"
	"github.com/kbus-project/kbus/results"
	"github.com/kbus-project/kbus/vm"
)

const serialLog = "serial.log"

// DefaultLabels is the label filter when none is given: everything but the
// minutes-long soak and the two-machine specs, which make test runs on
// their own.
const DefaultLabels = "!soak && !pair"

// timeouts returns the host's hard limit for the guest and the guest's own
// watchdog, which fires first so that a hung suite is reported by name; the
// margin covers the boot and writing the results.
func (r *runner) timeouts() (host, guest time.Duration) {
	host = r.cfg.Timeout
	if host == 0 {
		host = r.cfg.Arch.Timeout
		if r.cfg.Flavour == "debug" {
			host *= 3 // KASAN, lockdep and kmemleak under emulation
		}
	}
	margin := max(host/10, 15*time.Second)
	return host, max(host-margin, host/2)
}

func (r *runner) vmConfig(kernelImage, image, share string) vm.Config {
	host, guest := r.timeouts()
	args := []string{"rig.timeout=" + guest.String()}
	if r.cfg.Mode == "bench" {
		args = append(args, "rig.mode=bench")
	}
	labels := r.cfg.Labels
	if labels == "" {
		labels = DefaultLabels
	}
	args = append(args, fmt.Sprintf("rig.labels=%q", labels))
	var link *vm.Link
	if n := r.cfg.Net; n != nil {
		args = append(args, "rig.ip="+n.IP, "rig.peer="+n.Peer)
		link = &n.Link
	}
	args = append(args, r.cfg.KernelArgs...)
	return vm.Config{
		Arch:       r.cfg.Arch,
		Kernel:     kernelImage,
		Initramfs:  image,
		ResultsDir: share,
		ShareTag:   results.MountTag,
		KernelArgs: args,
		Timeout:    host,
		Link:       link,
	}
}

func (r *runner) boot(ctx context.Context, kernelImage, image, share string) (string, error) {
	serial, err := os.Create(filepath.Join(r.out.ReportDir, serialLog))
	if err != nil {
		return "", infra("%w", err)
	}
	defer serial.Close()
	c := r.vmConfig(kernelImage, image, share)
	c.Serial = serial
	r.logf("booting (timeout %v): console in %s", c.Timeout, serial.Name())
	res, err := vm.Run(ctx, c)
	r.out.Cmdline = res.Cmdline
	r.logf("qemu: %s", res.Cmdline)
	if err != nil {
		return "", infra("%w", err)
	}
	return "", nil
}

// report reads what the guest left, decides the verdict and writes the
// report files. bootErr is the boot stage's error, if any.
func (r *runner) report(share string, bootErr error) error {
	dir := r.out.ReportDir
	fail := func(format string, a ...any) { r.out.Reasons = append(r.out.Reasons, fmt.Sprintf(format, a...)) }

	console, _ := os.ReadFile(filepath.Join(dir, serialLog))
	r.out.Splats = append(r.out.Splats, report.FindConsoleSplats(serialLog, string(console))...)

	dmesg, err := os.ReadFile(filepath.Join(share, results.DmesgFile))
	if err == nil {
		r.out.Splats = append(r.out.Splats, report.FindSplats(results.DmesgFile, string(dmesg))...)
		if err := os.WriteFile(filepath.Join(dir, "dmesg.txt"), dmesg, 0o644); err != nil {
			return infra("%w", err)
		}
	}
	leaks, _ := filepath.Glob(filepath.Join(share, results.KmemleakDir, "*.txt"))
	for _, l := range leaks {
		b, err := os.ReadFile(l)
		if err != nil {
			return infra("%w", err)
		}
		name := "kmemleak-" + filepath.Base(l)
		r.out.Splats = append(r.out.Splats, report.FindSplats(name, string(b))...)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return infra("%w", err)
		}
	}

	status, statusErr := results.ReadStatus(share)
	if status != nil {
		r.out.Boot = status.BootToInit
	}

	var jsonPaths, junitPaths []string
	if status != nil && r.cfg.Mode != "bench" {
		for _, s := range status.Suites {
			junit, js := results.SuiteReportPaths(share, s.Name)
			if _, err := os.Stat(js); err != nil {
				fail("suite %s exited %d without a report %s", s.Name, s.ExitCode, strings.TrimSpace(s.Error))
				continue
			}
			jsonPaths = append(jsonPaths, js)
			junitPaths = append(junitPaths, junit)
			if s.Error != "" {
				fail("suite %s: %s", s.Name, s.Error)
			}
		}
	}
	reports, err := report.ReadReports(jsonPaths...)
	if err != nil {
		return infra("%w", err)
	}
	r.out.Summary = report.Summarize(reports)
	if err := report.WriteFiles(dir, share, reports, junitPaths); err != nil {
		return infra("%w", err)
	}

	if len(r.out.Splats) > 0 {
		fail("kernel splat: %d line(s) in dmesg/console, first: %s", len(r.out.Splats), r.out.Splats[0].Text)
	}
	if r.out.Summary.Failed > 0 {
		fail("%d spec(s) failed", r.out.Summary.Failed)
	}
	if r.cfg.Mode == "bench" {
		if err := r.benchReport(share, status); err != nil {
			return err
		}
	} else if status != nil && status.Error == "" && r.out.Summary.Run == 0 {
		fail("no spec ran")
	}
	if status != nil && status.Phase == "done" && !status.ModuleUnloaded {
		fail("kbus.ko could not be unloaded")
	}
	switch {
	case bootErr != nil:
		r.out.Verdict = Infra
		return bootErr
	case errors.Is(statusErr, results.ErrNoStatus):
		r.out.Verdict = Infra
		return infra("%w", statusErr)
	case statusErr != nil:
		r.out.Verdict = Infra
		return infra("%w", statusErr)
	case status.Error != "":
		r.out.Verdict = Infra
		return infra("guest error in phase %s: %s", status.Phase, status.Error)
	case len(r.out.Reasons) > 0:
		r.out.Verdict = Fail
	}
	return nil
}

// benchReport keeps the benchmark's figures and fails the run if the
// benchmark did not complete.
func (r *runner) benchReport(share string, status *results.Status) error {
	b, err := os.ReadFile(filepath.Join(share, results.BenchFile))
	if err == nil {
		r.out.Bench = string(b)
		if err := os.WriteFile(filepath.Join(r.out.ReportDir, results.BenchFile), b, 0o644); err != nil {
			return infra("%w", err)
		}
	}
	if status == nil {
		return nil
	}
	for _, s := range status.Suites {
		if s.ExitCode != 0 {
			r.out.Reasons = append(r.out.Reasons, fmt.Sprintf("the benchmark exited %d %s", s.ExitCode, s.Error))
		}
	}
	if len(status.Suites) == 0 && status.Error == "" {
		r.out.Reasons = append(r.out.Reasons, "the benchmark did not run")
	}
	return nil
}
