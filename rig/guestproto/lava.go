package guestproto

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// The console side of the results, for boards and LAVA (docs/boards.md):
// after each suite the guest prints one LAVA test set with a test case per
// spec, in LAVA's test-case signal syntax, and once everything is written
// it prints EndMarker. A farm or rig board-test reads these from the
// serial line; QEMU runs read the results partition and check the lines.

// EndMarker is the guest's last console line of a run: the results are
// written and synced, the machine is about to power off.
const EndMarker = "<KBUS_RIG_END>"

// StatusLine starts the console line, just before EndMarker, that carries
// the guest's Status as one line of JSON, for readers that have only the
// console.
const StatusLine = "<KBUS_RIG_STATUS>"

// LAVA results for a spec.
const (
	LAVAPass = "pass"
	LAVAFail = "fail"
	LAVASkip = "skip"
)

// maxCaseID keeps a case id inside LAVA's limit on test case names (100).
const maxCaseID = 96

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// LAVACaseID is a spec's test case id: its full text with every run of
// other characters turned into '_', cut to LAVA's length with a hash of
// the whole text appended so that cut ids stay distinct.
func LAVACaseID(text string) string {
	id := strings.Trim(unsafeID.ReplaceAllString(text, "_"), "_")
	if id == "" {
		id = "spec"
	}
	if len(id) <= maxCaseID {
		return id
	}
	h := sha256.Sum256([]byte(text))
	return id[:maxCaseID-9] + "-" + hex.EncodeToString(h[:4])
}

// LAVAResult maps a spec's state onto LAVA's results.
func LAVAResult(s types.SpecState) string {
	switch {
	case s == types.SpecStatePassed:
		return LAVAPass
	case s.Is(types.SpecStateSkipped | types.SpecStatePending):
		return LAVASkip
	default:
		return LAVAFail
	}
}

// LAVACases are one suite's report as LAVA test cases, in the test set
// named after the suite: a case per spec, as many as the report's Summary
// counts (specs a label filter left out are skips there and here). A
// suite node that failed (BeforeSuite, AfterSuite...) is a failing case
// of its own.
func LAVACases(suite string, reports []types.Report) []Signal {
	set := LAVACaseID(suite)
	var cases []Signal
	for _, r := range reports {
		for _, s := range r.SpecReports {
			text := s.FullText()
			switch {
			case s.LeafNodeType == types.NodeTypeIt:
			case s.State.Is(types.SpecStateFailureStates):
				text = s.LeafNodeType.String() + " " + s.LeafNodeLocation.String()
			default:
				continue
			}
			cases = append(cases, Signal{Set: set, CaseID: LAVACaseID(text), Result: LAVAResult(s.State)})
		}
	}
	return cases
}

// LAVASignals are the console lines of one suite's LAVACases.
func LAVASignals(suite string, reports []types.Report) []string {
	cases := LAVACases(suite, reports)
	lines := []string{fmt.Sprintf("<LAVA_SIGNAL_TESTSET START %s>", LAVACaseID(suite))}
	for _, c := range cases {
		lines = append(lines, fmt.Sprintf("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=%s RESULT=%s>", c.CaseID, c.Result))
	}
	return append(lines, "<LAVA_SIGNAL_TESTSET STOP>")
}

// Signal is a parsed LAVA test-case line.
type Signal struct {
	Set    string // the test set it is in
	CaseID string
	Result string
}

var (
	setStart = regexp.MustCompile(`<LAVA_SIGNAL_TESTSET START (\S+)>`)
	setStop  = regexp.MustCompile(`<LAVA_SIGNAL_TESTSET STOP>`)
	caseLine = regexp.MustCompile(`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(\S+) RESULT=(pass|fail|skip|unknown)>`)
)

// SignalReader turns console lines into Signals, keeping track of the
// test set they are in.
type SignalReader struct {
	set string
	// Ended is set once the EndMarker went by.
	Ended bool
	// Status is the guest's status from its StatusLine, once seen.
	Status *Status
}

// StatusText is the status as its console line.
func StatusText(st *Status) string {
	b, _ := json.Marshal(st)
	return StatusLine + string(b)
}

// Line reads one console line; ok is true when it was a test case.
func (sr *SignalReader) Line(line string) (sig Signal, ok bool) {
	if strings.Contains(line, EndMarker) {
		sr.Ended = true
		return sig, false
	}
	if _, js, ok := strings.Cut(line, StatusLine); ok {
		var st Status
		if json.Unmarshal([]byte(js), &st) == nil {
			sr.Status = &st
		}
		return sig, false
	}
	if m := setStart.FindStringSubmatch(line); m != nil {
		sr.set = m[1]
		return sig, false
	}
	if setStop.MatchString(line) {
		sr.set = ""
		return sig, false
	}
	if m := caseLine.FindStringSubmatch(line); m != nil {
		return Signal{Set: sr.set, CaseID: m[1], Result: m[2]}, true
	}
	return sig, false
}

// MarkerFinder notices a marker (EndMarker) in console output that
// arrives in pieces, a marker split between two pieces included.
type MarkerFinder struct {
	Marker string
	tail   []byte
}

// Found reports whether the marker is in p or straddles the previous
// pieces and p.
func (m *MarkerFinder) Found(p []byte) bool {
	buf := append(m.tail, p...)
	found := bytes.Contains(buf, []byte(m.Marker))
	if n := len(m.Marker); len(buf) > n {
		buf = buf[len(buf)-n:]
	}
	m.tail = append(m.tail[:0], buf...)
	return found
}
