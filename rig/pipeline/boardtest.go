package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/kbus-project/kbus/rig/flash"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/serial"
)

// DeskBoard is a board on the desk, not in a farm (rig board-test): its
// serial console, how it is powered on, and the card to flash.
type DeskBoard struct {
	Console string // the serial device, e.g. /dev/ttyUSB0
	Baud    int    // 0 means the profile's
	// PowerCmd power-cycles the board (a USB relay, an SD mux, labgrid);
	// run with sh -c once the console is open. Empty: a person does it.
	PowerCmd string
	// Flash, if set, is the card the image is written to first (rig flash's
	// checks apply; Force is its --force).
	Flash string
	Force bool
	// Silent is how long the board may say nothing after power-on.
	Silent time.Duration
	Prompt func(msg string) // tells the person what to do; nil prints to the log
}

// RunDeskBoard builds the board's image, optionally flashes it, powers the
// board, reads its console until the guest's end marker, and turns the
// console's LAVA signals and status line into the report folder.
func RunDeskBoard(ctx context.Context, cfg Config, d DeskBoard) *Outcome {
	r := newRunner(cfg)
	img, _, err := r.buildBoardImage(ctx)
	if err == nil {
		err = r.deskBoard(ctx, img.Image, d)
	}
	return r.finish(err)
}

func (r *runner) deskBoard(ctx context.Context, img string, d DeskBoard) error {
	b := r.cfg.Board
	if d.Baud == 0 {
		d.Baud = b.Baud
	}
	if d.Silent == 0 {
		d.Silent = 2 * time.Minute
	}
	say := d.Prompt
	if say == nil {
		say = func(msg string) { r.logf("%s", msg) }
	}
	if d.Flash != "" {
		if err := r.stage("flash", func() (string, error) {
			rep, err := flash.Flash(ctx, flash.Options{Image: img, Device: d.Flash, Force: d.Force, Progress: r.cfg.Log})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d bytes to %s, verified", rep.Written, d.Flash), nil
		}); err != nil {
			return err
		}
		if d.PowerCmd == "" {
			say(fmt.Sprintf("move the card %s into the %s and power it on", d.Flash, b.Name))
		}
	}
	share, err := r.freshResults()
	if err != nil {
		return err
	}
	serialPath := filepath.Join(r.out.ReportDir, report.SerialFile)
	host, _ := r.timeouts()
	boot := func() error {
		con, err := serial.Open(d.Console, d.Baud)
		if err != nil {
			return err
		}
		defer con.Close()
		log, err := os.Create(serialPath)
		if err != nil {
			return err
		}
		defer log.Close()
		if d.PowerCmd != "" {
			r.logf("power: %s", d.PowerCmd)
			cmd := exec.CommandContext(ctx, "sh", "-c", d.PowerCmd)
			cmd.Stdout, cmd.Stderr = r.cfg.Log, r.cfg.Log
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("the power command %q: %w", d.PowerCmd, err)
			}
		} else if d.Flash == "" {
			say(fmt.Sprintf("power the %s on now (its card holds %s)", b.Name, img))
		}
		r.logf("reading %s at %d baud (console in %s)", d.Console, d.Baud, serialPath)
		if err := serial.Watch(ctx, con, log, guestproto.EndMarker, d.Silent, host, endGrace); err != nil {
			return fmt.Errorf("%w%s", err, consoleTail(serialPath))
		}
		return nil
	}
	fetch := func() (string, error) {
		f, err := os.Open(serialPath)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := report.ConsoleShare(f, share); err != nil {
			return "", err
		}
		return "from the console's LAVA signals and status line", nil
	}
	return r.bootThenCollect(share, boot, fetch, nil)
}
