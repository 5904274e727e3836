package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/lava"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/vm"
)

// LAVAFiles are the job definitions written for one board.
type LAVAFiles struct {
	Dir       string
	QEMUJob   string // the job for LAVA's qemu device type
	Device    string // that device's dictionary, rendered, for lava-run
	BoardJob  string // the job for the real board on a farm; empty for QEMU-only profiles
	Image     BoardImage
	ReportDir string // where make image-test left this board's reports
}

// LAVADir is where a board's LAVA files go under OutDir.
func LAVADir(outDir, board string) string { return filepath.Join(outDir, "lava", board) }

// WriteLAVAJobs builds the board's image (cfg.Board) and writes its LAVA
// jobs under OutDir/lava/BOARD. A job that runs a selection of suites
// (cfg.Suites) gets an image of its own, BOARD-lava, so that the board's
// image stays the one image-test booted.
func WriteLAVAJobs(ctx context.Context, cfg Config) (*LAVAFiles, error) {
	if len(cfg.Suites) > 0 && cfg.Name == "" {
		cfg.Name = cfg.Board.Name + "-lava"
	}
	bi, err := BuildImage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b := *cfg.Board
	dir := LAVADir(cfg.OutDir, b.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(bi.Image)
	if err != nil {
		return nil, err
	}
	f := &LAVAFiles{Dir: dir, Image: bi, ReportDir: filepath.Join(cfg.OutDir, "reports", b.Name),
		QEMUJob: filepath.Join(dir, "qemu-job.yaml"), Device: filepath.Join(dir, "qemu-device.yaml")}
	write := func(path string, v any, comment string) error {
		data, err := lava.Marshal(v, comment)
		if err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	}
	url := "file://" + abs
	if err := write(f.QEMUJob, lava.QEMUJob(b, url, bi.Suites),
		fmt.Sprintf("KBUS rig: board %s booted in QEMU through its firmware (docs/boards.md).\n"+
			"Run here: lava-run --job-id 1 --output-dir DIR --device qemu-device.yaml qemu-job.yaml\n"+
			"On a server: put the image where the workers can fetch it, change url, lavacli jobs submit qemu-job.yaml", b.Name)); err != nil {
		return nil, err
	}
	dev := lava.QEMUDevice(b, vm.Accel(b.Target()), b.QEMUFirmware(bi.FirmwareRoot))
	if err := write(f.Device, dev, "The qemu device the QEMU job runs on, as lava-run reads it (a server renders its own)."); err != nil {
		return nil, err
	}
	if b.Hardware {
		f.BoardJob = filepath.Join(dir, "board-job.yaml")
		if err := write(f.BoardJob, lava.BoardJob(b, "https://YOUR-SERVER/"+filepath.Base(bi.Image), bi.Suites),
			fmt.Sprintf("KBUS rig: the real %s on a LAVA farm (docs/boards.md).\n"+
				"device_type is the farm's name for the board; its dictionary names the flasher\n"+
				"(SD mux, USB gadget) and the power commands. Set url, then: lavacli jobs submit board-job.yaml", b.Name)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// RunLAVA writes the board's jobs, runs the QEMU job with lava-run and
// sets what LAVA recorded against the board's last image-test run, suite
// by suite for the suites the job's image holds: the same test cases, each
// result as its own boot gave it (report.DecideLAVA decides). The record is nil when the job never ran.
func RunLAVA(ctx context.Context, cfg Config) (*LAVAFiles, *lava.Record, report.LAVAEvidence) {
	var e report.LAVAEvidence
	f, err := WriteLAVAJobs(ctx, cfg)
	if err != nil {
		e.JobErr = err
		return nil, nil, e
	}
	want, err := lava.Expected(f.ReportDir, f.Image.Suites)
	if err != nil {
		e.JobErr = err
		return f, nil, e
	}
	out, err := lava.Run(ctx, f.QEMUJob, f.Device, filepath.Join(f.Dir, "run"))
	if err != nil {
		e.JobErr = err
		return f, out, e
	}
	suites := map[string]bool{}
	for _, c := range out.Cases {
		suites[c.Suite] = true
		if c.Result == guestproto.LAVAFail {
			e.Failed++
		}
	}
	e.Cases, e.Suites = len(out.Cases), len(suites)
	flipped, err := lava.Compare(out.Cases, want)
	e.Mismatch = err
	for _, c := range flipped {
		e.Flipped = append(e.Flipped, c.String())
	}
	return f, out, e
}
