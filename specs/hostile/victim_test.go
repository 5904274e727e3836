package hostile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The victim's names.
const (
	victimService = "$.Victim.Service"
	victimNews    = "$.Victim.News"
)

// roundTrip is one of the victim's requests: when it was asked and how
// long its reply took.
type roundTrip struct {
	at   time.Time
	took time.Duration
}

// victim is the well-behaved pair that runs beside every attack: a
// replier, a requester asking every period, and an announcement listener
// hearing what the requester announces after each reply.
type victim struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	trips []roundTrip
	err   error
	heard int
}

const victimPeriod = 10 * time.Millisecond

func startVictim() *victim {
	GinkgoHelper()
	open := func() *kbus.Ksock {
		ks, err := kbus.Open(support.Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		return ks
	}
	replier, requester, listener := open(), open(), open()
	Expect(replier.BindReplier(victimService)).To(Succeed())
	Expect(listener.BindListener(victimNews)).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	v := &victim{cancel: cancel}
	v.wg.Add(3)
	go func() {
		defer v.wg.Done()
		_ = replier.Serve(ctx, func(_ context.Context, m *kbus.Message) ([]byte, error) { return m.Data, nil })
	}()
	go func() {
		defer v.wg.Done()
		for ctx.Err() == nil {
			if _, err := listener.Receive(ctx); err == nil {
				v.mu.Lock()
				v.heard++
				v.mu.Unlock()
			}
		}
	}()
	go func() {
		defer v.wg.Done()
		tick := time.NewTicker(victimPeriod)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			at := time.Now()
			_, err := requester.Request(ctx, kbus.NewRequest(victimService, []byte(fmt.Sprint(n))))
			if err == nil {
				_, err = requester.Send(kbus.NewAnnouncement(victimNews, nil))
			}
			v.mu.Lock()
			if err != nil && ctx.Err() == nil && v.err == nil {
				v.err = err
			}
			v.trips = append(v.trips, roundTrip{at: at, took: time.Since(at)})
			v.mu.Unlock()
		}
	}()
	DeferCleanup(func() {
		cancel()
		v.wg.Wait()
		for _, ks := range []*kbus.Ksock{replier, requester, listener} {
			ks.Close()
		}
	})
	return v
}

// heardSoFar is how many announcements the victim's listener has heard.
func (v *victim) heardSoFar() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.heard
}

// latency is what the victim saw between from and to: round trips that
// started then, the longest, and the 99th percentile.
type latency struct {
	n          int
	p99, worst time.Duration
}

func (v *victim) latency(from, to time.Time) latency {
	v.mu.Lock()
	defer v.mu.Unlock()
	var d []time.Duration
	for _, t := range v.trips {
		if !t.at.Before(from) && t.at.Before(to) {
			d = append(d, t.took)
		}
	}
	slices.Sort(d)
	if len(d) == 0 {
		return latency{}
	}
	return latency{n: len(d), p99: d[(len(d)*99)/100], worst: d[len(d)-1]}
}

// settle waits until a round trip that started at or after t has ended,
// so that one the attack held up has ended too (the requester asks one
// at a time).
func (v *victim) settle(t time.Time) {
	GinkgoHelper()
	Eventually(func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return len(v.trips) > 0 && !v.trips[len(v.trips)-1].at.Before(t)
	}).WithTimeout(time.Minute).WithPolling(victimPeriod).Should(BeTrue(), "the victim asks again after the attack")
}

// series is the victim's round trips that started between from and to:
// when each started (seconds after from) and how long it took (ms).
func (v *victim) series(from, to time.Time) (x, y []float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range v.trips {
		if !t.at.Before(from) && t.at.Before(to) {
			x = append(x, t.at.Sub(from).Seconds())
			y = append(y, float64(t.took)/float64(time.Millisecond))
		}
	}
	return x, y
}

func (v *victim) failure() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

// blockedTasks watches every task's state until stop is called, and
// returns those seen in one uninterruptible sleep (D state) for longer
// than limit: "pid/task/tid (comm) in FUNCTION", the function it slept
// in. A task is in the same sleep from one look to the next only if it has
// not been switched in meanwhile (its context switch counts are the same):
// a reader that waits for the device a hundred times a few milliseconds
// each is in D at every look, but never for long.
func blockedTasks(limit time.Duration) (stop func() []string) {
	type sleep struct {
		from     time.Time
		switches string
	}
	asleep := map[string]sleep{}
	where := map[string]string{} // a long one's wait channel when first seen long
	var long []string
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			now := time.Now()
			stats, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/stat")
			seen := map[string]bool{}
			for _, p := range stats {
				b, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				// "tid (comm) S ...": the state follows the last ')'.
				s := string(b)
				i := strings.LastIndexByte(s, ')')
				if i < 0 || i+2 >= len(s) || s[i+2] != 'D' {
					continue
				}
				dir := filepath.Dir(p)
				task := strings.TrimPrefix(filepath.Dir(dir), "/proc/") + "/" + s[:i+1]
				seen[task] = true
				sw := contextSwitches(dir)
				was, ok := asleep[task]
				if !ok || was.switches != sw {
					asleep[task] = sleep{from: now, switches: sw}
				} else if now.Sub(was.from) > limit && !slices.Contains(long, task) {
					long = append(long, task)
					where[task] = sleepsIn(dir)
				}
			}
			for t := range asleep {
				if !seen[t] {
					delete(asleep, t)
				}
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		close(done)
		<-finished
		out := make([]string, len(long))
		for i, t := range long {
			out[i] = t + " in " + where[t]
		}
		return out
	}
}

// contextSwitches is a task's voluntary and involuntary context switch
// counts (from /proc/PID/task/TID/status): the same at two looks means the
// task did not run in between.
func contextSwitches(task string) string {
	b, err := os.ReadFile(filepath.Join(task, "status"))
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "ctxt_switches:") {
			out = append(out, strings.TrimSpace(l[strings.IndexByte(l, ':')+1:]))
		}
	}
	return strings.Join(out, "/")
}

// sleepsIn is the kernel function a task sleeps in (its wait channel,
// from /proc/PID/task/TID/wchan), or why it is not known.
func sleepsIn(task string) string {
	b, err := os.ReadFile(filepath.Join(task, "wchan"))
	if err != nil {
		return err.Error()
	}
	if len(b) == 0 || string(b) == "0" {
		return "(running)"
	}
	return string(b)
}
