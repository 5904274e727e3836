package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

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
