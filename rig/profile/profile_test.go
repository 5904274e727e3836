package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const log = "deps\t100.5\t102.5\t0\n" +
	"qemu-test-all\t102.5\t202.5\t0\n" +
	"boards-test\t202.5\t302.5\t2\n"

func TestReadLogReadsWhatTimedShWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.tsv")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	steps, err := ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[1].Name != "qemu-test-all" || steps[2].Exit != 2 ||
		steps[0].End.Sub(steps[0].Start) != 2*time.Second {
		t.Fatalf("steps: %+v", steps)
	}
	if _, err := ReadLog(filepath.Join(t.TempDir(), "none.tsv")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing log: %v", err)
	}
}

func TestReadLogRefusesOtherLines(t *testing.T) {
	for _, bad := range []string{"deps 1 2 0\n", "deps\t2\t1\t0\n", "deps\tx\t2\t0\n", "deps\t1\t2\n"} {
		if _, err := parseLog(strings.NewReader(bad), "t"); !errors.Is(err, ErrBadLog) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestBuildPlacesGuestsInTheirStageWithShares(t *testing.T) {
	steps, err := parseLog(strings.NewReader(log), "t")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s float64) time.Time { return time.Unix(0, int64(s*1e9)) }
	p := Build(steps, []Guest{
		{Name: "qemu-arm64", Start: at(210)},
		{Name: "arm64", Start: at(150)},
		{Name: "x86_64", Start: at(103)},
		{Name: "by hand", Start: at(400)},
	})
	if p.Total != 202*time.Second {
		t.Fatalf("total %v", p.Total)
	}
	if g := p.Stages[1].Guests; len(g) != 2 || g[0].Name != "x86_64" || g[1].Name != "arm64" {
		t.Fatalf("qemu-test-all's guests: %+v", g)
	}
	if g := p.Stages[2].Guests; len(g) != 1 || g[0].Name != "qemu-arm64" {
		t.Fatalf("boards-test's guests: %+v", g)
	}
	if len(p.Elsewhere) != 1 {
		t.Fatalf("elsewhere: %+v", p.Elsewhere)
	}
	sum := 0.0
	for _, s := range p.Stages {
		sum += s.Share
	}
	if sum < 0.999 || sum > 1.001 || p.Stages[1].Share < 0.49 || p.Stages[1].Share > 0.5 {
		t.Fatalf("shares: %+v", p.Stages)
	}
	var b strings.Builder
	p.Print(&b)
	for _, want := range []string{"profile: 3m22s in 3 stage(s)", "boards-test (exit 2)", "49.5%", "qemu-test-all › arm64"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, b.String())
		}
	}
	if f := p.Figure(); len(f.Bars) != 3 || f.Bars[1].Median != 100 {
		t.Fatalf("figure: %+v", f)
	}
}

func TestCompareReportsOnlyMovesBeyondTheNoise(t *testing.T) {
	mk := func(ds ...time.Duration) *Profile {
		p := &Profile{}
		for i, d := range ds {
			p.Stages = append(p.Stages, Stage{Name: []string{"a", "b", "c"}[i], Duration: d})
			p.Total += d
		}
		return p
	}
	then := mk(10*time.Minute, 100*time.Second, 20*time.Second)
	now := mk(5*time.Minute, 125*time.Second, 45*time.Second)
	got := Compare(then, now)
	// a: 5 min less (reported); b: 25 s more (under 30 s); c: 25 s more
	// (more than a fifth, under 30 s); the total: 4m10s less.
	if len(got) != 2 || got[0].Stage != "the whole run" || got[1].Stage != "a" || got[1].Ratio() != 0.5 {
		t.Fatalf("changes: %+v", got)
	}
	if Compare(nil, now) != nil {
		t.Fatal("no baseline profile, yet changes")
	}
}

// Lanes side by side: the whole is the wall time from the first start to
// the last end, the stages' sum is more, and a guest goes to the stage
// it names even when another stage's time also covers its start.
func TestLanesSideBySide(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	log := ""
	for _, s := range []struct {
		name, lane string
		from, to   int
	}{{"deps", "", 0, 10}, {"qemu-test-6.12", "B", 10, 60}, {"qemu-test-all", "A", 10, 100}, {"boards-test", "B", 60, 120}} {
		log += fmt.Sprintf("%s\t%d.0\t%d.0\t0", s.name, at(s.from).Unix(), at(s.to).Unix())
		if s.lane != "" {
			log += "\t" + s.lane
		}
		log += "\n"
	}
	steps, err := parseLog(strings.NewReader(log), "lanes")
	if err != nil {
		t.Fatal(err)
	}
	p := Build(steps, []Guest{{Name: "x86_64-6.12", Stage: "qemu-test-6.12", Start: at(15), Duration: 40 * time.Second}})
	if p.Total != 120*time.Second || p.Busy != 210*time.Second {
		t.Fatalf("total %v, busy %v", p.Total, p.Busy)
	}
	if len(p.Stages[1].Guests) != 1 || len(p.Stages[2].Guests) != 0 || p.Stages[1].Lane != "B" {
		t.Fatalf("stages: %+v", p.Stages)
	}
	var out strings.Builder
	p.Print(&out)
	if !strings.Contains(out.String(), "2m0s in 4 stage(s), 3m30s of stages side by side") {
		t.Errorf("print:\n%s", out.String())
	}
}
