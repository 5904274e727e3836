package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/kbus-project/kbus/kbus"
)

// Names of the raw-ABI benchmark's figures (clients/c/kbus_bench.c) that
// targets are taken from.
const (
	cAnnounceOne   = "c: announcements 1->1, 64 B, SENDMSG / RECVMSG"
	cSocketpair    = "c floor: SOCK_SEQPACKET socketpair 1->1, 64 B"
	cRoundTripsOne = "c: request->reply round trips, SENDMSG / RECVMSG"
	cPingPong      = "c floor: SOCK_SEQPACKET socketpair ping-pong"
	cFanOne        = "c: fan-out to %d listener(s), time per delivery, SENDMSG / RECVMSG"
	// With RECVMANY: several messages a call (docs/kbus.md §7.1).
	cAnnounceMany = "c: announcements 1->1, 64 B, SENDMSG / RECVMANY"
	cFanMany      = "c: fan-out to %d listener(s), time per delivery, SENDMSG / RECVMANY, bursts of 16"
)

// cFanOriginal is the fan-out figure through the original calls.
const cFanOriginal = "c: fan-out to %d listener(s), time per delivery, original calls"

// cFanListeners are the fan-outs the program measures.
var cFanListeners = []int{1, 10, 100, 1000}

// cFigures lists every figure the program prints, in its order: with
// oneCall those of a module with SENDMSG, RECVMSG and RECVMANY, without
// it only the original calls' and the floors (its has_onecall).
func cFigures(oneCall bool) []string {
	names := []string{"c: announcements 1->1, 64 B, write+SEND / poll+NEXTMSG+read"}
	if oneCall {
		names = append(names, cAnnounceOne, cAnnounceMany)
	}
	names = append(names, cSocketpair, "c floor: POSIX message queue 1->1, 64 B",
		"c: request->reply round trips, original calls")
	if oneCall {
		names = append(names, cRoundTripsOne)
	}
	names = append(names, cPingPong)
	for _, l := range cFanListeners {
		names = append(names, fmt.Sprintf(cFanOriginal, l))
		if oneCall {
			names = append(names, fmt.Sprintf(cFanOne, l), fmt.Sprintf(cFanMany, l))
		}
	}
	return names
}

// RunC runs the raw-ABI benchmark program and returns its figures.
func RunC(ctx context.Context, path string, dev, repeats, n int) ([]Figure, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-r", strconv.Itoa(repeats), "-n", strconv.Itoa(n),
		"-d", kbus.DevicePath(dev))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	figs, perr := ParseC(bytes.NewReader(out))
	if err != nil {
		return figs, fmt.Errorf("%s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	if perr != nil {
		return figs, perr
	}
	want := cFigures(true)
	if len(figs) != len(want) { // a module without the one-call ioctls?
		want = cFigures(false)
	}
	if len(figs) != len(want) {
		return figs, fmt.Errorf("%s printed %d figures, want %d", path, len(figs), len(want))
	}
	for i, f := range figs {
		if f.Name != want[i] {
			return figs, fmt.Errorf("%s: figure %d is %q, want %q", path, i, f.Name, want[i])
		}
	}
	return figs, nil
}

// ParseC reads the raw-ABI benchmark's output: one figure per line,
// "figure<TAB>name<TAB>unit<TAB>samples separated by spaces".
func ParseC(r io.Reader) ([]Figure, error) {
	var figs []Figure
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 4 || parts[0] != "figure" {
			return figs, fmt.Errorf("raw-ABI benchmark: not a figure: %q", sc.Text())
		}
		f := Figure{Name: parts[1], Unit: parts[2]}
		for _, s := range strings.Fields(parts[3]) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return figs, fmt.Errorf("raw-ABI benchmark: %s: %w", f.Name, err)
			}
			f.Samples = append(f.Samples, v)
		}
		if len(f.Samples) == 0 {
			return figs, fmt.Errorf("raw-ABI benchmark: %s has no samples", f.Name)
		}
		figs = append(figs, f)
	}
	return figs, sc.Err()
}
