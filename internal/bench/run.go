package bench

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
)

// Config sizes a benchmark run.
type Config struct {
	Device  int
	Repeats int
	N       int    // messages per throughput run (64-byte messages)
	CBench  string // the raw-ABI benchmark program (clients/c/kbus_bench.c), "" for none
	Peers   *Peers // D-Bus and ZeroMQ doing the same work, nil for none
	// Focus, when set, keeps only the rows whose name it matches (a
	// regular expression): "^c" runs the C program alone, e.g. against
	// an older module that today's Go figures would not run on.
	Focus string
}

// measurement is one row of the benchmark: the figures it produces (one
// per value run returns, in order) and, for those that need it, what must
// be set up first and torn down after.
type measurement struct {
	names []string
	unit  string
	setup func() (teardown func(), err error)
	run   func() ([]float64, error)
}

// one adapts a function of one value to a measurement's run.
func one(f func() (float64, error)) func() ([]float64, error) {
	return func() ([]float64, error) {
		v, err := f()
		return []float64{v}, err
	}
}

// Names of the figures the targets are taken from.
const (
	figAnnounce64    = "kbus: announcements 1->1, 64 B"
	figAnnounce4K    = "kbus: announcements 1->1, 4 KiB"
	figBindings      = "kbus: announcements 1->1, 64 B, %d unrelated bindings"
	figFanSend       = "kbus: fan-out to %d listener(s), sender time per send"
	figFanDelivery   = "kbus: fan-out to %d listener(s), time per delivery"
	figFanUnpolled   = "kbus: fan-out to 100 listeners outside Go's poller, sender time per send"
	figRoundTrips    = "kbus: request->reply round trips"
	figAPIOriginal   = "kbus Go API: announcements 1->1, 64 B, original calls"
	figAPIOneCall    = "kbus Go API: announcements 1->1, 64 B, SENDMSG / RECVMSG"
	figRoundTripsOne = "kbus Go API: request->reply round trips, SENDMSG / RECVMSG"
	figLimpet        = "kbus through a limpet pair (Unix socket), 1->1, 64 B"
	figSocketpair64  = "floor: SOCK_SEQPACKET socketpair 1->1, 64 B"
	figSocketpair4K  = "floor: SOCK_SEQPACKET socketpair 1->1, 4 KiB"
	figSocketpairRT  = "floor: SOCK_SEQPACKET socketpair ping-pong"
	figMqueue64      = "floor: POSIX message queue 1->1, 64 B"
	figMqueue4K      = "floor: POSIX message queue 1->1, 4 KiB"
	fanOutMessages   = 2000
	roundTripDivisor = 4 // round trips and Limpet runs use N/4 messages
)

// measurements lists every row of the benchmark in the order it prints;
// without oneCall (a module without SENDMSG, RECVMSG and RECVMANY: the
// original's, or one from before them) only the rows of the original
// calls.
func measurements(ctx context.Context, c Config, oneCall bool) []measurement {
	dev, small, big := c.Device, c.N, c.N/4
	ms := []measurement{
		{names: []string{figAnnounce64}, unit: "msg/s", run: one(func() (float64, error) {
			return Throughput(ctx, dev, 64, small, 0)
		})},
		{names: []string{figAnnounce4K}, unit: "msg/s", run: one(func() (float64, error) {
			return Throughput(ctx, dev, 4096, big, 0)
		})},
	}
	for _, b := range []int{10, 1000, 10000} {
		ms = append(ms, measurement{names: []string{fmt.Sprintf(figBindings, b)}, unit: "msg/s",
			run: one(func() (float64, error) { return Throughput(ctx, dev, 64, small, b) })})
	}
	for _, l := range []int{1, 10, 100} {
		ms = append(ms, measurement{
			names: []string{fmt.Sprintf(figFanSend, l), fmt.Sprintf(figFanDelivery, l)}, unit: "µs",
			run: func() ([]float64, error) {
				s, d, err := FanOut(ctx, dev, l, fanOutMessages)
				return []float64{s, d}, err
			}})
	}
	if oneCall {
		ms = append(ms, measurement{names: []string{figFanUnpolled}, unit: "µs", run: one(func() (float64, error) {
			return FanOutUnpolled(ctx, dev, 100, fanOutMessages)
		})})
	}
	ms = append(ms, measurement{names: []string{figAPIOriginal}, unit: "msg/s", run: one(func() (float64, error) {
		return APIThroughput(ctx, dev, 64, small, false)
	})})
	if oneCall {
		ms = append(ms, measurement{names: []string{figAPIOneCall}, unit: "msg/s", run: one(func() (float64, error) {
			return APIThroughput(ctx, dev, 64, small, true)
		})})
	}
	// The original calls, under the name this figure always had.
	ms = append(ms, measurement{names: []string{figRoundTrips}, unit: "rt/s", run: one(func() (float64, error) {
		return RoundTrips(ctx, dev, small/roundTripDivisor, false)
	})})
	if oneCall {
		ms = append(ms, measurement{names: []string{figRoundTripsOne}, unit: "rt/s", run: one(func() (float64, error) {
			return RoundTrips(ctx, dev, small/roundTripDivisor, true)
		})})
	}
	var far int
	ms = append(ms, measurement{names: []string{figLimpet}, unit: "msg/s",
		setup: func() (func(), error) {
			var stop func()
			var err error
			far, stop, err = LimpetPair(ctx, dev)
			return stop, err
		},
		run: one(func() (float64, error) { return LimpetThroughput(ctx, dev, far, 64, small/roundTripDivisor) }),
	})
	return append(ms,
		measurement{names: []string{figSocketpair64}, unit: "msg/s", run: one(func() (float64, error) {
			return SeqpacketThroughput(64, small)
		})},
		measurement{names: []string{figSocketpair4K}, unit: "msg/s", run: one(func() (float64, error) {
			return SeqpacketThroughput(4096, big)
		})},
		measurement{names: []string{figSocketpairRT}, unit: "rt/s", run: one(func() (float64, error) {
			return SeqpacketRoundTrips(small / roundTripDivisor)
		})},
		measurement{names: []string{figMqueue64}, unit: "msg/s", run: one(func() (float64, error) {
			return MqueueThroughput(64, small)
		})},
		measurement{names: []string{figMqueue4K}, unit: "msg/s", run: one(func() (float64, error) {
			return MqueueThroughput(4096, big)
		})},
	)
}

// target is a ratio of two figures' medians and the bound it should meet.
type target struct {
	what     string
	num, den string
	limit    float64
	atLeast  bool    // the ratio should be >= limit, else <= limit
	denTimes float64 // the denominator counts this many times (0: once)
}

var targets = []target{
	// The one-call path against the kernel's own IPC, from C and from Go.
	{"C: round trips, SENDMSG/RECVMSG / socketpair ping-pong", cRoundTripsOne, cPingPong, 1.0, true, 0},
	{"C: announcements, SENDMSG/RECVMSG / socketpair (64 B)", cAnnounceOne, cSocketpair, 1.0, true, 0},
	{"C: announcements, SENDMSG/RECVMANY / socketpair (64 B)", cAnnounceMany, cSocketpair, 1.0, true, 0},
	{"Go API: round trips, SENDMSG/RECVMSG / socketpair ping-pong", figRoundTripsOne, figSocketpairRT, 0.9, true, 0},
	{"C: fan-out to 100, time per delivery / to 1", fmt.Sprintf(cFanOne, 100), fmt.Sprintf(cFanOne, 1), 0.2, false, 0},
	{"C: fan-out to 1000 / to 100, time per delivery", fmt.Sprintf(cFanOne, 1000), fmt.Sprintf(cFanOne, 100), 1.0, false, 0},
	{"C: fan-out with RECVMANY bursts, to 100 / to 1, time per delivery", fmt.Sprintf(cFanMany, 100), fmt.Sprintf(cFanMany, 1), 0.2, false, 0},
	{"C: fan-out with RECVMANY bursts, to 1000 / to 100, time per delivery", fmt.Sprintf(cFanMany, 1000), fmt.Sprintf(cFanMany, 100), 1.0, false, 0},
	{"delivered announcements / socketpair (64 B)", figAnnounce64, figSocketpair64, 0.5, true, 0},
	// Throughputs: the time ratio is the inverse of the rate ratio.
	{"t(10 000 bindings) / t(10 bindings)", fmt.Sprintf(figBindings, 10), fmt.Sprintf(figBindings, 10000), 1.1, false, 0},
	{"sender time per send: 100 listeners / 1 listener", fmt.Sprintf(figFanSend, 100), fmt.Sprintf(figFanSend, 1), 10, false, 0},
	{"Go: a send to 100 listeners / 100 sends to 1", fmt.Sprintf(figFanSend, 100), fmt.Sprintf(figFanSend, 1), 0.6, false, 100},
	// Not a target: what epoll's wake-up callbacks cost a Go fan-out.
	{"Go: fan-out to 100, sender time per send, in the poller / outside it", fmt.Sprintf(figFanSend, 100), figFanUnpolled, 0, false, 0},
	{"round trips / socketpair ping-pong", figRoundTrips, figSocketpairRT, 0.5, true, 0},
	// Against the alternatives (docs/benchmark.md, "Peers"): rates as
	// KBUS / peer, times per delivery as KBUS / peer.
	{"C: round trips, SENDMSG/RECVMSG / D-Bus method calls", cRoundTripsOne, dbusRoundTrips, 5, true, 0},
	{"C: announcements, SENDMSG/RECVMSG / D-Bus signals (64 B)", cAnnounceOne, dbusAnnounce, 5, true, 0},
	{"C: fan-out to 100, time per delivery, RECVMSG / D-Bus", fmt.Sprintf(cFanOne, 100), fmt.Sprintf(dbusFan, 100), 0.2, false, 0},
	{"C: round trips, SENDMSG/RECVMSG / ZeroMQ REQ/REP", cRoundTripsOne, zmqRoundTrips, 1.0, true, 0},
	{"C: announcements, SENDMSG/RECVMSG / ZeroMQ PUB/SUB (64 B)", cAnnounceOne, zmqAnnounce, 1.0, true, 0},
	{"C: fan-out to 100, time per delivery, RECVMSG / ZeroMQ", fmt.Sprintf(cFanOne, 100), fmt.Sprintf(zmqFan, 100), 1.0, false, 0},
}

// Run measures every figure and writes them, with the targets, to w; it
// returns the figures in the order it printed them.
func Run(ctx context.Context, w io.Writer, c Config) ([]Figure, error) {
	if c.Repeats == 0 {
		c.Repeats = 5
	}
	if c.N == 0 {
		c.N = 20000
	}
	focus, err := regexp.Compile(c.Focus)
	if err != nil {
		return nil, fmt.Errorf("bench: focus: %w", err)
	}
	fmt.Fprintf(w, "KBUS benchmark: %d repeats, median (min, max)\n\n", c.Repeats)
	if c.Focus != "" {
		fmt.Fprintf(w, "Only the rows whose name matches %q.\n\n", c.Focus)
	}
	oneCall, err := hasOneCall(c.Device)
	if err != nil {
		return nil, err
	}
	if !oneCall {
		fmt.Fprintf(w, "The module has no SENDMSG, RECVMSG and RECVMANY (docs/kbus.md §7.1): the original calls alone.\n\n")
	}
	figs := map[string]Figure{}
	var all []Figure
	for _, m := range measurements(ctx, c, oneCall) {
		if !slices.ContainsFunc(m.names, focus.MatchString) {
			continue
		}
		got, err := m.measure(c.Repeats)
		if err != nil {
			return all, err
		}
		for _, f := range got {
			fmt.Fprintln(w, f)
			figs[f.Name] = f
			all = append(all, f)
		}
	}
	// keep prints the figures of a program's run that focus leaves, and
	// what went wrong after them.
	keep := func(got []Figure, err error) error {
		got = slices.DeleteFunc(got, func(f Figure) bool { return !focus.MatchString(f.Name) })
		for _, f := range got {
			fmt.Fprintln(w, f)
			figs[f.Name] = f
			all = append(all, f)
		}
		return err
	}
	if c.CBench != "" && slices.ContainsFunc(cFigures(true), focus.MatchString) {
		if err := keep(RunC(ctx, c.CBench, c.Device, c.Repeats, c.N)); err != nil {
			return all, err
		}
	}
	if c.Peers != nil && slices.ContainsFunc(allPeerFigures(), focus.MatchString) {
		if err := keep(RunPeers(ctx, *c.Peers, c.Repeats, c.N)); err != nil {
			return all, err
		}
	}
	fmt.Fprintf(w, "\nTargets (figures, not pass/fail tests):\n")
	for _, t := range targets {
		fmt.Fprintln(w, t.judge(figs))
	}
	return all, nil
}

// hasOneCall says whether the device's module has SENDMSG, RECVMSG and
// RECVMANY (the Go API probes RECVMANY, which came last).
func hasOneCall(dev int) (bool, error) {
	ks, err := open(dev)
	if err != nil {
		return false, err
	}
	defer ks.Close()
	return ks.Syscalls().OneCall(), nil
}

// measure runs m repeats times and returns its figures.
func (m measurement) measure(repeats int) ([]Figure, error) {
	if m.setup != nil {
		teardown, err := m.setup()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.names[0], err)
		}
		defer teardown()
	}
	figs := make([]Figure, len(m.names))
	for i, n := range m.names {
		figs[i] = Figure{Name: n, Unit: m.unit}
	}
	for r := 0; r < repeats; r++ {
		vals, err := m.run()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.names[0], err)
		}
		for i := range figs {
			figs[i].Samples = append(figs[i].Samples, vals[i])
		}
	}
	return figs, nil
}

// judge prints the target's ratio from figs and whether it is met.
func (t target) judge(figs map[string]Figure) string {
	num, den := figs[t.num], figs[t.den]
	if len(num.Samples) == 0 || den.Median() == 0 {
		return fmt.Sprintf("  %-62s no figure", t.what)
	}
	got := num.Median() / den.Median()
	if t.denTimes != 0 {
		got /= t.denTimes
	}
	if t.limit == 0 {
		return fmt.Sprintf("  %-62s %8.2f  (measured, no target)", t.what, got)
	}
	op, ok := "<=", got <= t.limit
	if t.atLeast {
		op, ok = ">=", got >= t.limit
	}
	mark := "met"
	if !ok {
		mark = "NOT MET"
	}
	return fmt.Sprintf("  %-62s %8.2f %s %.2f  %s", t.what, got, op, t.limit, mark)
}
