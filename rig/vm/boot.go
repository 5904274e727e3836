// Package vm boots a rig image in QEMU through hugelgupf/vmtest's qemu
// package: the target's machine, KVM when the host really has it, the 9P
// results share, the serial console captured to a log, a network link to
// another guest, and a hard timeout.
package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hugelgupf/vmtest/qemu"
	"github.com/hugelgupf/vmtest/qemu/qnetwork"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/target"
)

// Config is one boot of a guest.
type Config struct {
	Target    target.Target
	Kernel    string
	Initramfs string
	// ResultsDir is shared with the guest over 9P under guestproto.MountTag.
	ResultsDir string
	// KernelArgs are appended to the kernel command line.
	KernelArgs []string
	// Timeout kills QEMU when exceeded; 0 means Target.Timeout.
	Timeout time.Duration
	// Serial receives the guest's console.
	Serial io.Writer
	// Link, if set, joins this guest to another one.
	Link *Link
	// Disk, if set, boots a board image through its firmware; Kernel,
	// Initramfs, ResultsDir and KernelArgs are then not used (the image
	// holds its own command line).
	Disk *Disk
	// Icount runs the guest on TCG's instruction counter (Icount): its
	// clock counts the instructions it runs, not the host's time.
	Icount bool
}

// Icount are the accelerator arguments of a guest whose clock is its
// instruction count: one nanosecond per instruction (shift=0), idle time
// skipped at once (sleep=off), on one host thread (which the counter
// needs). A benchmark's figures then measure the work each message costs
// in instructions, whatever else the host is doing, so two modules compare
// without the host's noise (docs/benchmark.md). Such a guest has one vCPU
// (IcountSMP): with two, the x86_64 guest's boot never got past its
// second CPU's bring-up under the counter (2026-12-08).
var (
	Icount    = []string{"-accel", "tcg,thread=single", "-icount", "shift=0,sleep=off"}
	IcountSMP = []string{"-smp", "1"}
)

// Link is a network between two guests: a virtio NIC on each, joined by a
// QEMU stream netdev over a Unix socket, so nothing is reachable from or
// on the host's network. The server guest creates the socket; the client
// waits for it before QEMU starts.
type Link struct {
	Socket string
	Server bool
	MAC    net.HardwareAddr
	// Wait bounds how long a client waits for the server's socket.
	Wait time.Duration
}

// ErrNoLink means the client guest's peer never opened the link.
var ErrNoLink = errors.New("the peer guest never opened the network link")

// ErrTimeout means QEMU was killed at the hard timeout.
var ErrTimeout = errors.New("guest timed out")

// Result is what a boot produced.
type Result struct {
	Cmdline  string // the exact QEMU command line, ready to paste into a shell
	Duration time.Duration
}

func (c Config) options() (*qemu.Options, error) {
	q := c.Target.QEMU
	timeout := c.Timeout
	if timeout == 0 {
		timeout = c.Target.Timeout
	}
	machine := q.Machine
	if c.Disk != nil && c.Disk.Machine != nil {
		machine = c.Disk.Machine
	}
	accel := Accel(c.Target)
	if c.Icount {
		accel = Icount
		// After the machine's own -smp: QEMU takes the last.
		machine = append(append([]string{}, machine...), IcountSMP...)
	}
	qemuCmd := strings.Join(append([]string{q.Binary}, append(accel, machine...)...), " ")
	if d := c.Disk; d != nil {
		return qemu.OptionsFor(q.Arch, append(d.fns(), qemu.WithQEMUCommand(qemuCmd), qemu.WithVMTimeout(timeout))...)
	}
	fns := []qemu.Fn{
		qemu.WithQEMUCommand(qemuCmd),
		qemu.WithKernel(c.Kernel),
		qemu.WithInitramfs(c.Initramfs),
		qemu.WithAppendKernel(append(append([]string{"console=" + q.Console, "loglevel=5"}, q.KernelArgs...), c.KernelArgs...)...),
		qemu.HaltOnKernelPanic(),
		qemu.WithVMTimeout(timeout),
	}
	if c.ResultsDir != "" {
		fns = append(fns, qemu.P9Directory(c.ResultsDir, guestproto.MountTag))
	}
	if l := c.Link; l != nil {
		type sock = qnetwork.SocketBackend
		fns = append(fns, qnetwork.New(
			qnetwork.WithDevice[sock](qnetwork.WithNIC(qnetwork.NIC(q.NIC)), qnetwork.WithMAC(l.MAC)),
			qnetwork.WithSocket(qnetwork.IsServer(l.Server), qnetwork.WithUnixSocket(l.Socket)),
		))
	}
	return qemu.OptionsFor(q.Arch, fns...)
}

// Run boots the guest and waits until it powers off or the timeout kills it.
func Run(ctx context.Context, c Config) (Result, error) {
	opts, err := c.options()
	if err != nil {
		return Result{}, fmt.Errorf("qemu options: %w", err)
	}
	if c.Serial != nil {
		opts.SerialOutput = append(opts.SerialOutput, nopCloser{c.Serial})
	}
	var end *endWatcher
	if d := c.Disk; d != nil && d.EndMarker != "" {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		end = &endWatcher{find: guestproto.MarkerFinder{Marker: d.EndMarker}, grace: d.EndGrace, stop: stop}
		opts.SerialOutput = append(opts.SerialOutput, end)
	}
	var res Result
	if args, err := opts.Cmdline(); err == nil {
		res.Cmdline = quote(args)
	}
	if err := c.Link.awaitServer(ctx); err != nil {
		return res, err
	}
	start := time.Now()
	v, err := opts.Start(ctx)
	if err != nil {
		return res, fmt.Errorf("starting %s: %w", c.Target.QEMU.Binary, err)
	}
	err = v.Wait()
	res.Duration = time.Since(start)
	if end != nil && end.ended() {
		// The guest said it was done; QEMU exiting on its own or being
		// stopped after the grace are both a normal end.
		return res, nil
	}
	timeout := opts.VMTimeout
	if ctx.Err() == nil && res.Duration >= timeout {
		return res, fmt.Errorf("%w: QEMU killed after %v (limit %v)", ErrTimeout, res.Duration.Round(time.Second), timeout)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("guest run cancelled: %w", ctx.Err())
	}
	if err != nil {
		return res, fmt.Errorf("QEMU exited: %w", err)
	}
	return res, nil
}

// awaitServer returns once a client link's socket exists: QEMU does not
// retry a stream connection that was refused.
func (l *Link) awaitServer(ctx context.Context) error {
	if l == nil || l.Server {
		return nil
	}
	wait := l.Wait
	if wait == 0 {
		wait = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if fi, err := os.Stat(l.Socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no socket %s after %v", ErrNoLink, l.Socket, wait)
		case <-tick.C:
		}
	}
}

// Shell boots the guest with the console on this terminal, for a person;
// c's kernel arguments ask the guest for a shell.
func Shell(ctx context.Context, c Config) error {
	opts, err := c.options()
	if err != nil {
		return err
	}
	args, err := opts.Cmdline()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "rig: %s\nrig: type 'poweroff' in the guest to leave (or Ctrl-a x)\n", quote(args))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

func quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"|&;()<>*?$") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
