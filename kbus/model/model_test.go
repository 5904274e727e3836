package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/kbus-project/kbus/kbus"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAnnouncementReachesEveryListenerBinding(t *testing.T) {
	d := NewDevice()
	a, b, s := d.Open(true), d.Open(true), d.Open(true)
	must(t, a.Bind("$.Fred.*", false))
	must(t, a.Bind("$.Fred.%", false))
	must(t, b.Bind("$.Fred.Jim", false))
	id, err := s.Send(kbus.Message{Name: "$.Fred.Jim", Data: []byte("x")})
	must(t, err)
	if a.NumMessages() != 2 || b.NumMessages() != 1 {
		t.Fatalf("a %d, b %d", a.NumMessages(), b.NumMessages())
	}
	m := b.Next()
	if m.ID != id || m.From != s.ID() || string(m.Data) != "x" || s.LastSent() != id {
		t.Errorf("%v", m)
	}
	a.OnlyOnce(1)
	_, err = s.Send(kbus.Message{Name: "$.Fred.Jim"})
	must(t, err)
	if a.NumMessages() != 3 {
		t.Errorf("MSGONLYONCE: %d queued", a.NumMessages())
	}
}

func TestRequestReplyAndTheReservedSlot(t *testing.T) {
	d := NewDevice()
	r, s := d.Open(true), d.Open(true)
	must(t, r.Bind("$.Ask", true))
	s.SetMaxMessages(1)
	id, err := s.Send(kbus.Message{Name: "$.Ask", Flags: kbus.FlagWantAReply})
	must(t, err)
	if _, err := s.Send(kbus.Message{Name: "$.Ask", Flags: kbus.FlagWantAReply}); !errors.Is(err, kbus.ErrNoRoomForReply) {
		t.Errorf("second request from a full sender: %v", err)
	}
	req := r.Next()
	if !req.WantsUsToReply() || r.UnrepliedTo() != 1 {
		t.Fatalf("%v", req)
	}
	rep, err := kbus.ReplyTo(req, []byte("yes"))
	must(t, err)
	_, err = r.Send(*rep)
	must(t, err)
	if _, err := r.Send(*rep); !errors.Is(err, kbus.ErrNotExpected) {
		t.Errorf("second reply: %v", err)
	}
	got := s.Next()
	if got.InReplyTo != id || string(got.Data) != "yes" || r.UnrepliedTo() != 0 {
		t.Errorf("%v", got)
	}
}

func TestEveryRequestGetsOneReplyOrStatus(t *testing.T) {
	d := NewDevice()
	s := d.Open(true)
	for _, c := range []struct {
		status string
		act    func(r *Ksock)
	}{
		{kbus.NameReplierGoneAway, func(r *Ksock) { r.Close() }},
		{kbus.NameReplierIgnored, func(r *Ksock) { r.Next(); r.Close() }},
		{kbus.NameReplierUnbound, func(r *Ksock) { must(t, r.Unbind("$.Svc", true)) }},
	} {
		r := d.Open(true)
		must(t, r.Bind("$.Svc", true))
		id, err := s.Send(kbus.Message{Name: "$.Svc", Flags: kbus.FlagWantAReply})
		must(t, err)
		c.act(r)
		st := s.Next()
		if st == nil || st.Name != c.status || st.InReplyTo != id || st.Flags != kbus.FlagSynthetic {
			t.Errorf("%s: got %v", c.status, st)
		}
		if s.Next() != nil {
			t.Errorf("%s: a second reply", c.status)
		}
		r.Close()
	}
	if _, err := s.Send(kbus.Message{Name: "$.Svc", Flags: kbus.FlagWantAReply}); !errors.Is(err, kbus.ErrNoReplier) {
		t.Errorf("nobody bound: %v", err)
	}
}

func TestAllOrWaitIsRetriedByPoll(t *testing.T) {
	d := NewDevice()
	r, s := d.Open(true), d.Open(true)
	must(t, r.Bind("$.Svc", true))
	r.SetMaxMessages(1)
	_, err := d.Open(true).Send(kbus.Message{Name: "$.Svc", Flags: kbus.FlagWantAReply})
	must(t, err)
	id, err := s.Send(kbus.Message{Name: "$.Svc", Flags: kbus.FlagWantAReply | kbus.FlagAllOrWait})
	if !errors.Is(err, kbus.ErrWouldBlock) || id.IsZero() {
		t.Fatalf("%v %v", id, err)
	}
	if _, err := s.Send(kbus.Message{Name: "$.Other"}); !errors.Is(err, kbus.ErrSendPending) {
		t.Errorf("send while pending: %v", err)
	}
	if _, w := s.Poll(); w {
		t.Error("writable while the replier is full")
	}
	r.Close()
	if _, w := s.Poll(); !w {
		t.Error("not writable after the retry")
	}
	st := s.Next()
	if st == nil || st.Name != kbus.NameReplierDisappeared || st.InReplyTo != id || st.From != 0 {
		t.Errorf("%v", st)
	}
}

func TestChecksInTheDocumentedOrder(t *testing.T) {
	d := NewDevice()
	s, ro := d.Open(true), d.Open(false)
	r := d.Open(true)
	must(t, r.Bind("$.Svc", true))
	for _, c := range []struct {
		ks   *Ksock
		m    kbus.Message
		want error
	}{
		{ro, kbus.Message{Name: "$.A"}, kbus.ErrReadOnly},
		{s, kbus.Message{Name: "$.A.*"}, kbus.ErrBadName},
		{s, kbus.Message{Name: "$.A", Flags: kbus.FlagAllOrFail | kbus.FlagAllOrWait}, kbus.ErrInvalid},
		{s, kbus.Message{Name: "$.A", Data: make([]byte, DefaultMaxMessageSize)}, kbus.ErrTooBig},
		{s, kbus.Message{Name: "$.Svc", Flags: kbus.FlagWantAReply, To: 999}, kbus.ErrWrongReplier},
		{s, kbus.Message{Name: "$.Svc", InReplyTo: kbus.MessageID{Serial: 1}, To: 999}, kbus.ErrNoReplier},
		{s, kbus.Message{Name: "$.Svc", InReplyTo: kbus.MessageID{Serial: 1}, To: r.ID()}, kbus.ErrNotExpected},
	} {
		if _, err := c.ks.Send(c.m); !errors.Is(err, c.want) {
			t.Errorf("%v: %v, want %v", c.m, err, c.want)
		}
	}
	if err := s.Bind("$.Svc", true); !errors.Is(err, kbus.ErrReplierExists) {
		t.Errorf("second replier: %v", err)
	}
	if err := s.Unbind("$.Nothing", false); !errors.Is(err, kbus.ErrInvalid) {
		t.Errorf("unbind of nothing: %v", err)
	}
}

func TestUrgentAndSpecificity(t *testing.T) {
	d := NewDevice()
	l, s := d.Open(true), d.Open(true)
	must(t, l.Bind("$.*", false))
	_, err := s.Send(kbus.Message{Name: "$.One"})
	must(t, err)
	_, err = s.Send(kbus.Message{Name: "$.Two", Flags: kbus.FlagUrgent})
	must(t, err)
	if m := l.Next(); m.Name != "$.Two" {
		t.Errorf("urgent not first: %v", m)
	}
	star, pct, exact := d.Open(true), d.Open(true), d.Open(true)
	must(t, star.Bind("$.S.*", true))
	must(t, exact.Bind("$.S.Kitchen", true))
	must(t, pct.Bind("$.S.%", true))
	_, err = s.Send(kbus.Message{Name: "$.S.Kitchen", Flags: kbus.FlagWantAReply})
	must(t, err)
	_, err = s.Send(kbus.Message{Name: "$.S.Hall", Flags: kbus.FlagWantAReply})
	must(t, err)
	if exact.NumMessages() != 1 || pct.NumMessages() != 1 || star.NumMessages() != 0 {
		t.Errorf("exact %d, %% %d, * %d", exact.NumMessages(), pct.NumMessages(), star.NumMessages())
	}
	if id, _ := s.FindReplier("$.S.*"); id != star.ID() {
		t.Errorf("FindReplier %d", id)
	}
}

func TestReplierBindEventsAndTheSetAsideList(t *testing.T) {
	d := NewDevice()
	watcher, replier := d.Open(true), d.Open(true)
	if err := watcher.Bind(kbus.NameReplierBindEvent, false); err != nil {
		t.Fatal(err)
	}
	if old, err := watcher.ReportReplierBinds(1); err != nil || old != 0 {
		t.Fatalf("REPORTREPLIERBINDS: %d %v", old, err)
	}
	if err := replier.Bind("$.S", true); err != nil {
		t.Fatal(err)
	}
	ev := watcher.Next()
	if ev == nil || ev.Name != kbus.NameReplierBindEvent {
		t.Fatalf("no bind event: %v", ev)
	}
	if e, _ := ev.BindEvent(); !e.IsBind || e.Binder != replier.ID() || e.Name != "$.S" {
		t.Fatalf("event %+v", e)
	}
	// A full listener refuses a replier's BIND (ALL_OR_FAIL)...
	watcher.SetMaxMessages(1)
	if err := replier.Bind("$.T", true); err != nil {
		t.Fatal(err)
	}
	if err := replier.Bind("$.U", true); err != kbus.ErrWouldBlock {
		t.Fatalf("bind with the listener full: %v", err)
	}
	// ...but not its close: the unbind events are set aside, counted, and
	// come in one at a time.
	replier.Close()
	if n := watcher.NumMessages(); n != 3 {
		t.Fatalf("NUMMSGS %d, want the queued event and two set aside", n)
	}
	var got []string
	for m := watcher.Next(); m != nil; m = watcher.Next() {
		e, _ := m.BindEvent()
		got = append(got, fmt.Sprintf("%v %s", e.IsBind, e.Name))
	}
	if fmt.Sprint(got) != "[true $.T false $.T false $.S]" {
		t.Fatalf("events %v", got)
	}
}

// docs/kbus.md §18.5: a Ksock of someone who neither owns the node nor
// has CAP_SYS_ADMIN may ask, but not change the whole device.
func TestOnlyTheOwnerChangesTheDevice(t *testing.T) {
	d := NewDevice()
	other, owner := d.OpenAsOther(true), d.Open(true)
	for name, call := range map[string]func() (uint32, error){
		"VERBOSE 1":            func() (uint32, error) { return other.Verbose(1) },
		"VERBOSE 0":            func() (uint32, error) { return other.Verbose(0) },
		"REPORTREPLIERBINDS 1": func() (uint32, error) { return other.ReportReplierBinds(1) },
		"MAXMSGSIZE 100":       func() (uint32, error) { return other.MaxMessageSize(100) },
		"MAXMSGSIZE 50":        func() (uint32, error) { return other.MaxMessageSize(50) },
	} {
		if _, err := call(); !errors.Is(err, kbus.ErrNotPermitted) {
			t.Errorf("%s: %v, want EPERM", name, err)
		}
	}
	if _, err := other.Verbose(7); !errors.Is(err, kbus.ErrInvalid) {
		t.Errorf("VERBOSE 7: %v, want EINVAL before EPERM", err)
	}
	if v, err := other.Verbose(0xFFFFFFFF); err != nil || v != 0 {
		t.Errorf("asking VERBOSE: %d, %v", v, err)
	}
	if v, err := other.MaxMessageSize(0); err != nil || v != DefaultMaxMessageSize {
		t.Errorf("asking MAXMSGSIZE: %d, %v", v, err)
	}
	if _, err := owner.Verbose(1); err != nil {
		t.Errorf("the owner's VERBOSE 1: %v", err)
	}
	if v, _ := other.Verbose(0xFFFFFFFF); v != 1 {
		t.Error("the owner's change is seen by the other Ksock")
	}
}

// docs/kbus.md §18.5: the other user's bindings on a device, over all its
// Ksocks, are bounded; a refused BIND changes nothing and announces
// nothing; the owner's are never counted; an unbind makes room.
func TestTheOtherUsersBindingsAreBounded(t *testing.T) {
	d := NewDevice()
	d.SetMaxUserBindings(3)
	a, b, owner := d.OpenAsOther(true), d.OpenAsOther(false), d.Open(true)
	if _, err := owner.ReportReplierBinds(1); err != nil {
		t.Fatal(err)
	}
	if err := owner.Bind(kbus.NameReplierBindEvent, false); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"$.*", "$.*", "$.A"} {
		if err := []*Ksock{a, b, a}[i].Bind(name, false); err != nil {
			t.Fatalf("bind %d: %v", i, err)
		}
	}
	if err := b.Bind("$.R", true); !errors.Is(err, kbus.ErrTooManyBindings) {
		t.Fatalf("fourth bind: %v, want ENOSPC", err)
	}
	if owner.Next() != nil {
		t.Error("a refused replier BIND was announced")
	}
	for i := 0; i < 10; i++ {
		if err := owner.Bind("$.*", false); err != nil {
			t.Fatalf("the owner's bind %d: %v", i, err)
		}
	}
	if err := a.Unbind("$.A", false); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind("$.R", true); err != nil {
		t.Errorf("after an unbind: %v", err)
	}
	d.SetMaxUserBindings(0)
	if err := b.Bind("$.S", false); err != nil {
		t.Errorf("with no bound: %v", err)
	}
}

// A listener's queue holds at most DefaultMaxQueueBytes of messages,
// whatever its MAXMSGS (docs/kbus.md §18.1): past that it misses them, and
// a replier refuses the request as a full one.
func TestAQueueHoldsABoundedNumberOfBytes(t *testing.T) {
	d := NewDevice()
	l, r, s := d.Open(true), d.Open(true), d.Open(true)
	l.SetMaxMessages(10000)
	r.SetMaxMessages(10000)
	s.SetMaxMessages(10000)
	must(t, l.Bind("$.Big", false))
	must(t, r.Bind("$.Big.Ask", true))
	m := kbus.Message{Name: "$.Big", Data: make([]byte, 400000)}
	fit := DefaultMaxQueueBytes / QueueBytes(&m)
	for i := 0; i < fit+10; i++ {
		_, err := s.Send(m)
		must(t, err)
	}
	if l.NumMessages() != fit {
		t.Errorf("the listener holds %d messages of %d bytes, want %d", l.NumMessages(), QueueBytes(&m), fit)
	}
	if _, err := s.Send(kbus.Message{Name: "$.Big", Data: m.Data, Flags: kbus.FlagAllOrFail}); !errors.Is(err, kbus.ErrQueueFull) {
		t.Errorf("ALL_OR_FAIL to the full listener: %v", err)
	}
	ask := kbus.Message{Name: "$.Big.Ask", Data: m.Data, Flags: kbus.FlagWantAReply}
	for i := 0; i < fit; i++ {
		_, err := s.Send(ask)
		must(t, err)
	}
	if _, err := s.Send(ask); !errors.Is(err, kbus.ErrQueueFull) {
		t.Errorf("a request to the replier holding %d bytes: %v", fit*QueueBytes(&ask), err)
	}
}

func TestReceiveManyTakesWholeMessagesUpToARequestToAnswer(t *testing.T) {
	d := NewDevice()
	l, s := d.Open(true), d.Open(true)
	must(t, l.Bind("$.M.*", false))
	must(t, l.Bind("$.Ask", true))
	if _, _, err := l.ReceiveMany(4096, 0); !errors.Is(err, kbus.ErrWouldBlock) {
		t.Fatalf("empty queue: %v", err)
	}
	for i := range 3 {
		_, err := s.Send(kbus.Message{Name: fmt.Sprintf("$.M.N%d", i)})
		must(t, err)
	}
	size := len((&kbus.Message{Name: "$.M.N0"}).Bytes())
	if _, n, err := l.ReceiveMany(size-1, 0); !errors.Is(err, kbus.ErrTooBig) || n != size {
		t.Fatalf("no room for the first: %d, %v", n, err)
	}
	ms, n, err := l.ReceiveMany(2*size+1, 0)
	must(t, err)
	if len(ms) != 2 || n != 2*size || ms[1].Name != "$.M.N1" {
		t.Fatalf("room for two: %d messages, %d bytes", len(ms), n)
	}
	_, err = s.Send(kbus.Message{Name: "$.Ask", Flags: kbus.FlagWantAReply})
	must(t, err)
	_, err = s.Send(kbus.Message{Name: "$.M.N3"})
	must(t, err)
	ms, _, err = l.ReceiveMany(1<<16, 0)
	must(t, err)
	if len(ms) != 2 || !ms[1].WantsUsToReply() || l.UnrepliedTo() != 1 || l.Queued() != 1 {
		t.Fatalf("the request ends the batch: %d messages, %d owed, %d queued", len(ms), l.UnrepliedTo(), l.Queued())
	}
	if ms, _, err = l.ReceiveMany(1<<16, 1); err != nil || len(ms) != 1 || ms[0].Name != "$.M.N3" {
		t.Fatalf("max 1: %v, %v", ms, err)
	}
}

// The model's RECVMANY batch is the module's: a set-aside event joins the
// messages a call takes only at a batch's end, so a different size would
// make the two disagree on which call takes it.
func TestManyBatchIsTheModules(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "module", "kbus_ksock.c"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#define KBUS_TAKE_BATCH\s+(\d+)\s*$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("module/kbus_ksock.c defines no KBUS_TAKE_BATCH")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != ManyBatch {
		t.Fatalf("the module's KBUS_TAKE_BATCH is %d, the model's ManyBatch %d", n, ManyBatch)
	}
}
