package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// A board's console carries the guest's results as LAVA signals
// (guestproto): read here into reports when nothing else comes back, and
// checked against the reports when the results partition does.

// ConsoleShare turns a board's console, when nothing else comes back
// from the board, into the results share the guest would have written:
// a JSON and JUnit report per LAVA test set, and the status from the
// guest's status line. It says whether the end marker went by.
func ConsoleShare(console io.Reader, share string) (ended bool, err error) {
	var sr guestproto.SignalReader
	sets := map[string]*types.Report{}
	var order []string
	err = eachLine(console, func(line string) {
		sig, ok := sr.Line(line)
		if !ok {
			return
		}
		rep := sets[sig.Set]
		if rep == nil {
			rep = &types.Report{SuitePath: "/specs", SuiteDescription: sig.Set, SuiteSucceeded: true}
			sets[sig.Set] = rep
			order = append(order, sig.Set)
		}
		sp := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: sig.CaseID, State: specState(sig.Result)}
		if sp.State == types.SpecStateFailed {
			rep.SuiteSucceeded = false
			sp.Failure.Message = "failed on the board (the console carries no more; the guest's own report is on the results partition)"
		}
		rep.SpecReports = append(rep.SpecReports, sp)
	})
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Join(share, guestproto.SuitesDir), 0o755); err != nil {
		return false, err
	}
	for _, name := range order {
		junit, js := guestproto.SuiteReportPaths(share, name)
		b, err := json.Marshal([]types.Report{*sets[name]})
		if err != nil {
			return false, err
		}
		if err := os.WriteFile(js, b, 0o644); err != nil {
			return false, err
		}
		if err := reporters.GenerateJUnitReport(*sets[name], junit); err != nil {
			return false, fmt.Errorf("writing %s: %w", junit, err)
		}
	}
	if sr.Status != nil {
		if err := guestproto.WriteStatus(share, sr.Status); err != nil {
			return false, err
		}
	}
	return sr.Ended, nil
}

func specState(result string) types.SpecState {
	switch result {
	case guestproto.LAVAPass:
		return types.SpecStatePassed
	case guestproto.LAVASkip:
		return types.SpecStateSkipped
	default:
		return types.SpecStateFailed
	}
}

// CheckSignals compares the console's LAVA test cases with the specs of
// the reports the guest wrote: a farm that reads only the console must see
// the same run. It says how many cases it checked.
func CheckSignals(console io.Reader, res *Results) (string, error) {
	sigs, ended, err := ReadSignals(console)
	if err != nil {
		return "", err
	}
	if !ended {
		return "", fmt.Errorf("the console never showed the guest's end marker %s", guestproto.EndMarker)
	}
	// What the guest should have printed, from the reports it wrote, and
	// the order of its test sets: the suites' order, which a LAVA job's
	// monitors wait for one after another (docs/boards.md, "LAVA").
	var want, wantSets []string
	for i, rep := range res.Reports {
		for j, s := range guestproto.LAVACases(res.ReportSuites[i], []types.Report{rep}) {
			want = append(want, s.CaseID+" "+s.Result)
			if j == 0 && (len(wantSets) == 0 || wantSets[len(wantSets)-1] != s.Set) {
				wantSets = append(wantSets, s.Set)
			}
		}
	}
	got := make([]string, len(sigs))
	var gotSets []string
	for i, s := range sigs {
		got[i] = s.CaseID + " " + s.Result
		if i == 0 || s.Set != sigs[i-1].Set {
			gotSets = append(gotSets, s.Set)
		}
	}
	if !slices.Equal(gotSets, wantSets) {
		return "", fmt.Errorf("the console's LAVA test sets come in the order %v, the suites ran in the order %v",
			gotSets, wantSets)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		return "", fmt.Errorf("the console's LAVA signals (%d test cases) differ from the results partition's reports (%d)",
			len(got), len(want))
	}
	return fmt.Sprintf("%d LAVA test cases on the console, as on the results partition", len(sigs)), nil
}

// ReadSignals reads a console log's LAVA test cases and whether the end
// marker went by.
func ReadSignals(rd io.Reader) ([]guestproto.Signal, bool, error) {
	var sr guestproto.SignalReader
	var sigs []guestproto.Signal
	err := eachLine(rd, func(line string) {
		if s, ok := sr.Line(line); ok {
			sigs = append(sigs, s)
		}
	})
	return sigs, sr.Ended, err
}

func eachLine(rd io.Reader, f func(string)) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		f(strings.TrimRight(sc.Text(), "\r"))
	}
	return sc.Err()
}
