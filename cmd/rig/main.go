// Command rig builds KBUS guests, boots them in QEMU or on boards, and
// reports on the specs they ran. Its verbs (commands.go is the table):
//
//	rig test       build, boot, run the specs, write the report
//	rig bench      build, boot, run the benchmark, print its figures
//	rig shell      build, then boot the same image to a shell on the console
//	rig report     write the run's page from its targets' reports
//	rig accept     sign a run off, or check a sign-off
//	rig image      build a board's disk image (out/images/B)
//	rig flash      write an image to an SD card or USB disk, safely
//	rig lava-jobs  write the board's LAVA job definitions (out/lava/B)
//	rig lava-test  run the board's QEMU job with lava-run, check LAVA's results
//	rig board-test test a real board on the desk over its serial line
//	rig target     the targets, kernel flavours and boards
//	rig version    print rig's version
//
// "rig VERB -h" lists what each verb accepts.
//
// Exit status: 0 every spec passed; 1 specs failed, none ran, or the kernel
// splatted; 2 infrastructure error (build failed, guest hung, panicked or
// never reported); 64 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usageExit = 64

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		printUsage(stderr, cmds)
		return usageExit
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) == 2 && lookup(cmds, args[1]) != nil {
			c := lookup(cmds, args[1])
			c.printHelp(stdout)
			return 0
		}
		printUsage(stdout, cmds)
		return 0
	case "--version", "-version":
		name = "version"
	}
	c := lookup(cmds, name)
	if c == nil {
		fmt.Fprintf(stderr, "rig: unknown command %q; \"rig -h\" lists them\n", name)
		return usageExit
	}
	inv, err := parse(c, args[1:], stdout, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return usageExit
	}
	return c.Run(ctx, inv)
}

// parse reads a verb's flags and vets them: -h prints the verb's help to
// stdout (flag.ErrHelp); a bad command line is said on stderr with the
// verb's usage line.
func parse(c *command, args []string, stdout, stderr io.Writer) (*invocation, error) {
	o := &options{}
	fs := c.flagSet(o, stderr)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(stdout)
		return nil, err
	}
	if err == nil {
		if err = vet(c, fs, o); err != nil {
			fmt.Fprintf(stderr, "rig %s: %v\n", c.Name, err)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "usage: %s (\"rig %s -h\" lists its flags)\n", c.usageLine(), c.Name)
		return nil, err
	}
	return &invocation{cmd: c, opts: o, args: fs.Args(), stdout: stdout, stderr: stderr}, nil
}
