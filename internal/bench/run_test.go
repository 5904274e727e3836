package bench

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEveryTargetNamesMeasuredFigures(t *testing.T) {
	names := map[string]bool{}
	for _, m := range measurements(context.Background(), Config{N: 100}, true) {
		for _, n := range m.names {
			if names[n] {
				t.Errorf("figure %q measured twice", n)
			}
			names[n] = true
		}
	}
	for _, n := range append(cFigures(true), allPeerFigures()...) {
		names[n] = true
	}
	for _, tg := range targets {
		if !names[tg.num] || !names[tg.den] {
			t.Errorf("target %q uses a figure nobody measures: %q / %q", tg.what, tg.num, tg.den)
		}
	}
}

func TestMeasureRepeatsAndTearsDown(t *testing.T) {
	var runs, torn int
	m := measurement{names: []string{"a", "b"}, unit: "x",
		setup: func() (func(), error) { return func() { torn++ }, nil },
		run:   func() ([]float64, error) { runs++; return []float64{float64(runs), 10 * float64(runs)}, nil },
	}
	figs, err := m.measure(3)
	if err != nil {
		t.Fatal(err)
	}
	if runs != 3 || torn != 1 || len(figs) != 2 || figs[0].Median() != 2 || figs[1].Median() != 20 {
		t.Errorf("runs %d, teardowns %d, figures %v", runs, torn, figs)
	}
	m.run = func() ([]float64, error) { return nil, errors.New("lost a message") }
	if _, err := m.measure(3); err == nil || !strings.Contains(err.Error(), "a: lost a message") {
		t.Errorf("error %v", err)
	}
}

func TestJudge(t *testing.T) {
	figs := map[string]Figure{"n": {Samples: []float64{3}}, "d": {Samples: []float64{4}}}
	for _, c := range []struct {
		t    target
		want string
	}{
		{target{what: "w", num: "n", den: "d", limit: 0.5, atLeast: true}, "0.75 >= 0.50  met"},
		{target{what: "w", num: "n", den: "d", limit: 0.5}, "0.75 <= 0.50  NOT MET"},
		{target{what: "w", num: "n", den: "missing", limit: 0.5}, "no figure"},
	} {
		if got := c.t.judge(figs); !strings.HasSuffix(got, c.want) {
			t.Errorf("%+v: %q, want it to end %q", c.t, got, c.want)
		}
	}
}

// The names the Go side expects are the ones the C program prints.
func TestCFiguresAreWhatTheProgramPrints(t *testing.T) {
	src, err := os.ReadFile("../../clients/c/kbus_bench.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range cFigures(true) {
		if strings.Contains(n, "fan-out") {
			continue
		}
		if !strings.Contains(string(src), `"`+n+`"`) {
			t.Errorf("kbus_bench.c does not print %q", n)
		}
	}
	for _, f := range []string{cFanOne, cFanOriginal, cFanMany} {
		if !strings.Contains(string(src), `"`+f+`"`) {
			t.Errorf("kbus_bench.c does not print %q", f)
		}
	}
}

func TestParseC(t *testing.T) {
	figs, err := ParseC(strings.NewReader("figure\tc: x\tmsg/s\t1.5 2 3\nfigure\tc: y\tµs\t4\n"))
	if err != nil || len(figs) != 2 || figs[0].Median() != 2 || figs[1].Unit != "µs" {
		t.Fatalf("%v %v", figs, err)
	}
	for _, bad := range []string{"oops\n", "figure\tc: x\tmsg/s\t\n", "figure\tc: x\tmsg/s\tNaNa\n"} {
		if _, err := ParseC(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// "^c" names every row of the C program and none of the Go rows, so that
// rig bench -focus '^c' can measure a module the Go figures do not run on.
func TestFocusCPicksTheCProgramAlone(t *testing.T) {
	if _, err := Run(context.Background(), io.Discard, Config{Focus: "("}); err == nil ||
		!strings.Contains(err.Error(), "focus") {
		t.Errorf("a bad focus: %v, want an error that names it", err)
	}
	for _, m := range measurements(context.Background(), Config{N: 100}, true) {
		for _, n := range m.names {
			if strings.HasPrefix(n, "c") {
				t.Errorf("Go row %q would run under -focus '^c'", n)
			}
		}
	}
	for _, n := range cFigures(true) {
		if !strings.HasPrefix(n, "c") {
			t.Errorf("C row %q would not run under -focus '^c'", n)
		}
	}
}

// A module without SENDMSG and RECVMSG gets only the original calls'
// figures from the C program (its has_onecall), and RunC takes them; any
// other set is refused.
func TestRunCTakesTheOriginalCallsAlone(t *testing.T) {
	prog := func(names []string) string {
		var b strings.Builder
		b.WriteString("#!/bin/sh\ncat <<'EOF'\n")
		for _, n := range names {
			b.WriteString("figure\t" + n + "\tmsg/s\t1 2 3\n")
		}
		b.WriteString("EOF\n")
		path := filepath.Join(t.TempDir(), "kbus-bench")
		if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	all, original := cFigures(true), cFigures(false)
	for _, n := range original {
		if strings.Contains(n, "SENDMSG") {
			t.Errorf("%q is not a figure of the original calls", n)
		}
	}
	if len(original) != 9 || len(all) != 20 {
		t.Fatalf("%d figures of the original calls and floors, want 9; %d in all, want 20", len(original), len(all))
	}
	for _, names := range [][]string{all, original} {
		if figs, err := RunC(context.Background(), prog(names), 0, 3, 10); err != nil || len(figs) != len(names) {
			t.Errorf("%d figures: %d taken, %v", len(names), len(figs), err)
		}
	}
	if _, err := RunC(context.Background(), prog(original[1:]), 0, 3, 10); err == nil {
		t.Error("a figure short of the original calls' was taken")
	}
}
