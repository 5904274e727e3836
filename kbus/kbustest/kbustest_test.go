package kbustest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/kbustest"
	"github.com/kbus-project/kbus/kbus/model"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestRequestAndReply(t *testing.T) {
	bus := kbustest.New()
	asker, server := bus.Open(), bus.Open()
	if err := server.BindReplier("$.Clock.Time"); err != nil {
		t.Fatal(err)
	}
	go func() {
		req, err := server.Receive(context.Background())
		if err == nil {
			_, _ = server.Reply(req, []byte("12:00"))
		}
	}()
	rep, err := asker.Request(ctx(t), kbus.NewRequest("$.Clock.Time", nil))
	if err != nil {
		t.Fatal(err)
	}
	if string(rep.Data) != "12:00" {
		t.Fatalf("reply %q", rep.Data)
	}
}

func TestAStatusWhenTheReplierGoes(t *testing.T) {
	bus := kbustest.New()
	asker, server := bus.Open(), bus.Open()
	if err := server.BindReplier("$.Clock.Time"); err != nil {
		t.Fatal(err)
	}
	go func() {
		if _, err := server.Receive(context.Background()); err == nil {
			server.Close() // read it, then went away: Ignored
		}
	}()
	_, err := asker.Request(ctx(t), kbus.NewRequest("$.Clock.Time", nil))
	if !errors.Is(err, kbus.ErrIgnored) {
		t.Fatalf("got %v, want ErrIgnored", err)
	}
}

func TestErrnosAsTheModuleGivesThem(t *testing.T) {
	bus := kbustest.New()
	k := bus.Open()
	if _, err := k.Send(kbus.NewRequest("$.Nobody", nil)); !errors.Is(err, kbus.ErrNoReplier) {
		t.Errorf("request to nobody: %v", err)
	}
	if err := k.BindListener("$.bad..name"); !errors.Is(err, kbus.ErrBadName) {
		t.Errorf("bad name: %v", err)
	}
	if err := k.BindReplier("$.A"); err != nil {
		t.Fatal(err)
	}
	if err := bus.Open().BindReplier("$.A"); !errors.Is(err, kbus.ErrReplierExists) {
		t.Errorf("second replier: %v", err)
	}
	k.Close()
	if _, err := k.Send(kbus.NewAnnouncement("$.A", nil)); !errors.Is(err, kbus.ErrClosed) {
		t.Errorf("after close: %v", err)
	}
}

func TestListenersInSendOrder(t *testing.T) {
	bus := kbustest.New()
	l, s := bus.Open(), bus.Open()
	if err := l.BindListener("$.News.*"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"$.News.A", "$.News.B", "$.Other", "$.News.C"} {
		if _, err := s.Send(kbus.NewAnnouncement(name, nil)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		m, err := l.TryReceive()
		if err != nil {
			t.Fatal(err)
		}
		if m == nil {
			break
		}
		got = append(got, m.Name)
	}
	if fmt.Sprint(got) != "[$.News.A $.News.B $.News.C]" {
		t.Fatalf("got %v", got)
	}
}

func TestReceiveEndsWithItsContext(t *testing.T) {
	k := kbustest.New().Open()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := k.Receive(c); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestRequestKeepsOtherMessages(t *testing.T) {
	bus := kbustest.New()
	asker, server := bus.Open(), bus.Open()
	if err := server.BindReplier("$.Q"); err != nil {
		t.Fatal(err)
	}
	if err := asker.BindListener("$.News"); err != nil {
		t.Fatal(err)
	}
	go func() {
		req, err := server.Receive(context.Background())
		if err != nil {
			return
		}
		_, _ = server.Send(kbus.NewAnnouncement("$.News", []byte("first")))
		_, _ = server.Reply(req, []byte("answer"))
	}()
	if rep, err := asker.Request(ctx(t), kbus.NewRequest("$.Q", nil)); err != nil || string(rep.Data) != "answer" {
		t.Fatalf("request: %v %v", rep, err)
	}
	m, err := asker.Receive(ctx(t))
	if err != nil || string(m.Data) != "first" {
		t.Fatalf("kept message: %v %v", m, err)
	}
}

// A replier that never reads fills up by its MAXMSGS, and, with MAXMSGS
// raised, by the bytes its queue holds: the requests after that fail with
// ErrQueueFull, as the module's do (docs/kbus.md §18.1).
func TestAQueueIsBoundedByItsCountAndItsBytes(t *testing.T) {
	bus := kbustest.New()
	replier, asker := bus.Open(), bus.Open()
	if err := replier.BindReplier("$.Slow"); err != nil {
		t.Fatal(err)
	}
	if n, err := replier.SetMaxMessages(2); err != nil || n != 2 {
		t.Fatalf("MAXMSGS 2: %d, %v", n, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := asker.Send(kbus.NewRequest("$.Slow", nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := asker.Send(kbus.NewRequest("$.Slow", nil)); !errors.Is(err, kbus.ErrQueueFull) {
		t.Errorf("the third request to a queue of two: %v", err)
	}

	bus = kbustest.New()
	replier, asker = bus.Open(), bus.Open()
	if err := replier.BindReplier("$.Slow"); err != nil {
		t.Fatal(err)
	}
	if _, err := replier.SetMaxMessages(1 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := asker.SetMaxMessages(1 << 20); err != nil {
		t.Fatal(err)
	}
	big := kbus.NewRequest("$.Slow", make([]byte, 400000))
	fit := model.DefaultMaxQueueBytes / model.QueueBytes(big)
	for i := 0; i < fit; i++ {
		if _, err := asker.Send(big); err != nil {
			t.Fatalf("request %d of the %d that fit: %v", i, fit, err)
		}
	}
	if _, err := asker.Send(big); !errors.Is(err, kbus.ErrQueueFull) {
		t.Errorf("a request past %d bytes of queue: %v", model.DefaultMaxQueueBytes, err)
	}
}

// A member of the device's group (not its owner) may hold only so many
// bindings, counted over its Ksocks (docs/kbus.md §18.5); root may hold any.
func TestAMembersBindingsAreBounded(t *testing.T) {
	bus := kbustest.New()
	bus.SetMaxUserBindings(2)
	a, b, root := bus.OpenAsMember(), bus.OpenAsMember(), bus.Open()
	if err := a.BindListener("$.*"); err != nil {
		t.Fatal(err)
	}
	if err := b.BindListener("$.*"); err != nil {
		t.Fatal(err)
	}
	err := b.BindReplier("$.Tuner.Tune")
	if !errors.Is(err, kbus.ErrTooManyBindings) {
		t.Fatalf("a third binding: %v, want ENOSPC", err)
	}
	for i := 0; i < 5; i++ {
		if err := root.BindListener("$.*"); err != nil {
			t.Fatalf("root's binding %d: %v", i, err)
		}
	}
	if err := a.UnbindListener("$.*"); err != nil {
		t.Fatal(err)
	}
	if err := b.BindReplier("$.Tuner.Tune"); err != nil {
		t.Errorf("after an unbind: %v", err)
	}
}

// A read-only Ksock binds and receives but does not send.
func TestAReadOnlyKsockDoesNotSend(t *testing.T) {
	bus := kbustest.New()
	ro := bus.OpenReadOnly()
	if err := ro.BindListener("$.RO"); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Send(kbus.NewAnnouncement("$.RO", nil)); !errors.Is(err, kbus.ErrReadOnly) {
		t.Errorf("send from a read-only Ksock: %v, want ErrReadOnly", err)
	}
	if _, err := bus.Open().Send(kbus.NewAnnouncement("$.RO", nil)); err != nil {
		t.Fatal(err)
	}
	if m, err := ro.Receive(ctx(t)); err != nil || m.Name != "$.RO" {
		t.Errorf("receive: %v %v", m, err)
	}
}

// WaitForReplier returns once a replier binds, and ends with its context.
func TestWaitForReplier(t *testing.T) {
	bus := kbustest.New()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := bus.WaitForReplier(c, "$.Late"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with nobody bound: %v", err)
	}
	server := bus.Open()
	go func() { _ = server.BindReplier("$.Late") }()
	if err := bus.WaitForReplier(ctx(t), "$.Late"); err != nil {
		t.Error(err)
	}
}
