package report

import (
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/guestproto"
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
