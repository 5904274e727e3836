package lava

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/report"
)

// Case is one test case as LAVA recorded it: the suite (the monitor's
// name), the case id the guest printed, and the result.
type Case struct {
	Suite, ID, Result string
}

func (c Case) String() string { return c.Suite + "/" + c.ID + " " + c.Result }

// Record is what lava-run recorded of a job.
type Record struct {
	Job   string // the job's own result: pass, fail
	Error string // LAVA's error, if the job failed
	Cases []Case
	Log   string // lava-run's log (JSON lines)
}

// ErrLAVA means lava-run could not run the job, or LAVA failed it.
var ErrLAVA = errors.New("LAVA job failed")

// Run runs the job on the device with lava-run, locally (no server),
// keeping its log in dir.
func Run(ctx context.Context, job, device, dir string) (*Record, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := &Record{Log: filepath.Join(dir, "lava-run.log")}
	logf, err := os.Create(out.Log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, "lava-run", "--job-id", "1", "--output-dir", filepath.Join(dir, "output"),
		"--device", device, job)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: starting lava-run (make deps installs lava-dispatcher): %w", ErrLAVA, err)
	}
	done := make(chan error, 1)
	go func() { done <- parseLog(io.TeeReader(pr, logf), out) }()
	runErr := cmd.Wait()
	pw.Close()
	if err := <-done; err != nil {
		return out, err
	}
	if runErr != nil || out.Job != "pass" {
		return out, fmt.Errorf("%w: job result %q %s (lava-run: %v; log %s)", ErrLAVA, out.Job, out.Error, runErr, out.Log)
	}
	return out, nil
}

// parseLog reads lava-run's JSON lines for the results.
func parseLog(r io.Reader, out *Record) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var line struct {
			Lvl string          `json:"lvl"`
			Msg json.RawMessage `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Lvl != "results" {
			continue
		}
		var res struct {
			Case       string `json:"case"`
			Definition string `json:"definition"`
			Result     string `json:"result"`
			Extra      struct {
				TestCaseID string `json:"test_case_id"`
				Error      string `json:"error_msg"`
			} `json:"extra"`
		}
		if json.Unmarshal(line.Msg, &res) != nil {
			continue
		}
		switch {
		case res.Definition == "lava" && res.Case == "job":
			out.Job, out.Error = res.Result, res.Extra.Error
		case res.Definition == "lava":
		default:
			id := res.Extra.TestCaseID
			if id == "" {
				id = res.Case
			}
			out.Cases = append(out.Cases, Case{Suite: res.Definition, ID: id, Result: res.Result})
		}
	}
	return sc.Err()
}

// Expected are the cases a run's report folder says the console carried
// for the named suites: their JSON reports, as the guest turned them into
// signals. A suite without a report there is an error.
func Expected(reportDir string, suites []string) ([]Case, error) {
	if len(suites) == 0 {
		return nil, fmt.Errorf("lava: no suites to expect")
	}
	var cases []Case
	for _, suite := range suites {
		_, p := guestproto.SuiteReportPaths(reportDir, suite)
		reports, err := report.ReadReports(p)
		if err != nil {
			return nil, fmt.Errorf("suite %s has no report in %s (run make image-test first): %w", suite, reportDir, err)
		}
		for _, s := range guestproto.LAVACases(suite, reports) {
			cases = append(cases, Case{Suite: s.Set, ID: s.CaseID, Result: s.Result})
		}
	}
	return cases, nil
}

// Compare says how LAVA's cases differ from the expected ones. Lost or
// extra cases (by suite and id) are the error: a signal the console
// mangled. The LAVA job boots the image again, so a spec may end there
// otherwise than in the image-test run it is compared with; those cases
// are returned as flipped (LAVA's result), not as an error: LAVA recorded
// them faithfully, and a failure among them fails the job anyway.
func Compare(got, want []Case) (flipped []Case, err error) {
	type key struct{ suite, id string }
	count := map[key]int{}
	wantResult := map[key]string{}
	for _, c := range want {
		k := key{c.Suite, c.ID}
		count[k]++
		wantResult[k] = c.Result
	}
	for _, c := range got {
		k := key{c.Suite, c.ID}
		count[k]--
		if r, ok := wantResult[k]; ok && r != c.Result {
			flipped = append(flipped, c)
		}
	}
	var missing, extra []string
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k.suite+"/"+k.id)
		}
		for ; n < 0; n++ {
			extra = append(extra, k.suite+"/"+k.id)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return flipped, nil
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return flipped, fmt.Errorf("LAVA recorded %d test cases, the guest's reports hold %d: %d not in LAVA (%s), %d only in LAVA (%s)",
		len(got), len(want), len(missing), first(missing), len(extra), first(extra))
}

func first(s []string) string {
	if len(s) > 3 {
		return strings.Join(s[:3], "; ") + "; ..."
	}
	return strings.Join(s, "; ")
}
