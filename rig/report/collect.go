package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kbus-project/kbus/rig/figure"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/onsi/ginkgo/v2/types"
)

// Results is what one guest left behind, as read from its share.
type Results struct {
	Status    *guestproto.Status
	StatusErr error
	Reports   []types.Report
	// ReportSuites names the suite each of Reports came from.
	ReportSuites []string
	// Unreported names the suites that exited without a JSON report.
	Unreported   []string
	Splats       []Splat
	Bench        string // the benchmark's figures, in bench mode
	BenchFigures []figure.Figure
}

// Collect reads what a guest wrote into share and fills the report folder
// dir, which already holds the guest's console (SerialFile): the kernel's
// logs are copied and scanned for splats, the suites' reports merged and
// copied, the benchmark's figures kept. It fails only when the report
// folder cannot be written; what the guest did not leave is recorded in
// the Results for Decide.
func Collect(share, dir string, mode guestproto.Mode) (*Results, error) {
	res := &Results{}
	if err := res.collectLogs(share, dir); err != nil {
		return res, err
	}
	res.Status, res.StatusErr = guestproto.ReadStatus(share)
	var junitPaths []string
	if res.Status != nil && mode != guestproto.ModeBench {
		for _, s := range res.Status.Suites {
			junit, js := guestproto.SuiteReportPaths(share, s.Name)
			if _, err := os.Stat(js); err != nil {
				res.Unreported = append(res.Unreported, s.Name)
				continue
			}
			reports, err := ReadReports(js)
			if err != nil {
				return res, err
			}
			for range reports {
				res.ReportSuites = append(res.ReportSuites, s.Name)
			}
			res.Reports = append(res.Reports, reports...)
			junitPaths = append(junitPaths, junit)
		}
	}
	if err := WriteFiles(dir, share, res.Reports, junitPaths); err != nil {
		return res, err
	}
	// the suites' artifacts: share/artifacts/fuzz/... to dir/fuzz/...
	if err := copyFiles(filepath.Join(share, guestproto.ArtifactsDir), dir); err != nil {
		return res, fmt.Errorf("copying the suites' artifacts: %w", err)
	}
	if mode == guestproto.ModeBench {
		b, err := copyFile(share, dir, guestproto.BenchFile, guestproto.BenchFile)
		if err != nil {
			return res, err
		}
		res.Bench = string(b)
		if b, err = copyFile(share, dir, guestproto.BenchJSON, guestproto.BenchJSON); err != nil {
			return res, err
		}
		if b != nil {
			if err := json.Unmarshal(b, &res.BenchFigures); err != nil {
				return res, fmt.Errorf("decoding the benchmark's figures: %w", err)
			}
		}
	}
	return res, nil
}

// Evidence is what Decide needs of these results, with the rig's own
// error (if any) and the run's mode.
func (res *Results) Evidence(rigErr error, mode guestproto.Mode) Evidence {
	return Evidence{
		RigErr: rigErr, Mode: mode, Status: res.Status, StatusErr: res.StatusErr,
		Unreported: res.Unreported, Summary: Summarize(res.Reports), Splats: res.Splats,
	}
}

// collectLogs scans the console and copies dmesg and the kmemleak scans
// into dir, recording the splats each shows.
func (res *Results) collectLogs(share, dir string) error {
	console, _ := os.ReadFile(filepath.Join(dir, SerialFile))
	res.Splats = append(res.Splats, FindConsoleSplats(SerialFile, string(console))...)

	logs := [][2]string{{guestproto.DmesgFile, DmesgFile}}
	leaks, _ := filepath.Glob(filepath.Join(share, guestproto.KmemleakDir, "*.txt"))
	for _, l := range leaks {
		logs = append(logs, [2]string{filepath.Join(guestproto.KmemleakDir, filepath.Base(l)), KmemleakPrefix + filepath.Base(l)})
	}
	for _, l := range logs {
		b, err := copyFile(share, dir, l[0], l[1])
		if err != nil {
			return err
		}
		if b != nil {
			res.Splats = append(res.Splats, FindSplats(l[1], string(b))...)
		}
	}
	return nil
}

// copyFile copies share/src to dir/dst and returns its contents; a source
// the guest did not write is not an error, and returns nil.
func copyFile(share, dir, src, dst string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(share, src))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the guest's %s: %w", strings.TrimSuffix(src, ".txt"), err)
	}
	if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
		return nil, err
	}
	return b, nil
}
