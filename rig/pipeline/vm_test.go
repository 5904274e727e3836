//go:build vmtest

// These tests boot real guests to check that the runner tells a failing
// spec, a hung guest and a crashed guest apart, and always ends in time.
// They need the x86_64 kernel (built and cached on first use) and QEMU:
//
//	go test -tags vmtest ./rig/pipeline/
package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

func vmConfig(t *testing.T, suites []string, args ...string) Config {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cache := os.Getenv("KBUS_RIG_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "kbus-rig")
	}
	return Config{
		Root: root, Target: target.MustLookup(target.X86_64), OutDir: t.TempDir(), CacheDir: cache,
		Suites: suites, KernelArgs: args, Log: testWriter{t},
	}
}

// fault is the kernel argument that injects a fault into the guest.
func fault(name string) string { return guestproto.ArgFault + "=" + name }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

func TestFailingSpecIsReportedByName(t *testing.T) {
	t.Parallel()
	o := Run(context.Background(), vmConfig(t, []string{"rig/pipeline/testdata/failing"}))
	if o.Verdict != report.Fail || o.Verdict.ExitCode() == 0 {
		t.Fatalf("verdict %v (reasons %q), want FAIL with a non-zero exit", o.Verdict, o.Reasons)
	}
	if o.Summary.Run != 2 || o.Summary.Passed != 1 || o.Summary.Failed != 1 {
		t.Errorf("summary %+v, want 2 run, 1 passed, 1 failed", o.Summary)
	}
	if len(o.Summary.Failures) != 1 || !strings.Contains(o.Summary.Failures[0].Spec, "fails on purpose") {
		t.Fatalf("failures %v, want the spec 'fails on purpose'", o.Summary.Failures)
	}
	junit, err := os.ReadFile(filepath.Join(o.ReportDir, report.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(junit), "fails on purpose") || !strings.Contains(string(junit), `failures="1"`) {
		t.Errorf("junit.xml does not name the failed spec:\n%s", junit)
	}
}

// A hung guest ends at its own watchdog, or, when that is set far beyond
// the host's limit, at QEMU's kill; either way in time and as an
// infrastructure error that says which. The watchdog counts from the
// init's start, so it is set well inside the host's limit: on a machine
// busy building kernels (a cold make test) a boot to init took over 15 s.
// Only the boot is timed: a cold cache adds minutes of building before it.
func TestHungGuestEndsInTime(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		args    []string
		timeout time.Duration
		reason  string
	}{
		{"at the guest watchdog", []string{guestproto.ArgTimeout + "=10s"}, time.Minute, "guest watchdog"},
		{"at the host timeout", []string{guestproto.ArgTimeout + "=1h"}, 20 * time.Second, "guest timed out"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := vmConfig(t, []string{"specs/device"}, append([]string{fault(guestproto.FaultHang)}, c.args...)...)
			cfg.Timeout = c.timeout
			o := Run(context.Background(), cfg)
			if o.Verdict != report.Infra {
				t.Fatalf("verdict %v, want an infrastructure error; reasons %q", o.Verdict, o.Reasons)
			}
			if !strings.Contains(strings.Join(o.Reasons, "\n"), c.reason) {
				t.Errorf("reasons %q do not say %q", o.Reasons, c.reason)
			}
			var boot time.Duration
			for _, st := range o.Stages {
				if st.Name == report.BootStage {
					boot = st.Duration
				}
			}
			if boot == 0 || boot > cfg.Timeout+15*time.Second {
				t.Errorf("the boot took %v, limit was %v", boot, cfg.Timeout)
			}
		})
	}
}

func TestKernelPanicEndsTheRunWithAReport(t *testing.T) {
	t.Parallel()
	o := Run(context.Background(), vmConfig(t, []string{"specs/device"}, fault(guestproto.FaultKernelPanic)))
	if o.Verdict != report.Infra {
		t.Fatalf("verdict %v, want an infrastructure error; reasons %q", o.Verdict, o.Reasons)
	}
	reasons := strings.Join(o.Reasons, "\n")
	if !strings.Contains(reasons, "guest did not report") {
		t.Errorf("reasons %q do not say the guest did not report", o.Reasons)
	}
	if !strings.Contains(reasons, "kernel splat") {
		t.Errorf("reasons %q do not mention the kernel splat", o.Reasons)
	}
}

func TestInitPanicIsReportedByTheGuest(t *testing.T) {
	t.Parallel()
	o := Run(context.Background(), vmConfig(t, []string{"specs/device"}, fault(guestproto.FaultInitPanic)))
	if o.Verdict != report.Infra {
		t.Fatalf("verdict %v, want an infrastructure error; reasons %q", o.Verdict, o.Reasons)
	}
	if !strings.Contains(strings.Join(o.Reasons, "\n"), "uinit panicked") {
		t.Errorf("reasons %q do not report the init's panic", o.Reasons)
	}
}
