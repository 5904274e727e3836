package pipeline

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/target"
)

func doneRun(times map[string]time.Duration) *guestproto.Status {
	st := &guestproto.Status{Phase: guestproto.PhaseDone}
	for _, n := range []string{"api", "core", "device", "model"} {
		if d, ok := times[n]; ok {
			st.Suites = append(st.Suites, guestproto.SuiteResult{Name: n, Duration: d})
		}
	}
	return st
}

// A target's next run starts its suites longest first, by the times of its
// last complete run; a new target borrows another's times for the same
// specs; nothing is kept of a run that stopped early or repeated its suites.
func TestTheNextRunStartsTheLongestSuitesFirst(t *testing.T) {
	cache := t.TempDir()
	x86 := newRunner(Config{Target: target.MustLookup("x86_64"), CacheDir: cache, Log: os.Stderr})
	x86.out.Name = "x86_64"
	if got := x86.firstSuites(); got != nil {
		t.Fatalf("a first run has no times, yet its order is %v", got)
	}
	if err := x86.recordTimes(doneRun(map[string]time.Duration{
		"api": 3 * time.Second, "core": 11 * time.Second, "device": time.Second, "model": 20 * time.Second,
	})); err != nil {
		t.Fatal(err)
	}
	want := []string{"model", "core", "api", "device"}
	if got := x86.firstSuites(); !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if !strings.Contains(strings.Join(x86.vmConfig(guestFiles{}).KernelArgs, " "), "rig.first=model,core,api,device") {
		t.Errorf("the guest is not told: %v", x86.vmConfig(guestFiles{}).KernelArgs)
	}

	arm := newRunner(Config{Target: target.MustLookup("arm64"), CacheDir: cache, Log: os.Stderr})
	arm.out.Name = "arm64"
	if got := arm.firstSuites(); !slices.Equal(got, want) {
		t.Errorf("a new target's order %v, want x86_64's %v", got, want)
	}
	other := newRunner(Config{Target: target.MustLookup("arm64"), CacheDir: cache, Labels: "stb", Log: os.Stderr})
	other.out.Name = "arm64"
	if got := other.firstSuites(); got != nil {
		t.Errorf("other labels borrowed the order %v", got)
	}

	stopped := doneRun(map[string]time.Duration{"device": time.Hour})
	stopped.Phase = "specs"
	if err := x86.recordTimes(stopped); err != nil {
		t.Fatal(err)
	}
	x86.cfg.Repeat = 3
	if err := x86.recordTimes(doneRun(map[string]time.Duration{"device": time.Hour})); err != nil {
		t.Fatal(err)
	}
	x86.cfg.Repeat = 0
	if got := x86.firstSuites(); !slices.Equal(got, want) {
		t.Errorf("after a stopped and a repeated run the order is %v, want %v", got, want)
	}
}
