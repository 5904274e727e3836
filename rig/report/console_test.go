package report

import (
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/onsi/ginkgo/v2/types"
)

// What a board's console alone gives: the reports and the status the
// verdict is decided from.
func TestConsoleShareRebuildsTheResults(t *testing.T) {
	console := strings.Join([]string{
		"U-Boot 2023.01", "Starting kernel ...",
		"<LAVA_SIGNAL_TESTSET START core>",
		"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=binds RESULT=pass>",
		"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=replies RESULT=fail>",
		"<LAVA_SIGNAL_TESTSET STOP>",
		"<LAVA_SIGNAL_TESTSET START cli>",
		"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=sends RESULT=skip>",
		"<LAVA_SIGNAL_TESTSET STOP>",
		guestproto.StatusText(&guestproto.Status{Phase: guestproto.PhaseDone, ModuleUnloaded: true,
			Suites: []guestproto.SuiteResult{{Name: "cli"}, {Name: "core", ExitCode: 1}}}),
		guestproto.EndMarker, "reboot: Power down",
	}, "\r\n")
	share, dir := t.TempDir(), t.TempDir()
	ended, err := ConsoleShare(strings.NewReader(console), share)
	if err != nil || !ended {
		t.Fatalf("ended %v, err %v", ended, err)
	}
	res, err := Collect(share, dir, guestproto.ModeTest)
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Evidence(nil, guestproto.ModeTest)
	s := ev.Summary
	if s.Total != 3 || s.Passed != 1 || s.Failed != 1 || s.Skipped != 1 {
		t.Errorf("summary %+v", s)
	}
	v, reasons := Decide(ev)
	if v != Fail || !strings.Contains(strings.Join(reasons, " "), "1 spec(s) failed") {
		t.Errorf("verdict %v %q", v, reasons)
	}
	// Without the status line the guest never reported.
	share = t.TempDir()
	if _, err := ConsoleShare(strings.NewReader("U-Boot 2023.01\r\n"), share); err != nil {
		t.Fatal(err)
	}
	res, _ = Collect(share, t.TempDir(), guestproto.ModeTest)
	if v, _ := Decide(res.Evidence(nil, guestproto.ModeTest)); v != Infra {
		t.Errorf("no status: verdict %v", v)
	}
}

// The console's test sets must come in the suites' order, as a LAVA job's
// monitors wait for them one after another; the same cases in another
// order are refused.
func TestCheckSignalsWantsTheSuitesOrder(t *testing.T) {
	spec := func(text string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: types.SpecStatePassed}
	}
	res := &Results{
		Reports: []types.Report{
			{SpecReports: types.SpecReports{spec("binds")}},
			{SpecReports: types.SpecReports{spec("sends")}},
		},
		ReportSuites: []string{"core", "cli"},
	}
	block := func(set, id string) string {
		return "<LAVA_SIGNAL_TESTSET START " + set + ">\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=" + id +
			" RESULT=pass>\n<LAVA_SIGNAL_TESTSET STOP>\n"
	}
	inOrder := block("core", "binds") + block("cli", "sends") + guestproto.EndMarker + "\n"
	if _, err := CheckSignals(strings.NewReader(inOrder), res); err != nil {
		t.Errorf("suites' order refused: %v", err)
	}
	swapped := block("cli", "sends") + block("core", "binds") + guestproto.EndMarker + "\n"
	if _, err := CheckSignals(strings.NewReader(swapped), res); err == nil || !strings.Contains(err.Error(), "order") {
		t.Errorf("test sets out of order: err %v, want one about their order", err)
	}
}
