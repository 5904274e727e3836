// Package conformance is one set of cases that every kbus.Conn must pass
// alike: the real Ksock on a KBUS device (specs/api runs them in every
// guest) and kbustest's in-process one (go test runs them on the host).
// A case that passes on one and fails on the other is a difference
// between the bus an application is tested with and the one it ships on;
// the side docs/kbus.md disagrees with is fixed.
//
// Each case opens its own Conns and uses names of its own, so that the
// cases may share a bus, one after another.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// T is what a case needs of its test: *testing.T, or Ginkgo's GinkgoT().
type T interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// Bus opens Conns on one bus: a device, or a kbustest.Bus.
type Bus interface {
	Open() (kbus.Conn, error)
}

// Case is one behaviour every Conn shares.
type Case struct {
	Name string
	Run  func(t T, bus Bus)
}

// Cases are the cases, in the order they are best read.
func Cases() []Case { return cases }

// open opens n Conns on bus, closed when t ends.
func open(t T, bus Bus, n int) []kbus.Conn {
	t.Helper()
	cs := make([]kbus.Conn, n)
	for i := range cs {
		c, err := bus.Open()
		if err != nil {
			t.Fatalf("opening a Conn: %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		cs[i] = c
	}
	return cs
}

// within is a context for one case's waits: long enough for an emulated
// board, short enough that a hang fails the case, not the run.
func within(t T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// serve runs Serve with h on c until the case ends, and reports an error
// Serve returned before then.
func serve(t T, c kbus.Conn, h kbus.Handler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

var cases = []Case{
	{"a request gets its replier's answer", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		asker, replier := cs[0], cs[1]
		must(t, replier.BindReplier("$.Conf.Echo"), "binding the replier")
		serve(t, replier, func(_ context.Context, m *kbus.Message) ([]byte, error) { return m.Data, nil })
		rep, err := asker.Request(within(t), kbus.NewRequest("$.Conf.Echo", []byte("hello")))
		must(t, err, "request")
		if string(rep.Data) != "hello" || rep.Kind() != kbus.KindReply {
			t.Errorf("reply %v %q", rep.Kind(), rep.Data)
		}
	}},
	{"a request nobody answers fails with ErrNoReplier, an *OpError", func(t T, bus Bus) {
		asker := open(t, bus, 1)[0]
		_, err := asker.Request(within(t), kbus.NewRequest("$.Conf.Nobody", nil))
		var op *kbus.OpError
		if !errors.Is(err, kbus.ErrNoReplier) || !errors.As(err, &op) {
			t.Errorf("%v: want an *OpError wrapping ErrNoReplier", err)
		}
	}},
	{"unbinding what is not bound fails with ErrInvalid", func(t T, bus Bus) {
		c := open(t, bus, 1)[0]
		if err := c.UnbindListener("$.Conf.Never"); !errors.Is(err, kbus.ErrInvalid) {
			t.Errorf("%v: want ErrInvalid", err)
		}
	}},
	{"a second replier for a name fails with ErrReplierExists", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		must(t, cs[0].BindReplier("$.Conf.Taken"), "the first replier")
		if err := cs[1].BindReplier("$.Conf.Taken"); !errors.Is(err, kbus.ErrReplierExists) {
			t.Errorf("%v: want ErrReplierExists", err)
		}
		id, found, err := cs[1].FindReplier("$.Conf.Taken")
		first, _ := cs[0].ID()
		if err != nil || !found || id != first {
			t.Errorf("FindReplier: %d %v %v, want %d", id, found, err, first)
		}
	}},
	{"a replier that closes with a request queued gets the requester ErrGoneAway", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		asker, replier := cs[0], cs[1]
		must(t, replier.BindReplier("$.Conf.Leaving"), "binding")
		got := make(chan error, 1)
		go func() {
			_, err := asker.Request(within(t), kbus.NewRequest("$.Conf.Leaving", nil))
			got <- err
		}()
		waitQueued(t, replier)
		must(t, replier.Close(), "closing the replier")
		err := <-got
		var st *kbus.StatusError
		if !errors.Is(err, kbus.ErrGoneAway) || !errors.As(err, &st) {
			t.Errorf("%v: want a *StatusError matching ErrGoneAway", err)
		}
	}},
	{"a handler's *AppError is the requester's, and Serve goes on", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		asker, replier := cs[0], cs[1]
		must(t, replier.BindReplier("$.Conf.Tune"), "binding")
		serve(t, replier, func(_ context.Context, m *kbus.Message) ([]byte, error) {
			if string(m.Data) == "999" {
				return nil, fmt.Errorf("tuning: %w", &kbus.AppError{Text: "no channel 999"})
			}
			return []byte("tuned"), nil
		})
		_, err := asker.Request(within(t), kbus.NewRequest("$.Conf.Tune", []byte("999")))
		var app *kbus.AppError
		if !errors.As(err, &app) || app.Text != "no channel 999" {
			t.Fatalf("%v: want the replier's *AppError", err)
		}
		if _, err := asker.Request(within(t), kbus.NewRequest("$.Conf.Tune", []byte("1"))); err != nil {
			t.Errorf("after the refusal: %v", err)
		}
	}},
	{"an ALL_OR_WAIT request to a full replier waits for room", func(t T, bus Bus) {
		cs := open(t, bus, 3)
		asker, replier, other := cs[0], cs[1], cs[2]
		must(t, replier.BindReplier("$.Conf.Full"), "binding")
		_, err := replier.SetMaxMessages(1)
		must(t, err, "MAXMSGS")
		_, err = other.Send(kbus.NewRequest("$.Conf.Full", nil))
		must(t, err, "filling the replier")
		req := kbus.NewRequest("$.Conf.Full", nil)
		req.Flags |= kbus.FlagAllOrWait
		got := make(chan error, 1)
		go func() {
			_, err := asker.Request(within(t), req)
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("the request did not wait for room: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		for i := 0; i < 2; i++ {
			m, err := replier.Receive(within(t))
			must(t, err, "the replier's receive")
			_, err = replier.Reply(m, nil)
			must(t, err, "the replier's reply")
		}
		if err := <-got; err != nil {
			t.Errorf("once there was room: %v", err)
		}
	}},
	{"listeners hear an announcement in the order they bound, each once", func(t T, bus Bus) {
		cs := open(t, bus, 3)
		sender, a, b := cs[0], cs[1], cs[2]
		must(t, a.BindListener("$.Conf.News.*"), "a binds")
		must(t, b.BindListener("$.Conf.News.Sport"), "b binds")
		for _, d := range []string{"1", "2"} {
			_, err := sender.Send(kbus.NewAnnouncement("$.Conf.News.Sport", []byte(d)))
			must(t, err, "send")
		}
		for _, l := range []kbus.Conn{a, b} {
			for _, want := range []string{"1", "2"} {
				m, err := l.Receive(within(t))
				must(t, err, "receive")
				if string(m.Data) != want {
					t.Errorf("heard %q, want %q", m.Data, want)
				}
			}
			if m, err := l.TryReceive(); m != nil || err != nil {
				t.Errorf("more than each once: %v %v", m, err)
			}
		}
	}},
	{"a wildcard listener hears its own requests and their replies", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		asker, replier := cs[0], cs[1]
		must(t, asker.BindListener("$.Conf.Own.*"), "the asker listens")
		must(t, replier.BindReplier("$.Conf.Own.Q"), "binding the replier")
		serve(t, replier, func(context.Context, *kbus.Message) ([]byte, error) { return []byte("a"), nil })
		_, err := asker.Request(within(t), kbus.NewRequest("$.Conf.Own.Q", nil))
		must(t, err, "request")
		var kinds []kbus.Kind
		for {
			m, err := asker.TryReceive()
			must(t, err, "receive")
			if m == nil {
				break
			}
			kinds = append(kinds, m.Kind())
		}
		if fmt.Sprint(kinds) != fmt.Sprint([]kbus.Kind{kbus.KindRequest, kbus.KindReply}) {
			t.Errorf("the asker kept %v: want its own request and a copy of the reply", kinds)
		}
	}},
	{"MSGONLYONCE makes a message bound twice come once", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		sender, l := cs[0], cs[1]
		must(t, l.BindListener("$.Conf.Twice.*"), "bind")
		must(t, l.BindListener("$.Conf.Twice.A"), "bind again")
		was, err := l.SetOnlyOnce(true)
		must(t, err, "MSGONLYONCE")
		if on, err := l.OnlyOnce(); was || !on || err != nil {
			t.Errorf("MSGONLYONCE was %v, is %v, %v", was, on, err)
		}
		_, err = sender.Send(kbus.NewAnnouncement("$.Conf.Twice.A", nil))
		must(t, err, "send")
		n := 0
		for {
			m, err := l.TryReceive()
			must(t, err, "receive")
			if m == nil {
				break
			}
			n++
		}
		if n != 1 {
			t.Errorf("%d copies, want 1", n)
		}
	}},
	{"MAXMSGS is what was set", func(t T, bus Bus) {
		c := open(t, bus, 1)[0]
		if n, err := c.MaxMessages(); n != 100 || err != nil {
			t.Errorf("default MAXMSGS %d %v, want 100", n, err)
		}
		if n, err := c.SetMaxMessages(7); n != 7 || err != nil {
			t.Errorf("MAXMSGS 7 gave %d %v", n, err)
		}
	}},
	{"Messages ends quietly when its context ends", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		sender, l := cs[0], cs[1]
		must(t, l.BindListener("$.Conf.Seq"), "bind")
		_, err := sender.Send(kbus.NewAnnouncement("$.Conf.Seq", []byte("a")))
		must(t, err, "send")
		ctx, cancel := context.WithCancel(within(t))
		defer cancel()
		var got []string
		for m, err := range l.Messages(ctx) {
			if err != nil {
				got = append(got, "error: "+err.Error())
				break
			}
			got = append(got, string(m.Data))
			cancel()
		}
		if fmt.Sprint(got) != "[a]" {
			t.Errorf("Messages gave %v", got)
		}
	}},
	{"a replier's binding and unbinding are announced while bind events are on", func(t T, bus Bus) {
		cs := open(t, bus, 2)
		watcher, replier := cs[0], cs[1]
		was, err := watcher.SetReportReplierBinds(true)
		if errors.Is(err, kbus.ErrNotPermitted) {
			// A member of the device's group, not its owner (make
			// distro-test's member suites): asking is still anyone's.
			if _, err := watcher.ReportReplierBinds(); err != nil {
				t.Errorf("asking whether bind events are on: %v", err)
			}
			return
		}
		must(t, err, "switching bind events on")
		t.Cleanup(func() { _, _ = watcher.SetReportReplierBinds(was) })
		must(t, watcher.BindListener(kbus.NameReplierBindEvent), "listening to bind events")
		must(t, replier.BindReplier("$.Conf.Announced"), "binding")
		must(t, replier.UnbindReplier("$.Conf.Announced"), "unbinding")
		id, err := replier.ID()
		must(t, err, "ID")
		var got []string
		for i := 0; i < 2; i++ {
			m, err := watcher.Receive(within(t))
			must(t, err, "receive")
			ev, err := m.BindEvent()
			must(t, err, "decoding the event")
			if ev.Binder != id {
				t.Errorf("event from %d, want %d", ev.Binder, id)
			}
			got = append(got, fmt.Sprint(ev.IsBind, " ", ev.Name))
		}
		if fmt.Sprint(got) != "[true $.Conf.Announced false $.Conf.Announced]" {
			t.Errorf("events %v", got)
		}
	}},
	{"operations on a closed Conn fail with ErrClosed", func(t T, bus Bus) {
		c := open(t, bus, 1)[0]
		must(t, c.Close(), "close")
		if _, err := c.Send(kbus.NewAnnouncement("$.Conf.Closed", nil)); !errors.Is(err, kbus.ErrClosed) {
			t.Errorf("send after close: %v, want ErrClosed", err)
		}
	}},
}

// waitQueued waits until c has a message queued, without taking it.
func waitQueued(t T, c kbus.Conn) {
	t.Helper()
	type counter interface{ NumMessages() (uint32, error) }
	n, ok := c.(counter)
	if !ok {
		t.Fatalf("%T cannot say how many messages it holds", c)
	}
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if k, err := n.NumMessages(); err == nil && k > 0 {
			return
		}
	}
	t.Fatal("no message was queued")
}
