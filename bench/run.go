package bench

import (
	"context"
	"fmt"
	"io"
)

// Config sizes a benchmark run.
type Config struct {
	Device  int
	Repeats int
	N       int // messages per throughput run (64-byte messages)
}

// Run measures every figure and writes them, with the targets, to w.
func Run(ctx context.Context, w io.Writer, c Config) error {
	if c.Repeats == 0 {
		c.Repeats = 5
	}
	if c.N == 0 {
		c.N = 20000
	}
	var figs []Figure
	measure := func(name, unit string, f func() (float64, error)) (Figure, error) {
		fig := Figure{Name: name, Unit: unit}
		for i := 0; i < c.Repeats; i++ {
			v, err := f()
			if err != nil {
				return fig, fmt.Errorf("%s: %w", name, err)
			}
			fig.Samples = append(fig.Samples, v)
		}
		fmt.Fprintln(w, fig)
		figs = append(figs, fig)
		return fig, nil
	}
	small, big := c.N, c.N/4

	fmt.Fprintf(w, "KBUS benchmark: %d repeats, median (min, max)\n\n", c.Repeats)
	kbus64, err := measure("kbus: announcements 1->1, 64 B", "msg/s", func() (float64, error) {
		return Throughput(ctx, c.Device, 64, small, 0)
	})
	if err != nil {
		return err
	}
	if _, err := measure("kbus: announcements 1->1, 4 KiB", "msg/s", func() (float64, error) {
		return Throughput(ctx, c.Device, 4096, big, 0)
	}); err != nil {
		return err
	}
	byBindings := map[int]Figure{}
	for _, b := range []int{10, 1000, 10000} {
		fig, err := measure(fmt.Sprintf("kbus: announcements 1->1, 64 B, %d unrelated bindings", b), "msg/s",
			func() (float64, error) { return Throughput(ctx, c.Device, 64, small, b) })
		if err != nil {
			return err
		}
		byBindings[b] = fig
	}
	fanSend := map[int]Figure{}
	for _, l := range []int{1, 10, 100} {
		n := 2000
		var perDel []float64
		fig, err := measure(fmt.Sprintf("kbus: fan-out to %d listener(s), sender time per send", l), "µs",
			func() (float64, error) {
				s, d, err := FanOut(ctx, c.Device, l, n)
				perDel = append(perDel, d)
				return s, err
			})
		if err != nil {
			return err
		}
		fanSend[l] = fig
		del := Figure{Name: fmt.Sprintf("kbus: fan-out to %d listener(s), time per delivery", l), Unit: "µs", Samples: perDel}
		fmt.Fprintln(w, del)
	}
	kbusRT, err := measure("kbus: request->reply round trips", "rt/s", func() (float64, error) {
		return RoundTrips(ctx, c.Device, small/4)
	})
	if err != nil {
		return err
	}
	far, stop, err := LimpetPair(ctx, c.Device)
	if err != nil {
		return err
	}
	_, err = measure("kbus through a limpet pair (Unix socket), 1->1, 64 B", "msg/s", func() (float64, error) {
		return LimpetThroughput(ctx, c.Device, far, 64, small/4)
	})
	stop()
	if err != nil {
		return err
	}
	sp64, err := measure("floor: SOCK_SEQPACKET socketpair 1->1, 64 B", "msg/s", func() (float64, error) {
		return SeqpacketThroughput(64, small)
	})
	if err != nil {
		return err
	}
	if _, err := measure("floor: SOCK_SEQPACKET socketpair 1->1, 4 KiB", "msg/s", func() (float64, error) {
		return SeqpacketThroughput(4096, big)
	}); err != nil {
		return err
	}
	spRT, err := measure("floor: SOCK_SEQPACKET socketpair ping-pong", "rt/s", func() (float64, error) {
		return SeqpacketRoundTrips(small / 4)
	})
	if err != nil {
		return err
	}
	if _, err := measure("floor: POSIX message queue 1->1, 64 B", "msg/s", func() (float64, error) {
		return MqueueThroughput(64, small)
	}); err != nil {
		return err
	}
	if _, err := measure("floor: POSIX message queue 1->1, 4 KiB", "msg/s", func() (float64, error) {
		return MqueueThroughput(4096, big)
	}); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nTargets (figures, not pass/fail tests):\n")
	target := func(what string, got, limit float64, atLeast bool) {
		ok := got >= limit
		if !atLeast {
			ok = got <= limit
		}
		mark := "met"
		if !ok {
			mark = "NOT MET"
		}
		op := ">="
		if !atLeast {
			op = "<="
		}
		fmt.Fprintf(w, "  %-62s %8.2f %s %.2f  %s\n", what, got, op, limit, mark)
	}
	target("delivered announcements / socketpair (64 B)", kbus64.Median()/sp64.Median(), 0.5, true)
	target("t(10 000 bindings) / t(10 bindings)", byBindings[10].Median()/byBindings[10000].Median(), 1.5, false)
	target("sender time per send: 100 listeners / 1 listener", fanSend[100].Median()/fanSend[1].Median(), 10, false)
	target("round trips / socketpair ping-pong", kbusRT.Median()/spRT.Median(), 0.5, true)
	return nil
}
