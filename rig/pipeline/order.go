package pipeline

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kbus-project/kbus/internal/atomicfile"
	"github.com/kbus-project/kbus/rig/guestproto"
)

// The guest runs its suites side by side (docs/testing.md, "Suites side by
// side"), each stream taking the next suite when its last one ends. Taken
// in name order, a long suite that comes late (the model comparison, a
// fixed 20 s) leaves the other stream idle at the end; taken longest
// first, the streams end close together. The host keeps each target's
// suite times from its last complete run in the cache and names the
// suites to the guest longest first (guestproto.Request.First).

// timesDir is the cache folder of the suites' times, a file per target and
// choice of specs.
const timesDir = "suite-times"

// suiteTimes are a run's suites' wall times in seconds, by suite name.
type suiteTimes map[string]float64

// timesKey names what a file of times is about: the target (its report
// folder's name) and a digest of what chooses its specs (labels, focus,
// the suites built), which change the suites' times; a file of another
// target with the same digest is the fallback on a new target.
func (r *runner) timesKey() (target, specs string) {
	h := sha256.Sum256([]byte(strings.Join([]string{r.request().Labels, r.cfg.Focus, strings.Join(r.cfg.Suites, ",")}, "\x00")))
	return r.out.Name, hex.EncodeToString(h[:6])
}

func timesFile(cache, target, specs string) string {
	return filepath.Join(cache, timesDir, target+"."+specs+".json")
}

// longestFirst names the suites of t from the longest to the shortest
// (ties by name, so the order is the same for the same times).
func longestFirst(t suiteTimes) []string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(t[b], t[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return names
}

// firstSuites is the order to ask the guest to start its suites in: the
// target's own times from its last complete run with the same choice of
// specs, else the newest such file of another target (the relative times
// of suites carry over between architectures), else none (name order).
func (r *runner) firstSuites() []string {
	if r.cfg.CacheDir == "" {
		return nil
	}
	target, specs := r.timesKey()
	if t, err := readTimes(timesFile(r.cfg.CacheDir, target, specs)); err == nil {
		return longestFirst(t)
	}
	others, _ := filepath.Glob(timesFile(r.cfg.CacheDir, "*", specs))
	var newest string
	var when int64
	for _, f := range others {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().UnixNano() > when {
			newest, when = f, fi.ModTime().UnixNano()
		}
	}
	if newest == "" {
		return nil
	}
	if t, err := readTimes(newest); err == nil {
		return longestFirst(t)
	}
	return nil
}

func readTimes(path string) (suiteTimes, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t suiteTimes
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// recordTimes keeps the suites' times of a guest that ran them all to the
// end, once each, for the next run's order. A run that stopped early, or
// ran each suite several times, says nothing reliable and is not kept.
func (r *runner) recordTimes(st *guestproto.Status) error {
	if r.cfg.CacheDir == "" || st == nil || st.Phase != guestproto.PhaseDone || len(st.Suites) == 0 || r.cfg.Repeat > 1 {
		return nil
	}
	t := suiteTimes{}
	for _, s := range st.Suites {
		t[s.Name] = s.Duration.Seconds()
	}
	b, err := json.MarshalIndent(t, "", "\t")
	if err != nil {
		return err
	}
	target, specs := r.timesKey()
	path := timesFile(r.cfg.CacheDir, target, specs)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("keeping the suites' times: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n')); err != nil {
		return fmt.Errorf("keeping the suites' times: %w", err)
	}
	return nil
}
