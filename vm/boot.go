// Package vm boots a rig image in QEMU through hugelgupf/vmtest's qemu
// package: the architecture's machine, the 9P results share, the serial
// console captured to a log, and a hard timeout.
package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hugelgupf/vmtest/qemu"
	"github.com/kbus-project/kbus/arch"
)

// Config is one boot of a guest.
type Config struct {
	Arch      arch.Arch
	Kernel    string
	Initramfs string
	// ResultsDir is shared with the guest over 9P under results.MountTag.
	ResultsDir string
	ShareTag   string
	// KernelArgs are appended to the kernel command line.
	KernelArgs []string
	// Timeout kills QEMU when exceeded; 0 means Arch.Timeout.
	Timeout time.Duration
	// Serial receives the guest's console.
	Serial io.Writer
}

// ErrTimeout means QEMU was killed at the hard timeout.
var ErrTimeout = errors.New("guest timed out")

// Result is what a boot produced.
type Result struct {
	Cmdline  string // the exact QEMU command line, ready to paste into a shell
	Duration time.Duration
}

func (c Config) options() (*qemu.Options, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = c.Arch.Timeout
	}
	qemuCmd := strings.Join(append([]string{c.Arch.Binary}, append(c.Arch.Accel(), c.Arch.Machine...)...), " ")
	fns := []qemu.Fn{
		qemu.WithQEMUCommand(qemuCmd),
		qemu.WithKernel(c.Kernel),
		qemu.WithInitramfs(c.Initramfs),
		qemu.WithAppendKernel(append([]string{"console=" + c.Arch.Console, "loglevel=5"}, c.KernelArgs...)...),
		qemu.HaltOnKernelPanic(),
		qemu.WithVMTimeout(timeout),
	}
	if c.ResultsDir != "" {
		fns = append(fns, qemu.P9Directory(c.ResultsDir, c.ShareTag))
	}
	return qemu.OptionsFor(c.Arch.QEMU, fns...)
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
	var res Result
	if args, err := opts.Cmdline(); err == nil {
		res.Cmdline = quote(args)
	}
	start := time.Now()
	v, err := opts.Start(ctx)
	if err != nil {
		return res, fmt.Errorf("starting %s: %w", c.Arch.Binary, err)
	}
	err = v.Wait()
	res.Duration = time.Since(start)
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

// Shell boots the guest with the console on this terminal, for a person.
func Shell(ctx context.Context, c Config) error {
	c.KernelArgs = append(c.KernelArgs, "rig.mode=shell")
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
