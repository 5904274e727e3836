package report

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/internal/rigtest"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// share writes what a guest that ran two suites leaves: one with its
// reports, one that died before writing any.
func share(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := types.Report{SuiteDescription: "core", SpecReports: types.SpecReports{
		spec("binds", types.SpecStatePassed), spec("sends", types.SpecStateFailed)}}
	junit, js := guestproto.SuiteReportPaths(dir, "core")
	b, _ := json.Marshal([]types.Report{r})
	rigtest.WriteFile(t, js, string(b))
	if err := reporters.GenerateJUnitReport(r, junit); err != nil {
		t.Fatal(err)
	}
	rigtest.WriteFile(t, guestproto.SuiteLogPath(dir, "core"), "suite output\n")
	rigtest.WriteFile(t, filepath.Join(dir, guestproto.DmesgFile), "[ 1.0] kbus: loaded\n[ 2.0] BUG: KASAN: use-after-free in kbus_deliver\n")
	rigtest.WriteFile(t, filepath.Join(dir, guestproto.KmemleakDir, "after-rmmod.txt"), "unreferenced object 0xffff8880 (size 64):\n")
	if err := guestproto.WriteStatus(dir, &guestproto.Status{Phase: guestproto.PhaseDone, ModuleUnloaded: true,
		Suites: []guestproto.SuiteResult{{Name: "core", ExitCode: 1}, {Name: "cli", ExitCode: 2}}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCollectCopiesAndScansWhatTheGuestLeft(t *testing.T) {
	dir := t.TempDir()
	rigtest.WriteFile(t, filepath.Join(dir, SerialFile), "[    0.000000] Linux version 6.1\nspec output: WARNING: not the kernel\n[    3.100000] Kernel panic - not syncing: oops\n")
	res, err := Collect(share(t), dir, guestproto.ModeTest)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusErr != nil || len(res.Reports) != 1 || strings.Join(res.Unreported, ",") != "cli" {
		t.Fatalf("status err %v, %d reports, unreported %q", res.StatusErr, len(res.Reports), res.Unreported)
	}
	var sources []string
	for _, s := range res.Splats {
		sources = append(sources, s.Source)
	}
	if got := strings.Join(sources, " "); got != "serial.log dmesg.txt kmemleak-after-rmmod.txt" {
		t.Errorf("splats found in %q", got)
	}
	for _, f := range []string{JUnitFile, JSONFile, DmesgFile, "kmemleak-after-rmmod.txt", "suites/core.log", "suites/core.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("report folder: %v", err)
		}
	}
	junit, _ := os.ReadFile(filepath.Join(dir, JUnitFile))
	if !strings.Contains(string(junit), `failures="1"`) {
		t.Errorf("merged junit.xml:\n%s", junit)
	}
	v, reasons := Decide(res.Evidence(nil, guestproto.ModeTest))
	if v != Fail || !strings.Contains(strings.Join(reasons, "\n"), "suite cli exited 2 without a report") {
		t.Errorf("%v %q", v, reasons)
	}
}

func TestCollectFromAGuestThatNeverReported(t *testing.T) {
	dir := t.TempDir()
	res, err := Collect(t.TempDir(), dir, guestproto.ModeTest)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.StatusErr, guestproto.ErrNoStatus) || res.Reports != nil {
		t.Errorf("status err %v, reports %v", res.StatusErr, res.Reports)
	}
	if v, _ := Decide(res.Evidence(nil, guestproto.ModeTest)); v != Infra {
		t.Errorf("verdict %v", v)
	}
	if _, err := os.Stat(filepath.Join(dir, JUnitFile)); err != nil {
		t.Errorf("no empty junit.xml: %v", err)
	}
}

func TestCollectKeepsTheBenchmarksFigures(t *testing.T) {
	sh, dir := t.TempDir(), t.TempDir()
	rigtest.WriteFile(t, filepath.Join(sh, guestproto.BenchFile), "kbus: 1 msg/s\n")
	if err := guestproto.WriteStatus(sh, &guestproto.Status{Mode: guestproto.ModeBench, Phase: guestproto.PhaseDone,
		ModuleUnloaded: true, Suites: []guestproto.SuiteResult{{Name: "kbusbench"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := Collect(sh, dir, guestproto.ModeBench)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bench != "kbus: 1 msg/s\n" {
		t.Errorf("bench %q", res.Bench)
	}
	if v, r := Decide(res.Evidence(nil, guestproto.ModeBench)); v != Pass {
		t.Errorf("%v %q", v, r)
	}
}

func TestCollectCopiesTheSuitesArtifacts(t *testing.T) {
	share, dir := t.TempDir(), t.TempDir()
	art := filepath.Join(share, guestproto.ArtifactsDir, "fuzz", "corpus")
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(art, "00001.json"), []byte("[]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(share, dir, guestproto.ModeTest); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fuzz", "corpus", "00001.json"))
	if err != nil || string(b) != "[]\n" {
		t.Fatalf("artifact not copied: %q %v", b, err)
	}
}
