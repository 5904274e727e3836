package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"unicode"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/procfs"
	"golang.org/x/sys/unix"
)

func runBindings(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("bindings", "", "Show every binding of every device (newest first).", stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	only := fs.String("device", "", "show only device `N`'s bindings (/dev/kbusN; default: every device's)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var devices []int
	if *only != "" {
		n, err := strconv.Atoi(*only)
		if err != nil || n < 0 {
			return usageError{fmt.Sprintf("--device %q: want a device number, 0 or more", *only)}
		}
		devices = []int{n}
	}
	bs, err := procfs.ReadBindings(devices...)
	if err != nil {
		return err
	}
	if *asJSON {
		if bs == nil {
			bs = []procfs.Binding{}
		}
		return json.NewEncoder(stdout).Encode(bs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tKSOCK\tPID\tROLE\tNAME")
	for _, b := range bs {
		role := "listener"
		if b.Replier {
			role = "replier"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\n", b.Device, b.Ksock, b.PID, role, b.Name)
	}
	return tw.Flush()
}

func runStats(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("stats", "", "Show the state of every device and Ksock.", stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	devs, err := procfs.ReadStats()
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(devs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tKSOCK\tQUEUE\tLAST SENT\tAWAITING REPLIES\tOWES REPLIES\tSENDING")
	for _, d := range devs {
		tragic := ""
		if d.Tragic {
			tragic = " (gone tragic)"
		}
		fmt.Fprintf(tw, "%d\t-\t-\tnext msg %d\tunsent unbindings %d%s\t\t\n", d.Index, d.NextMsg, d.UnsentUnbindings, tragic)
		for _, k := range d.Ksocks {
			fmt.Fprintf(tw, "%d\t%d\t%d/%d\t%s\t%d\t%d\t%v\n", d.Index, k.ID, k.Queued, k.MaxMessages, k.LastMsg,
				k.Outstanding, k.UnsentReplies, k.Sending)
		}
	}
	return tw.Flush()
}

func runErrno(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("errno", "N|NAME", "Explain an error number (32, 0x20 or EPIPE).", stdout)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want one error number or name"}
	}
	n, err := lookupErrno(pos[0])
	if err != nil {
		return err
	}
	name := unix.ErrnoName(n)
	meaning := []rune(n.Error())
	if len(meaning) > 0 {
		meaning[0] = unicode.ToUpper(meaning[0])
	}
	fmt.Fprintf(stdout, "Error %d (0x%x) is %s: %s\n", int(n), int(n), name, string(meaning))
	e, ok := kbus.ErrnoFor(n)
	if !ok {
		fmt.Fprintln(stdout, "KBUS does not use this error.")
		return nil
	}
	says := e.Meaning()
	if !strings.HasSuffix(says, "?") {
		says += "."
	}
	fmt.Fprintf(stdout, "To KBUS it means %s\n", says)
	fmt.Fprintln(stdout, "KBUS returns it for:")
	for _, s := range e.Situations() {
		fmt.Fprintf(stdout, "  - %s\n", s)
	}
	return nil
}

func lookupErrno(s string) (syscall.Errno, error) {
	if v, err := strconv.ParseUint(s, 0, 16); err == nil {
		if v == 0 || unix.ErrnoName(syscall.Errno(v)) == "" {
			return 0, usageError{fmt.Sprintf("%s is not a Linux error number", s)}
		}
		return syscall.Errno(v), nil
	}
	for n := syscall.Errno(1); n < 200; n++ {
		if unix.ErrnoName(n) == strings.ToUpper(s) {
			return n, nil
		}
	}
	return 0, usageError{fmt.Sprintf("%q is neither an error number nor a name like EPIPE", s)}
}

func runNewDevice(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("newdevice", "", "Create the next KBUS device (its node appears shortly after) and print its number.", stdout)
	dev := deviceFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ks, err := kbus.Open(*dev, kbus.ReadOnly)
	if err != nil {
		return err
	}
	defer ks.Close()
	n, err := ks.NewDevice()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, n)
	return nil
}
