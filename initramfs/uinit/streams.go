package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/guestproto"
)

// Suites run side by side in streams (docs/testing.md, "Suites side by
// side"): each stream is a goroutine with a KBUS device of its own, given
// to its suites in $KBUS_DEVICE, taking the next suite from a shared list
// when its last one ends. Stream 0 uses device 0, the others devices made
// with NEWDEVICE before the first suite starts.

// streamCount is how many streams a request asks for, never more than
// there are suites; by default one per CPU (a third stream on two vCPUs
// starved the suites that measure latency: docs/testing.md, "Suites side
// by side").
func streamCount(req guestproto.Request, suites int) int {
	n := req.Streams
	if n == 0 {
		n = runtime.NumCPU()
	}
	return max(1, min(n, suites))
}

// nodeWait bounds the wait for a new device's node to appear.
const nodeWait = 5 * time.Second

// streamDevices returns n devices: 0 and n-1 new ones.
func streamDevices(n int) ([]int, error) {
	devs := []int{0}
	if n == 1 {
		return devs, nil
	}
	ks, err := kbus.Open(0, kbus.ReadOnly)
	if err != nil {
		return nil, fmt.Errorf("devices for %d streams: %w", n, err)
	}
	defer ks.Close()
	for len(devs) < n {
		d, err := ks.NewDevice()
		if err != nil {
			return nil, fmt.Errorf("devices for %d streams: %w", n, err)
		}
		path := kbus.DevicePath(int(d))
		for end := time.Now().Add(nodeWait); ; time.Sleep(10 * time.Millisecond) {
			if _, err = os.Stat(path); err == nil {
				break
			}
			if time.Now().After(end) {
				return nil, fmt.Errorf("devices for %d streams: no node %s after %v: %w", n, path, nodeWait, err)
			}
		}
		devs = append(devs, int(d))
	}
	return devs, nil
}

// startOrder is the order in which streams take suites (paths of suite
// binaries): those named in first, in first's order, then the rest in
// theirs. The host names the longest first (its record of the last run's
// times), so that the streams end close together rather than one waiting
// on a long suite that started last. Names in first that are no suite
// here are ignored.
func startOrder(suites, first []string) []int {
	at := map[string]int{}
	for i, path := range suites {
		at[strings.TrimSuffix(filepath.Base(path), guestproto.SuiteSuffix)] = i
	}
	order := make([]int, 0, len(suites))
	taken := make([]bool, len(suites))
	for _, name := range first {
		if i, ok := at[name]; ok && !taken[i] {
			order, taken[i] = append(order, i), true
		}
	}
	for i := range suites {
		if !taken[i] {
			order = append(order, i)
		}
	}
	return order
}

// runStreams runs each of suites once, on as many streams as devs has
// devices, taking them in start's order (indices of suites, each once),
// and returns their results in the order of suites. done is
// called with each result in that order too, as soon as it and every
// suite before it have ended: LAVA's monitors expect the test sets in the
// order of the job's suites (docs/boards.md, "LAVA"), and suites side by
// side end in any order. done calls never overlap.
func runStreams(suites []string, start, devs []int, runOne func(suite string, dev int) guestproto.SuiteResult,
	done func(guestproto.SuiteResult)) []guestproto.SuiteResult {
	results := make([]guestproto.SuiteResult, len(suites))
	next := make(chan int, len(suites))
	for _, i := range start {
		next <- i
	}
	close(next)
	var (
		mu    sync.Mutex
		ended = make([]bool, len(suites))
		shown int // results[:shown] went to done
	)
	var wg sync.WaitGroup
	for _, dev := range devs {
		wg.Go(func() {
			for i := range next {
				res := runOne(suites[i], dev)
				mu.Lock()
				results[i], ended[i] = res, true
				for ; shown < len(suites) && ended[shown]; shown++ {
					done(results[shown])
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return results
}

// lineWriter passes whole lines to out, each in one write under mu, so
// that suites side by side and the console's signal blocks (which hold
// mu) never share a line. Flush writes a last line left without its
// newline.
type lineWriter struct {
	mu     *sync.Mutex
	out    io.Writer
	prefix string
	buf    []byte
}

// maxLine is where a line with no end is cut, so that a program writing
// no newline still shows its output.
const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	end := bytes.LastIndexByte(w.buf, '\n') + 1
	if end == 0 && len(w.buf) >= maxLine {
		end = len(w.buf)
	}
	if end > 0 {
		w.emit(w.buf[:end])
		w.buf = append(w.buf[:0], w.buf[end:]...)
	}
	return len(p), nil
}

// Flush writes what is left, ended with a newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.emit(append(w.buf, '\n'))
		w.buf = w.buf[:0]
	}
}

func (w *lineWriter) emit(lines []byte) {
	if w.prefix != "" {
		var b bytes.Buffer
		for line := range bytes.Lines(lines) {
			b.WriteString(w.prefix)
			b.Write(line)
		}
		lines = b.Bytes()
	}
	if !bytes.HasSuffix(lines, []byte("\n")) {
		lines = append(lines, '\n')
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.out.Write(lines); err != nil {
		log.Printf("console: %v", err)
	}
}
