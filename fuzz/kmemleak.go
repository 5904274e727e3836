package fuzz

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// kmemleakPath is kmemleak's debugfs file (CONFIG_DEBUG_KMEMLEAK): writing
// "scan" scans memory, reading it lists the unreferenced objects found.
const kmemleakPath = "/sys/kernel/debug/kmemleak"

// kmemleakMinAge is how old an object must be before kmemleak reports it
// (its minimum age is 5 s).
const kmemleakMinAge = 6 * time.Second

var leakHeader = regexp.MustCompile(`unreferenced object (0x[0-9a-f]+) \(size (\d+)\)`)

// leakWatch finds the objects kmemleak reports that it had not reported
// when the watch began: what an earlier suite leaked is not the fuzzer's
// finding (the rig's own scan after the suites reports it).
type leakWatch struct {
	known map[string]bool // addresses reported before, or already returned
}

// openLeakWatch scans once and remembers what kmemleak reports; nil if
// the kernel has no kmemleak.
func openLeakWatch() (*leakWatch, error) {
	if _, err := os.Stat(kmemleakPath); err != nil {
		return nil, nil
	}
	w := &leakWatch{known: map[string]bool{}}
	if _, err := w.Scan(); err != nil {
		return nil, err
	}
	return w, nil
}

// Scan asks kmemleak for a scan and returns the first new leak it reports
// (its header and the first frame in kbus.ko, if any), or "".
func (w *leakWatch) Scan() (string, error) {
	if err := os.WriteFile(kmemleakPath, []byte("scan"), 0); err != nil {
		return "", fmt.Errorf("fuzz: kmemleak scan: %w", err)
	}
	b, err := os.ReadFile(kmemleakPath)
	if err != nil {
		return "", fmt.Errorf("fuzz: reading kmemleak: %w", err)
	}
	return w.fresh(string(b)), nil
}

// fresh is the first leak in kmemleak's report that is new to w, and
// remembers them all.
func (w *leakWatch) fresh(text string) string {
	first := ""
	for _, report := range strings.Split(text, "unreferenced object ")[1:] {
		report = "unreferenced object " + report
		m := leakHeader.FindStringSubmatch(report)
		if m == nil || w.known[m[1]] {
			continue
		}
		w.known[m[1]] = true
		if first == "" {
			first = fmt.Sprintf("kmemleak: unreferenced object %s (size %s)", m[1], m[2])
			for _, line := range strings.Split(report, "\n") {
				if strings.Contains(line, "[kbus]") {
					first += ", allocated in " + strings.TrimSpace(line)
					break
				}
			}
		}
	}
	return first
}
