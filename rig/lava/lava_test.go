package lava

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/target"
)

func TestQEMUJobWatchesEverySuite(t *testing.T) {
	b, _ := target.LookupBoard("orangepi")
	job := QEMUJob(b, "file:///x/orangepi.img", []string{"api", "core"})
	y, err := Marshal(job, "a job")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# a job", "device_type: qemu", "arch: arm", "to: tmpfs", "if=sd",
		"url: file:///x/orangepi.img", "method: qemu", "name: core", "start: <LAVA_SIGNAL_TESTSET START core>",
		"end: <LAVA_SIGNAL_TESTSET STOP>", "(?P<test_case_id>"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("job lacks %q:\n%s", want, y)
		}
	}
	// The monitors wait for a suite's start signal, printed once it has
	// run: LAVA's 30 s default lost the job to one slow spec.
	if c, a := job.Timeouts.Connection.Minutes, job.Actions[2].Test.Timeout.Minutes; c < a || c == 0 {
		t.Errorf("connection timeout %d min, shorter than the test's %d", c, a)
	}
	d := QEMUDevice(b, []string{"-accel", "tcg"}, "")
	if got := strings.Join(d.Actions.Boot.Methods.QEMU.Parameters.Options, "|"); got != "-nographic|-no-reboot|-accel tcg|-machine orangepi-pc|-m 1G" {
		t.Errorf("orangepi options %s", got)
	}
	bj := BoardJob(b, "https://farm/orangepi.img", []string{"api"})
	if bj.Actions[0].Deploy.To != "flasher" || bj.Actions[1].Boot.Method != "minimal" {
		t.Errorf("board job %+v", bj)
	}
}

func TestParseLogReadsTheCasesAndTheJobResult(t *testing.T) {
	log := `{"dt": "x", "lvl": "info", "msg": "start"}
{"dt": "x", "lvl": "results", "msg": {"case": "validate", "definition": "lava", "result": "pass"}}
{"dt": "x", "lvl": "results", "msg": {"case": "a_spec", "definition": "core", "extra": {"test_case_id": "A_spec"}, "result": "pass"}}
{"dt": "x", "lvl": "results", "msg": {"case": "b_spec", "definition": "core", "extra": {"test_case_id": "B_spec"}, "result": "fail"}}
not json
{"dt": "x", "lvl": "results", "msg": {"case": "job", "definition": "lava", "result": "pass"}}
`
	var out Record
	if err := parseLog(strings.NewReader(log), &out); err != nil {
		t.Fatal(err)
	}
	if out.Job != "pass" || len(out.Cases) != 2 || out.Cases[1] != (Case{Suite: "core", ID: "B_spec", Result: "fail"}) {
		t.Errorf("parsed %+v", out)
	}
	want := []Case{{"core", "A_spec", "pass"}, {"core", "B_spec", "fail"}}
	if flipped, err := Compare(out.Cases, want); err != nil || len(flipped) != 0 {
		t.Errorf("the same cases: flipped %v, %v", flipped, err)
	}
	// A spec that passed in the image-test run and failed in the job's
	// boot is no lost signal, but it is named.
	want[1].Result = "pass"
	flipped, err := Compare(out.Cases, want)
	if err != nil || len(flipped) != 1 || flipped[0] != (Case{"core", "B_spec", "fail"}) {
		t.Errorf("a changed result: flipped %v, %v", flipped, err)
	}
	// A case LAVA lost is.
	want = append(want, Case{"core", "C_spec", "pass"})
	_, err = Compare(out.Cases, want)
	if err == nil || !strings.Contains(err.Error(), "1 not in LAVA (core/C_spec)") {
		t.Errorf("a lost case: %v", err)
	}
}

// A job that runs a selection of suites is held to those suites' reports
// only; a suite the image-test run never reported is an error.
func TestExpectedHoldsTheJobToItsSuites(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, guestproto.SuitesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"device", "industrial"} {
		b, err := os.ReadFile(filepath.Join("..", "report", "testdata", s+".json"))
		if err != nil {
			t.Fatal(err)
		}
		_, p := guestproto.SuiteReportPaths(dir, s)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all, err := Expected(dir, []string{"device", "industrial"})
	if err != nil {
		t.Fatal(err)
	}
	some, err := Expected(dir, []string{"device"})
	if err != nil {
		t.Fatal(err)
	}
	if len(some) == 0 || len(some) >= len(all) {
		t.Fatalf("device alone: %d cases, both: %d", len(some), len(all))
	}
	for _, c := range some {
		if c.Suite != guestproto.LAVACaseID("device") {
			t.Errorf("case of suite %q expected of a job that runs device only", c.Suite)
		}
	}
	if _, err := Expected(dir, []string{"device", "core"}); err == nil || !strings.Contains(err.Error(), "suite core has no report") {
		t.Errorf("a suite without a report: %v", err)
	}
}
