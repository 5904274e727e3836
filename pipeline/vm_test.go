//go:build vmtest

// These tests boot real guests to check that the runner tells a failing
// spec, a hung guest and a crashed guest apart, and always ends in time.
// They need the x86_64 kernel (built and cached on first use) and QEMU:
//
//	go test -tags vmtest ./pipeline/
package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/arch"
)

func vmConfig(t *testing.T, suites []string, args ...string) Config {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cache := os.Getenv("KBUS_RIG_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "kbus-rig")
	}
	a, err := arch.Lookup("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Root: root, Arch: a, OutDir: t.TempDir(), CacheDir: cache,
		Suites: suites, KernelArgs: args, Log: testWriter{t},
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

func TestFailingSpecIsReportedByName(t *testing.T) {
	o := Run(context.Background(), vmConfig(t, []string{"pipeline/testdata/failing"}))
	if o.Verdict != Fail || o.Verdict.ExitCode() == 0 {
		t.Fatalf("verdict %v (reasons %q), want FAIL with a non-zero exit", o.Verdict, o.Reasons)
	}
	if o.Summary.Run != 2 || o.Summary.Passed != 1 || o.Summary.Failed != 1 {
		t.Errorf("summary %+v, want 2 run, 1 passed, 1 failed", o.Summary)
	}
	if len(o.Summary.Failures) != 1 || !strings.Contains(o.Summary.Failures[0].Spec, "fails on purpose") {
		t.Fatalf("failures %v, want the spec 'fails on purpose'", o.Summary.Failures)
	}
	junit, err := os.ReadFile(filepath.Join(o.ReportDir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(junit), "fails on purpose") || !strings.Contains(string(junit), `failures="1"`) {
		t.Errorf("junit.xml does not name the failed spec:\n%s", junit)
	}
}

func TestHungGuestEndsAtTheGuestWatchdog(t *testing.T) {
	cfg := vmConfig(t, []string{"specs/device"}, "rig.fault=hang")
	cfg.Timeout = 30 * time.Second
	start := time.Now()
	o := Run(context.Background(), cfg)
	if o.Verdict != Infra {
		t.Fatalf("verdict %v, want an infrastructure error; reasons %q", o.Verdict, o.Reasons)
	}
	if !strings.Contains(strings.Join(o.Reasons, "\n"), "guest watchdog") {
		t.Errorf("reasons %q do not mention the guest watchdog", o.Reasons)
	}
	if d := time.Since(start); d > cfg.Timeout+time.Minute {
		t.Errorf("run took %v, limit was %v", d, cfg.Timeout)
	}
}

func TestHungGuestIsKilledAtTheHostTimeout(t *testing.T) {
	// A guest watchdog far beyond the host's limit: only QEMU's kill ends it.
	cfg := vmConfig(t, []string{"specs/device"}, "rig.fault=hang", "rig.timeout=1h")
	cfg.Timeout = 20 * time.Second
	start := time.Now()
	o := Run(context.Background(), cfg)
	if o.Verdict != Infra {
		t.Fatalf("verdict %v, want an infrastructure error; reasons %q", o.Verdict, o.Reasons)
	}
	if !strings.Contains(strings.Join(o.Reasons, "\n"), "guest timed out") {
		t.Errorf("reasons %q do not say the guest timed out", o.Reasons)
	}
	if d := time.Since(start); d > cfg.Timeout+time.Minute {
		t.Errorf("run took %v, limit was %v", d, cfg.Timeout)
	}
}

func TestKernelPanicEndsTheRunWithAReport(t *testing.T) {
	o := Run(context.Background(), vmConfig(t, []string{"specs/device"}, "rig.fault=kernel-panic"))
	if o.Verdict != Infra {
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
	o := Run(context.Background(), vmConfig(t, []string{"specs/device"}, "rig.fault=init-panic"))
	if o.Verdict != Infra {
		t.Fatalf("verdict %v, want an infrastructure error; reasons %q", o.Verdict, o.Reasons)
	}
	if !strings.Contains(strings.Join(o.Reasons, "\n"), "uinit panicked") {
		t.Errorf("reasons %q do not report the init's panic", o.Reasons)
	}
}
