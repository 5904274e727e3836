package guestproto

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestLAVACaseIDs(t *testing.T) {
	if got := LAVACaseID("3. ioctls BIND: a listener (any name) works"); got != "3._ioctls_BIND_a_listener_any_name_works" {
		t.Errorf("id %q", got)
	}
	long := strings.Repeat("a spec with a long name ", 10)
	a, b := LAVACaseID(long+"one"), LAVACaseID(long+"two")
	if len(a) > maxCaseID || a == b || !strings.HasPrefix(a, "a_spec_with") {
		t.Errorf("cut ids %q and %q: want distinct, at most %d long", a, b, maxCaseID)
	}
}

func TestSignalsRoundTrip(t *testing.T) {
	reports := []types.Report{{SpecReports: []types.SpecReport{
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "passes", State: types.SpecStatePassed},
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "fails", State: types.SpecStateFailed},
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "filtered out", State: types.SpecStateSkipped},
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
		{LeafNodeType: types.NodeTypeAfterSuite, State: types.SpecStatePanicked},
	}}}
	lines := LAVASignals("core", reports)
	lines = append(lines, StatusText(&Status{Phase: PhaseDone, ModuleUnloaded: true}), EndMarker)
	var sr SignalReader
	var got []string
	for _, l := range lines {
		if s, ok := sr.Line("uinit noise " + l + "\r"); ok {
			got = append(got, s.Set+"/"+s.CaseID+"="+s.Result)
		}
	}
	if len(got) != 4 || got[0] != "core/passes=pass" || got[1] != "core/fails=fail" || got[2] != "core/filtered_out=skip" ||
		!strings.HasSuffix(got[3], "=fail") {
		t.Errorf("cases %q", got)
	}
	if !sr.Ended || sr.Status == nil || sr.Status.Phase != PhaseDone || !sr.Status.ModuleUnloaded {
		t.Errorf("end %v, status %+v", sr.Ended, sr.Status)
	}
}
