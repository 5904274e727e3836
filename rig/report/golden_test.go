package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from what the pages render now")

// goldenRun is a recorded run with everything a page can show: a failing
// target beside a passing one, a baseline to compare with, and a profile.
func goldenRun(t *testing.T) *RunReport {
	start := time.Unix(1_800_000_000, 0).UTC()
	base := greenRun(t)
	withProfile(t, base, start.Add(-time.Hour), 400)
	r := failingRun(t)
	withProfile(t, r, start, 185)
	r.Compare(base)
	return r
}

// withProfile dates run r and gives it make test's stage log: set-up, then
// qemu-test-all for qemuSeconds, each target inside it.
func withProfile(t *testing.T, r *RunReport, start time.Time, qemuSeconds float64) {
	r.Date = start
	for i, tr := range r.Targets {
		tr.Start = start.Add(time.Duration(10+i) * time.Second)
		tr.BootToInit = 3 * time.Second
		tr.Stages = []Stage{{Name: "specs", Duration: 2 * time.Second}, {Name: BootStage, Duration: 40 * time.Second}}
	}
	log := filepath.Join(t.TempDir(), r.RunID+".tsv")
	s0 := float64(start.Unix())
	text := fmt.Sprintf("deps\t%.3f\t%.3f\t0\nqemu-test-all\t%.3f\t%.3f\t0\n", s0, s0+5, s0+5, s0+5+qemuSeconds)
	if err := os.WriteFile(log, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.AddProfile(log); err != nil {
		t.Fatal(err)
	}
}

// The pages are made from recorded input to the same bytes as the files
// in testdata/golden (go test ./rig/report -run Golden -update rewrites
// them after a change meant to show).
func TestPagesMatchTheGoldenFiles(t *testing.T) {
	dir, _ := render(t, goldenRun(t))
	pages := []string{HTMLFile}
	for _, tr := range goldenRun(t).Targets {
		pages = append(pages, filepath.Join(tr.Name, HTMLFile))
	}
	for _, p := range pages {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", p)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s differs from %s at byte %d: got %q, want %q", p, golden, i,
				got[i:min(len(got), i+80)], want[i:min(len(want), i+80)])
		}
	}
}
