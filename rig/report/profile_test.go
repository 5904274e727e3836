package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A run whose stages make test logged shows where its time went, each
// target inside the stage that ran it with its boot split into boot to
// init, the suites and power-off; the next run says which stages moved.
func TestProfileOnThePageAndSinceLastTime(t *testing.T) {
	withProfile := func(id string, start time.Time, deps, qemu time.Duration) *RunReport {
		r := greenRun(t)
		r.RunID = id
		for i, tr := range r.Targets {
			tr.Start = start.Add(deps + time.Duration(i+1)*time.Second)
			tr.BootToInit = 3 * time.Second
			tr.Stages = []Stage{{Name: "specs", Duration: 2 * time.Second}, {Name: BootStage, Duration: 40 * time.Second}}
		}
		log := filepath.Join(t.TempDir(), id+".tsv")
		s0 := float64(start.UnixNano()) / 1e9
		text := fmt.Sprintf("deps\t%.3f\t%.3f\t0\nqemu-test-all\t%.3f\t%.3f\t0\n",
			s0, s0+deps.Seconds(), s0+deps.Seconds(), s0+deps.Seconds()+qemu.Seconds())
		if err := os.WriteFile(log, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.AddProfile(log); err != nil {
			t.Fatal(err)
		}
		return r
	}
	start := time.Unix(1_800_000_000, 0)
	then := withProfile("then", start, 5*time.Second, 10*time.Minute)
	now := withProfile("now", start.Add(time.Hour), 5*time.Second, 4*time.Minute)
	p := now.Profile
	if p == nil || len(p.Stages) != 2 || len(p.Stages[1].Guests) != 2 {
		t.Fatalf("profile: %+v", p)
	}
	parts := p.Stages[1].Guests[0].Parts
	var names []string
	for _, pt := range parts {
		names = append(names, pt.Name)
	}
	if fmt.Sprint(names) != "[specs boot to init device industrial power-off and collect]" {
		t.Fatalf("parts: %v", names)
	}
	var suites time.Duration
	for _, s := range now.Targets[0].Suites {
		suites += s.Duration
	}
	if last := parts[len(parts)-1].Duration; last != 37*time.Second-suites {
		t.Fatalf("power-off %v, suites %v", last, suites)
	}
	now.Compare(then)
	if len(now.Changes.Stages) != 2 || now.Changes.Stages[1].Stage != "qemu-test-all" {
		t.Fatalf("stage changes: %+v", now.Changes.Stages)
	}
	_, page := render(t, now)
	mustContain(t, page, `<h2 id="profile">Where the time went</h2>`, "qemu-test-all", "98.0%",
		"boot to init 3s", "power-off and collect", `id="stage-changes"`, "qemu-test-all: 10m0s → 4m0s")
}

// Without a log (rig run by hand) the run has no profile and the page no
// such section.
func TestNoProfileWithoutALog(t *testing.T) {
	r := greenRun(t)
	if err := r.AddProfile(filepath.Join(t.TempDir(), "none.tsv")); err != nil || r.Profile != nil {
		t.Fatalf("%v, %+v", err, r.Profile)
	}
	_, page := render(t, r)
	if strings.Contains(page, "Where the time went") {
		t.Fatal("a profile section without a profile")
	}
}

// Suites side by side count once, as their wall time; each is shown
// within it.
func TestProfileGuestWithSuitesSideBySide(t *testing.T) {
	tr := &TargetReport{TargetMeta: TargetMeta{Name: "x86_64", Total: 60 * time.Second,
		Stages:     []Stage{{Name: "specs", Duration: 2 * time.Second}, {Name: BootStage, Duration: 50 * time.Second}},
		BootToInit: 5 * time.Second, Streams: 2, SuitesWall: 40 * time.Second},
		Suites: []SuiteTime{{Name: "core", Duration: 30 * time.Second}, {Name: "model", Duration: 25 * time.Second}}}
	g := ProfileGuest(tr)
	want := "specs 2s, boot to init 5s, suites, 2 side by side 40s (core 30s, model 25s), power-off and collect 5s"
	if got := g.PartsText(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
