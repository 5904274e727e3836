package main

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
)

// Two writers feeding one console in bytes never leave a line of one
// inside a line of the other, and each line carries its writer's mark.
func TestLineWritersSideBySideKeepLinesWhole(t *testing.T) {
	var mu sync.Mutex
	var console bytes.Buffer
	var wg sync.WaitGroup
	for _, name := range []string{"core", "limpet"} {
		w := &lineWriter{mu: &mu, out: &console, prefix: name + "| "}
		wg.Go(func() {
			for i := range 200 {
				for _, b := range []byte(strings.Repeat(name, 3) + " line\n") {
					_, _ = w.Write([]byte{b})
				}
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			_, _ = w.Write([]byte("no newline at the end"))
			w.Flush()
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for line := range strings.Lines(console.String()) {
		counts[line]++
	}
	want := map[string]int{
		"core| corecorecore line\n":         200,
		"limpet| limpetlimpetlimpet line\n": 200,
		"core| no newline at the end\n":     1,
		"limpet| no newline at the end\n":   1,
	}
	if len(counts) != len(want) {
		t.Fatalf("lines seen: %v", counts)
	}
	for line, n := range want {
		if counts[line] != n {
			t.Errorf("%q seen %d times, want %d", line, counts[line], n)
		}
	}
}

// A line that never ends is still shown once maxLine bytes of it wait.
func TestLineWriterCutsALineWithoutEnd(t *testing.T) {
	var mu sync.Mutex
	var console bytes.Buffer
	w := &lineWriter{mu: &mu, out: &console}
	_, _ = w.Write(bytes.Repeat([]byte("x"), maxLine+10))
	if got := console.Len(); got != maxLine+11 {
		t.Errorf("console has %d bytes before the end, want %d", got, maxLine+11)
	}
}

func TestRunStreamsRunsEverySuiteOnceOnEveryDevice(t *testing.T) {
	suites := []string{"a", "b", "c", "d", "e"}
	var mu sync.Mutex
	used := map[int]int{}
	res := runStreams(suites, startOrder(suites, nil), []int{0, 3}, func(suite string, dev int) guestproto.SuiteResult {
		mu.Lock()
		used[dev]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		return guestproto.SuiteResult{Name: suite}
	}, func(guestproto.SuiteResult) {})
	var names []string
	for _, r := range res {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, suites) {
		t.Errorf("results %v, want one per suite in order %v", names, suites)
	}
	if used[0] == 0 || used[3] == 0 || used[0]+used[3] != len(suites) {
		t.Errorf("suites per device %v", used)
	}
}

// The console's signal blocks come in the order of the suites however
// the suites end: a LAVA job's monitors wait for its test sets in that
// order, and one out of order loses the rest.
func TestRunStreamsHandsOnResultsInSuiteOrder(t *testing.T) {
	suites := []string{"slow", "b", "c", "d"}
	var mu sync.Mutex
	var ended, shown []string
	runStreams(suites, startOrder(suites, nil), []int{0, 1}, func(suite string, dev int) guestproto.SuiteResult {
		if suite == "slow" {
			time.Sleep(100 * time.Millisecond)
		}
		mu.Lock()
		ended = append(ended, suite)
		mu.Unlock()
		return guestproto.SuiteResult{Name: suite}
	}, func(res guestproto.SuiteResult) {
		shown = append(shown, res.Name)
	})
	if ended[0] == "slow" {
		t.Fatalf("the slow suite ended first (%v): the test shows nothing", ended)
	}
	if !slices.Equal(shown, suites) {
		t.Errorf("results handed on in the order %v, want the suites' order %v (they ended %v)", shown, suites, ended)
	}
}

// The suites the host names go first, the longest first: with two
// streams, four short suites and a long one named last, the long one
// starts before any suite has ended, and the short ones share the other
// stream (in name order it would start only after two had ended).
func TestRunStreamsStartsTheNamedSuitesFirst(t *testing.T) {
	suites := []string{"/specs/a.test", "/specs/b.test", "/specs/c.test", "/specs/d.test", "/specs/long.test"}
	if got := startOrder(suites, []string{"long", "nosuch", "c", "long"}); !slices.Equal(got, []int{4, 2, 0, 1, 3}) {
		t.Fatalf("start order %v", got)
	}
	var mu sync.Mutex
	var events []string
	event := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	runStreams(suites, startOrder(suites, []string{"long"}), []int{0, 1}, func(suite string, dev int) guestproto.SuiteResult {
		name := strings.TrimSuffix(strings.TrimPrefix(suite, "/specs/"), ".test")
		event("start " + name)
		time.Sleep(20 * time.Millisecond)
		event("end " + name)
		return guestproto.SuiteResult{Name: suite}
	}, func(guestproto.SuiteResult) {})
	firstEnd := slices.IndexFunc(events, func(e string) bool { return strings.HasPrefix(e, "end ") })
	if i := slices.Index(events, "start long"); i < 0 || i > firstEnd {
		t.Errorf("the long suite started after a suite had ended: %v", events)
	}
}

func TestStreamCount(t *testing.T) {
	for _, c := range []struct{ streams, suites, want int }{
		{1, 10, 1}, {3, 10, 3}, {4, 2, 2}, {2, 0, 1},
	} {
		if got := streamCount(guestproto.Request{Streams: c.streams}, c.suites); got != c.want {
			t.Errorf("streamCount(%d streams, %d suites) = %d, want %d", c.streams, c.suites, got, c.want)
		}
	}
	if got := streamCount(guestproto.Request{}, 100); got < 1 {
		t.Errorf("one per CPU gave %d", got)
	}
}
