// Command kbus uses a KBUS bus from a shell: send, request, listen, reply,
// inspect bindings and statistics, and explain errors.
//
//	kbus send NAME [DATA]          send an announcement
//	kbus request NAME [DATA]       send a request and print its reply
//	kbus listen PATTERN...         print messages as they arrive
//	kbus reply PATTERN --exec CMD  answer requests with a command's output
//	kbus bindings | stats          what /proc/kbus shows, as a table or JSON
//	kbus errno N|NAME              what an error number means to KBUS
//	kbus newdevice                 create the next /dev/kbusN
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

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

var commands = []command{
	{"send", "NAME [DATA]", "send an announcement; DATA from the argument, --file or stdin (-)", runSend},
	{"request", "NAME [DATA]", "send a request and print the reply, or the KBUS status that replaced it", runRequest},
	{"listen", "PATTERN...", "bind as listener and print every message (--json for JSON lines)", runListen},
	{"reply", "PATTERN --exec CMD", "be the replier: each request's data goes to CMD's stdin, its stdout is the reply", runReply},
	{"bindings", "", "the bindings of every device (/proc/kbus/bindings), as a table or --json", runBindings},
	{"stats", "", "the state of every device and Ksock (/proc/kbus/stats), as a table or --json", runStats},
	{"errno", "N|NAME", "explain an error number: its Linux meaning and every KBUS meaning", runErrno},
	{"newdevice", "", "create the next KBUS device and print its number", runNewDevice},
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: kbus COMMAND [flags] [arguments]\n\nKBUS from a shell. Commands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %-20s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nEvery command takes --device N (default 0). 'kbus COMMAND --help' shows its flags.\n")
	fmt.Fprintf(w, "Exit status: 0 success, 1 KBUS or system error, 2 bad usage, 3 a request got a status instead of a reply.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		var ue usageError
		var se statusError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "kbus %s: %v\n", c.name, err)
			return 2
		case errors.As(err, &se):
			fmt.Fprintf(stderr, "kbus %s: %v\n", c.name, err)
			return 3
		default:
			fmt.Fprintf(stderr, "kbus %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "kbus: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags makes a subcommand's flag set with the common --device flag.
func newFlags(name, args, summary string, stderr io.Writer) (*flag.FlagSet, *int) {
	fs := flag.NewFlagSet("kbus "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Int("device", 0, "KBUS device number: /dev/kbusN")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kbus %s [flags] %s\n\n%s\n\nflags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs, dev
}

// parse parses flags anywhere among the arguments ("kbus reply '$.A' --exec cat").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
