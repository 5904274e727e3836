package guestproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Names in the results share.
const (
	StatusFile  = "status.json"
	DmesgFile   = "dmesg.txt"
	BenchFile   = "bench.txt"
	BenchJSON   = "bench.json" // the benchmark's figures ([]figure.Figure)
	KmemleakDir = "kmemleak"   // the scan after the module's unload: after-rmmod.txt
	// ArtifactsDir holds what a suite leaves for people to read or
	// reuse (the fuzzer's figures, new corpus entries, reproducers), one
	// folder per suite; the host copies each into the report folder.
	ArtifactsDir = "artifacts"
	SuitesDir    = "suites"
	// MountTag is the 9P tag the host shares the folder under.
	MountTag = "results"
)

// Phases the guest reports in Status.Phase; a failed run reports the phase
// it failed in, which is named in the guest's log.
const (
	PhaseStart = "start"
	PhaseDone  = "done"
)

// SuiteResult is what the guest records about one spec suite binary.
type SuiteResult struct {
	Name     string        `json:"name"`
	ExitCode int           `json:"exit_code"`
	Duration time.Duration `json:"duration_ns"`
	// Error is set when the suite could not be run or was killed.
	Error string `json:"error,omitempty"`
	// Member says the suite ran as Nobody in the Request's Member group,
	// not as root.
	Member bool `json:"member,omitempty"`
}

// Status is the guest's final word on a run.
type Status struct {
	// Mode is what the guest was asked to do.
	Mode Mode `json:"mode"`
	// Phase is where the guest got to: PhaseDone, or the phase that failed.
	Phase string `json:"phase"`
	// Error is set when the guest could not complete the run (module load
	// failed, suite timed out, init panicked); it is an infrastructure error,
	// unlike a failing spec.
	Error  string        `json:"error,omitempty"`
	Suites []SuiteResult `json:"suites"`
	// ModuleUnloaded reports whether rmmod kbus succeeded after the specs.
	ModuleUnloaded bool   `json:"module_unloaded"`
	Kernel         string `json:"kernel"`
	// BootTime is the guest's clock when its kernel started: the time of
	// dmesg's [0.000000], to place kernel lines beside spec events.
	BootTime   time.Time     `json:"boot_time"`
	BootToInit time.Duration `json:"boot_to_init_ns"`
	Duration   time.Duration `json:"duration_ns"`
	// Streams is how many suites ran side by side, SuitesWall the time
	// from the first suite's start to the last one's end (docs/testing.md,
	// "Suites side by side"); the suites' own durations add up to more.
	Streams    int           `json:"streams,omitempty"`
	SuitesWall time.Duration `json:"suites_wall_ns,omitempty"`
}

// ErrNoStatus means the guest never wrote its status file.
var ErrNoStatus = errors.New("guest did not report (no " + StatusFile + ")")

// WriteStatus writes s into dir atomically: to a temporary name, then renamed.
func WriteStatus(dir string, s *Status) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding status: %w", err)
	}
	tmp := filepath.Join(dir, StatusFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, StatusFile)); err != nil {
		return fmt.Errorf("publishing status: %w", err)
	}
	return nil
}

// ReadStatus reads the status file from dir. It returns an error wrapping
// ErrNoStatus when the guest did not write one.
func ReadStatus(dir string) (*Status, error) {
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoStatus
	}
	if err != nil {
		return nil, fmt.Errorf("reading status: %w", err)
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", StatusFile, err)
	}
	return &s, nil
}

// SuiteReportPaths returns the JUnit and JSON report paths of a suite.
func SuiteReportPaths(dir, suite string) (junit, jsonReport string) {
	base := filepath.Join(dir, SuitesDir, suite)
	return base + ".junit.xml", base + ".json"
}

// SuiteLogPath returns the path of a suite's console output.
func SuiteLogPath(dir, suite string) string {
	return filepath.Join(dir, SuitesDir, suite+".log")
}
