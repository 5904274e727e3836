package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
)

// Peers are the benchmark's peers in the guest (docs/benchmark.md,
// "Peers"): the same work as the raw-ABI benchmark done through D-Bus
// (dbus-daemon, libdbus) and ZeroMQ (libzmq over ipc://).
type Peers struct {
	DBusBench  string // clients/c/peers/dbus_bench.c, built for the target
	ZMQBench   string // clients/c/peers/zmq_bench.c
	DBusDaemon string // the distribution's dbus-daemon
	DBusConfig string // the bus it runs (clients/c/peers/dbus-bench.conf)
}

// PeersIn are the peers laid out in dir as the rig lays them out in a
// bench image (guestproto.PeersDir).
func PeersIn(dir string) Peers {
	return Peers{DBusBench: filepath.Join(dir, guestproto.DBusBench), ZMQBench: filepath.Join(dir, guestproto.ZMQBench),
		DBusDaemon: filepath.Join(dir, guestproto.DBusDaemon), DBusConfig: filepath.Join(dir, guestproto.DBusConfig)}
}

// Names of the peers' figures the targets are taken from.
const (
	dbusAnnounce   = "c peer: D-Bus announcements 1->1, 64 B, signals through dbus-daemon"
	dbusRoundTrips = "c peer: D-Bus request->reply round trips, method calls through dbus-daemon"
	dbusFan        = "c peer: D-Bus fan-out to %d listener(s), time per delivery, signals through dbus-daemon"
	zmqAnnounce    = "c peer: ZeroMQ announcements 1->1, 64 B, PUB/SUB over ipc"
	zmqRoundTrips  = "c peer: ZeroMQ request->reply round trips, REQ/REP over ipc"
	zmqFan         = "c peer: ZeroMQ fan-out to %d listener(s), time per delivery, PUB/SUB over ipc"
)

// allPeerFigures lists both peers' figures in the order they print them.
func allPeerFigures() []string {
	return append(peerFigures(dbusAnnounce, dbusRoundTrips, dbusFan), peerFigures(zmqAnnounce, zmqRoundTrips, zmqFan)...)
}

// peerFanListeners are the fan-outs the peers measure.
var peerFanListeners = []int{1, 10, 100}

func peerFigures(announce, roundTrips, fan string) []string {
	names := []string{announce, roundTrips}
	for _, l := range peerFanListeners {
		names = append(names, fmt.Sprintf(fan, l))
	}
	return names
}

// dbusStart is how long dbus-daemon may take to say its address: under
// TCG on emulated ARM a start takes seconds.
const dbusStart = time.Minute

// RunPeers runs both peers, D-Bus on a dbus-daemon of its own, and
// returns their figures.
func RunPeers(ctx context.Context, p Peers, repeats, n int) ([]Figure, error) {
	addr, stop, err := startDBus(ctx, p)
	if err != nil {
		return nil, err
	}
	figs, err := runProgram(ctx, p.DBusBench, peerFigures(dbusAnnounce, dbusRoundTrips, dbusFan),
		"-a", addr, "-r", strconv.Itoa(repeats), "-n", strconv.Itoa(n))
	said := stop()
	if err != nil {
		if said != "" {
			err = fmt.Errorf("%w (dbus-daemon: %s)", err, said)
		}
		return figs, err
	}
	z, err := runProgram(ctx, p.ZMQBench, peerFigures(zmqAnnounce, zmqRoundTrips, zmqFan),
		"-r", strconv.Itoa(repeats), "-n", strconv.Itoa(n))
	return append(figs, z...), err
}

// startDBus starts dbus-daemon on the peers' configuration and returns
// the bus's address and how to stop it, which returns what the daemon
// wrote to its standard error.
func startDBus(ctx context.Context, p Peers) (string, func() string, error) {
	cmd := exec.Command(p.DBusDaemon, "--config-file="+p.DBusConfig, "--nofork", "--print-address=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, fmt.Errorf("dbus-daemon: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("dbus-daemon: %w", err)
	}
	stop := func() string {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return strings.TrimSpace(stderr.String())
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	ctx, cancel := context.WithTimeout(ctx, dbusStart)
	defer cancel()
	select {
	case addr, ok := <-line:
		if ok && addr != "" {
			return addr, stop, nil
		}
		stop()
		return "", nil, fmt.Errorf("dbus-daemon printed no address: %s", strings.TrimSpace(stderr.String()))
	case <-ctx.Done():
		stop()
		return "", nil, fmt.Errorf("dbus-daemon: no address after %v: %w", dbusStart, ctx.Err())
	}
}

// errFigures is a peer program that printed other figures than its list.
var errFigures = errors.New("unexpected figures")

// runProgram runs a program that prints figures as kbus_bench.c does and
// checks it printed the figures named, in order.
func runProgram(ctx context.Context, path string, want []string, args ...string) ([]Figure, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	figs, perr := ParseC(bytes.NewReader(out))
	if err != nil {
		return figs, fmt.Errorf("%s: %w: %s", filepath.Base(path), err, strings.TrimSpace(stderr.String()))
	}
	if perr != nil {
		return figs, perr
	}
	if len(figs) != len(want) {
		return figs, fmt.Errorf("%s: %w: %d, want %d", filepath.Base(path), errFigures, len(figs), len(want))
	}
	for i, f := range figs {
		if f.Name != want[i] {
			return figs, fmt.Errorf("%s: %w: figure %d is %q, want %q", filepath.Base(path), errFigures, i, f.Name, want[i])
		}
	}
	return figs, nil
}
