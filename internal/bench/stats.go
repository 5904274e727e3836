// Package bench measures KBUS in the guest: delivered announcements per
// second, the cost of unrelated bindings, fan-out, request/reply round
// trips, and the same patterns over an AF_UNIX SOCK_SEQPACKET socketpair and
// a POSIX message queue as floors. Every figure is repeated and reported as
// the median with its range; every message is counted, none may be lost.
package bench

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Figure is one measured quantity over several runs.
type Figure struct {
	Name    string
	Unit    string
	Samples []float64
}

// Median of the samples.
func (f Figure) Median() float64 {
	s := append([]float64(nil), f.Samples...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Range returns the smallest and largest sample.
func (f Figure) Range() (lo, hi float64) {
	for i, v := range f.Samples {
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

func (f Figure) String() string {
	lo, hi := f.Range()
	return fmt.Sprintf("%-58s %12s %s  (min %s, max %s, n=%d)", f.Name, human(f.Median()), f.Unit, human(lo), human(hi), len(f.Samples))
}

func human(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// rate turns a count over a duration into a per-second figure.
func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// perOp is microseconds per operation.
func perOp(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// timed runs other in the background while this side runs here, and
// returns n per second of the time until both are done: messages or round
// trips per second. Either side's error fails the run.
func timed(n int, this, other func() error) (float64, error) {
	start := time.Now()
	errs := make(chan error, 1)
	go func() { errs <- other() }()
	thisErr := this()
	otherErr := <-errs
	d := time.Since(start)
	if err := errors.Join(thisErr, otherErr); err != nil {
		return 0, err
	}
	return rate(n, d), nil
}
