package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// statusError is a request answered by KBUS (or a Limpet) instead of a
// replier: exit status 3.
type statusError struct{ err *kbus.StatusError }

func (e statusError) Error() string { return e.err.Error() }

// timeoutError is a wait that ended before what was waited for came:
// exit status 4.
type timeoutError struct{ msg string }

func (e timeoutError) Error() string { return e.msg }

// readData returns the message data from the argument, a file or stdin
// ("-"); bytes are passed through untouched.
func readData(args []string, file string, stdin io.Reader) ([]byte, error) {
	switch {
	case file != "" && len(args) > 0:
		return nil, usageError{"give DATA or --file, not both"}
	case file == "-":
		return io.ReadAll(stdin)
	case file != "":
		return os.ReadFile(file)
	case len(args) == 0:
		return nil, nil
	case args[0] == "-":
		return io.ReadAll(stdin)
	default:
		return []byte(args[0]), nil
	}
}

func checkName(name string, wildcard bool) error {
	if err := kbus.ValidateName(name, wildcard); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// openToSend parses the flags and "NAME [DATA|-]", checks the name, reads
// the data and opens a Ksock for writing. dev and file are flags of fs.
// openToSend parses a sending command's line, checks it (and with vet,
// if given, the flags that go together) and opens the device.
func openToSend(fs *flag.FlagSet, args []string, dev *int, file *string, stdin io.Reader,
	vet func() error) (string, []byte, *kbus.Ksock, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", nil, nil, err
	}
	if vet != nil {
		if err := vet(); err != nil {
			return "", nil, nil, err
		}
	}
	if len(pos) < 1 || len(pos) > 2 {
		return "", nil, nil, usageError{"want NAME and at most one DATA"}
	}
	if err := checkName(pos[0], false); err != nil {
		return "", nil, nil, err
	}
	data, err := readData(pos[1:], *file, stdin)
	if err != nil {
		return "", nil, nil, err
	}
	ks, err := kbus.Open(*dev, kbus.ReadWrite)
	if err != nil {
		return "", nil, nil, err
	}
	return pos[0], data, ks, nil
}

func runSend(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("send", "NAME [DATA|-]", "Send an announcement and print its id.", stdout)
	dev := deviceFlag(fs)
	file := fs.String("file", "", "read the data from this file (- for stdin)")
	urgent := fs.Bool("urgent", false, "jump the queue of every recipient")
	allOrFail := fs.Bool("all-or-fail", false, "deliver to every listener or to none (EBUSY)")
	allOrWait := fs.Bool("all-or-wait", false, "wait until every listener has room")
	name, data, ks, err := openToSend(fs, args, dev, file, stdin, func() error {
		if *allOrFail && *allOrWait {
			return usageError{"--all-or-fail and --all-or-wait exclude each other (KBUS refuses both with EINVAL)"}
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer ks.Close()
	m := kbus.NewAnnouncement(name, data)
	if *urgent {
		m.Flags |= kbus.FlagUrgent
	}
	if *allOrFail {
		m.Flags |= kbus.FlagAllOrFail
	}
	if *allOrWait {
		m.Flags |= kbus.FlagAllOrWait
	}
	id, err := ks.SendWait(ctx, m)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, id)
	return nil
}

func runRequest(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("request", "NAME [DATA|-]",
		"Send a request and print the reply, or the status KBUS sent in its place (exit status 3).", stdout)
	dev := deviceFlag(fs)
	file := fs.String("file", "", "read the data from this file (- for stdin)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the reply")
	to := fs.Uint("to", 0, "address the request to this Ksock id (a stateful request)")
	dataOnly := fs.Bool("data", false, "print only the reply's data, raw")
	asJSON := fs.Bool("json", false, "print the reply as JSON (name as a string, data base64-encoded)")
	name, data, ks, err := openToSend(fs, args, dev, file, stdin, nil)
	if err != nil {
		return err
	}
	defer ks.Close()
	m := kbus.NewRequest(name, data)
	m.To = uint32(*to)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rep, err := ks.Request(ctx, m)
	var st *kbus.StatusError
	switch {
	case errors.As(err, &st):
		if err := printMsg(stdout, st.Status, *asJSON, *dataOnly); err != nil {
			return err
		}
		return statusError{st}
	case err != nil && ctx.Err() != nil:
		return timeoutError{fmt.Sprintf("no reply to %s within %v", name, *timeout)}
	case err != nil:
		return err
	}
	return printMsg(stdout, rep, *asJSON, *dataOnly)
}

func runListen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("listen", "PATTERN...", "Bind as listener to each name or wildcard and print every message.", stdout)
	dev := deviceFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON lines instead of the printed form (data base64-encoded)")
	count := fs.Int("count", 0, "exit after this many messages (0: run until interrupted)")
	timeout := fs.Duration("timeout", 0, "exit after this long (0: no limit)")
	ready := fs.String("ready", "", "create this file once bound (for scripts)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"want at least one PATTERN"}
	}
	ks, err := kbus.Open(*dev, kbus.ReadOnly)
	if err != nil {
		return err
	}
	defer ks.Close()
	for _, p := range pos {
		if err := checkName(p, true); err != nil {
			return err
		}
		if err := ks.BindListener(p); err != nil {
			return err
		}
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, nil, 0o644); err != nil {
			return err
		}
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	n := 0
	for m, err := range ks.Messages(ctx) {
		if err != nil {
			return err
		}
		if err := printMsg(stdout, m, *asJSON, false); err != nil {
			return err
		}
		if n++; n == *count {
			return nil
		}
	}
	if *count > 0 && ctx.Err() == context.DeadlineExceeded {
		return timeoutError{fmt.Sprintf("%d of %d messages within %v", n, *count, *timeout)}
	}
	return nil
}

func runReply(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("reply", "PATTERN (--exec CMD | --data DATA)",
		"Bind as replier; for each request run CMD (with sh -c) with the request's data on stdin\n"+
			"and KBUS_NAME, KBUS_FROM, KBUS_ID in its environment; its stdout is the reply's data.\n"+
			"Or answer every request with the same DATA.", stdout)
	dev := deviceFlag(fs)
	execCmd := fs.String("exec", "", "the command that computes each reply")
	fixed := fs.String("data", "", "answer every request with this data")
	count := fs.Int("count", 0, "exit after answering this many requests (0: run until interrupted)")
	ready := fs.String("ready", "", "create this file once bound (for scripts)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	dataSet := false
	fs.Visit(func(f *flag.Flag) { dataSet = dataSet || f.Name == "data" })
	if len(pos) != 1 || (*execCmd == "") == !dataSet {
		return usageError{"want one PATTERN and one of --exec CMD or --data DATA"}
	}
	if err := checkName(pos[0], true); err != nil {
		return err
	}
	ks, err := kbus.Open(*dev, kbus.ReadWrite)
	if err != nil {
		return err
	}
	defer ks.Close()
	// The shell by its full path: multi-call binaries (busybox, u-root)
	// find out what to be from it.
	shell := ""
	if *execCmd != "" {
		if shell, err = exec.LookPath("sh"); err != nil {
			return fmt.Errorf("--exec needs a shell: %w", err)
		}
	}
	if err := ks.BindReplier(pos[0]); err != nil {
		return err
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, nil, 0o644); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answered := 0
	return ks.Serve(ctx, func(ctx context.Context, req *kbus.Message) ([]byte, error) {
		if !req.WantsUsToReply() {
			return nil, nil
		}
		out := []byte(*fixed)
		if shell != "" {
			cmd := exec.CommandContext(ctx, shell, "-c", *execCmd)
			cmd.Stdin = bytes.NewReader(req.Data)
			cmd.Stderr = stderr
			cmd.Env = append(os.Environ(), "KBUS_NAME="+req.Name, fmt.Sprintf("KBUS_FROM=%d", req.From), "KBUS_ID="+req.ID.String())
			var err error
			if out, err = cmd.Output(); err != nil {
				fmt.Fprintf(stderr, "kbus reply: %s for %v: %v (replying with its output anyway)\n", *execCmd, req.ID, err)
			}
		}
		if answered++; answered == *count {
			cancel() // Serve sends this reply, then returns
		}
		return out, nil
	})
}

// jsonMessage is the JSON form of a message for --json.
type jsonMessage struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	ID        string `json:"id"`
	InReplyTo string `json:"in_reply_to,omitempty"`
	To        uint32 `json:"to,omitempty"`
	From      uint32 `json:"from,omitempty"`
	Flags     uint32 `json:"flags"`
	Data      []byte `json:"data"` // base64
}

func printMsg(w io.Writer, m *kbus.Message, asJSON, dataOnly bool) error {
	switch {
	case dataOnly:
		_, err := w.Write(m.Data)
		return err
	case asJSON:
		j := jsonMessage{Kind: m.Kind().String(), Name: m.Name, ID: m.ID.String(), To: m.To, From: m.From,
			Flags: m.Flags, Data: m.Data}
		if m.IsReply() {
			j.InReplyTo = m.InReplyTo.String()
		}
		return json.NewEncoder(w).Encode(j)
	default:
		_, err := fmt.Fprintln(w, m)
		return err
	}
}
