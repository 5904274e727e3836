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
//	kbus help [COMMAND]            this list, or a command's flags
//
// Exit status: 0 success, 1 a KBUS or system error, 2 bad usage, 3 a
// request answered by a status message instead of a reply, 4 a timeout
// (request --timeout, listen --count with --timeout).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kbus-project/kbus/internal/version"
	"github.com/kbus-project/kbus/kbus"
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

// Exit statuses.
const (
	exitOK      = 0
	exitError   = 1 // KBUS or the system said no
	exitUsage   = 2
	exitStatus  = 3 // a request got a status message instead of a reply
	exitTimeout = 4
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: kbus COMMAND [flags] [arguments]\n\nKBUS from a shell. Commands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %-20s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\n'kbus help COMMAND' shows a command's flags; 'kbus --version' the version.\n")
	fmt.Fprintf(w, "Exit status: 0 success, 1 KBUS or system error, 2 bad usage, 3 a request got a status\n"+
		"instead of a reply, 4 a timeout.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help":
		usage(stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintf(stdout, "kbus %s\n", version.String())
		return exitOK
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		args = []string{args[1], "--help"}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		if _, err := kbus.DefaultDevice(); err != nil {
			fmt.Fprintf(stderr, "kbus %s: %v\n", c.name, err)
			return exitUsage
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		code := exitCode(err)
		if code != exitOK {
			// The package's errors say "kbus: ..." themselves: say it once.
			msg := strings.TrimPrefix(err.Error(), "kbus: ")
			fmt.Fprintf(stderr, "kbus %s: %s\n", c.name, msg)
			if code == exitUsage {
				fmt.Fprintf(stderr, "Run 'kbus help %s' for its usage.\n", c.name)
			}
		}
		return code
	}
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "kbus: unknown flag %q: flags go after the command\n", args[0])
	} else {
		fmt.Fprintf(stderr, "kbus: unknown command %q\n", args[0])
	}
	fmt.Fprintf(stderr, "Run 'kbus help' for the commands.\n")
	return exitUsage
}

func exitCode(err error) int {
	var (
		ue usageError
		se statusError
		te timeoutError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &se):
		return exitStatus
	case errors.As(err, &te):
		return exitTimeout
	default:
		return exitError
	}
}

// newFlags makes a subcommand's flag set. Its usage goes to stdout, when
// asked for with --help; errors are returned, for run to print once.
func newFlags(name, args, summary string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kbus "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "usage: kbus %s [flags] %s\n\n%s\n", name, args, summary)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(stdout, "\nflags:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// deviceFlag adds --device to a command that opens a device; its default
// is $KBUS_DEVICE (run has refused a value that is no number), else 0.
func deviceFlag(fs *flag.FlagSet) *int {
	dev, _ := kbus.DefaultDevice()
	return fs.Int("device", dev, "KBUS device number: /dev/kbusN (default $"+kbus.DeviceEnv+", else 0)")
}

// parse parses flags anywhere among the arguments ("kbus reply '$.A' --exec cat").
// The flag set's usage is printed when asked for (--help), not on a mistake:
// run prints the mistake and where to find the usage.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	printUsage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = printUsage }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage()
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
