// Package program makes seeded random programs of KBUS operations, runs
// them against a Target (the model, or the module through its raw ABI),
// and writes down what each operation gave, so that two runs can be
// compared line by line; a program whose runs differ is shrunk to the
// shortest that still differs.
package program

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
)

// Slots is how many Ksocks a program juggles.
const Slots = 4

// Kind is what an operation does.
type Kind int

// Operations.
const (
	Open Kind = iota
	Close
	Bind
	Unbind
	Send
	ReplyLast // reply to the last request the slot took that it must answer
	Next
	Poll
	Retry
	Discard
	SetMax
	OnlyOnce
	Counts      // NUMMSGS, UNREPLIEDTO, and /proc/kbus/stats: outstanding requests, sending
	ReportBinds // REPORTREPLIERBINDS with N (0, 1, or 2 for the query value)
)

var kindNames = [...]string{"open", "close", "bind", "unbind", "send", "reply", "next", "poll", "retry",
	"discard", "maxmsgs", "onlyonce", "counts", "reportbinds"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Op is one operation on a slot.
type Op struct {
	Kind     Kind
	Slot     int
	Name     string
	Replier  bool   // Bind, Unbind
	Writable bool   // Open
	Flags    uint32 // Send
	Request  bool   // Send
	To       int    // Send: a stateful request to this slot's Ksock (-1: none)
	N        uint32 // SetMax; OnlyOnce (0 or 1)
	Data     string // Send
}

func (o Op) String() string {
	switch o.Kind {
	case Open:
		return fmt.Sprintf("%d open writable=%v", o.Slot, o.Writable)
	case Bind, Unbind:
		return fmt.Sprintf("%d %s %s replier=%v", o.Slot, o.Kind, o.Name, o.Replier)
	case Send:
		return fmt.Sprintf("%d send %s request=%v to=%d flags=%#x data=%q", o.Slot, o.Name, o.Request, o.To, o.Flags, o.Data)
	case SetMax, OnlyOnce, ReportBinds:
		return fmt.Sprintf("%d %s %d", o.Slot, o.Kind, o.N)
	default:
		return fmt.Sprintf("%d %s", o.Slot, o.Kind)
	}
}

// Program is a list of operations.
type Program []Op

func (p Program) String() string {
	var b strings.Builder
	for i, o := range p {
		fmt.Fprintf(&b, "%3d  %v\n", i, o)
	}
	return b.String()
}

var (
	bindNames = []string{"$.A", "$.A.B", "$.A.C", "$.A.*", "$.A.%", "$.*", "$.A.B.*",
		kbus.NameReplierBindEvent, "$.KBUS.*"}
	sendNames = []string{"$.A", "$.A.B", "$.A.C", "$.A.B.D", "$.Z"}
)

// Generate returns a program of n operations from seed. Every slot is
// open at the start (operations on a closed slot are skipped when run)
// and closed at the end, so that a program leaves the device as it found
// it.
func Generate(seed int64, n int) Program {
	r := rand.New(rand.NewSource(seed))
	var p Program
	for s := 0; s < Slots; s++ {
		p = append(p, Op{Kind: Open, Slot: s, Writable: s != Slots-1 || r.Intn(2) == 0})
	}
	for len(p) < n+Slots {
		o := Op{Slot: r.Intn(Slots), To: -1}
		switch x := r.Intn(100); {
		case x < 3:
			o.Kind = Close
		case x < 6:
			o.Kind, o.Writable = Open, r.Intn(4) != 0
		case x < 18:
			o.Kind, o.Name, o.Replier = Bind, bindNames[r.Intn(len(bindNames))], r.Intn(3) == 0
		case x < 22:
			o.Kind, o.Name, o.Replier = Unbind, bindNames[r.Intn(len(bindNames))], r.Intn(3) == 0
		case x < 50:
			o.Kind, o.Name = Send, sendNames[r.Intn(len(sendNames))]
			o.Request = r.Intn(2) == 0
			if o.Request && r.Intn(4) == 0 {
				o.To = r.Intn(Slots)
			}
			for _, f := range []uint32{kbus.FlagUrgent, kbus.FlagAllOrWait, kbus.FlagAllOrFail, 0x10000} {
				if r.Intn(6) == 0 {
					o.Flags |= f
				}
			}
			o.Data = strings.Repeat("x", r.Intn(6))
		case x < 58:
			o.Kind = ReplyLast
		case x < 75:
			o.Kind = Next
		case x < 82:
			o.Kind = Poll
		case x < 85:
			o.Kind = Retry
		case x < 87:
			o.Kind = Discard
		case x < 92:
			o.Kind, o.N = SetMax, uint32(1+r.Intn(3))
		case x < 94:
			o.Kind, o.N = OnlyOnce, uint32(r.Intn(2))
		case x < 97:
			o.Kind, o.N = ReportBinds, uint32(r.Intn(3))
		default:
			o.Kind = Counts
		}
		p = append(p, o)
	}
	for s := 0; s < Slots; s++ {
		p = append(p, Op{Kind: Next, Slot: s}, Op{Kind: Close, Slot: s})
	}
	return p
}

// Target is what a program runs against: the model, or the module.
// Errors are kbus.Errno values.
type Target interface {
	Open(slot int, writable bool) (id uint32)
	Close(slot int)
	Bind(slot int, name string, replier bool) error
	Unbind(slot int, name string, replier bool) error
	Send(slot int, m kbus.Message) (kbus.MessageID, error)
	Retry(slot int) (kbus.MessageID, error)
	Discard(slot int)
	Poll(slot int) (readable, writable bool)
	Next(slot int) (*kbus.Message, error)
	SetMaxMessages(slot int, n uint32) uint32
	SetOnlyOnce(slot int, on bool) bool
	// ReportReplierBinds is REPORTREPLIERBINDS with v (0, 1 or raw.Query).
	ReportReplierBinds(slot int, v uint32) (uint32, error)
	Counts(slot int) KsockCounts
}

// KsockCounts are what a Ksock reports of itself: NUMMSGS and UNREPLIEDTO, and
// from /proc/kbus/stats its queue, its outstanding requests and whether a
// send is pending.
type KsockCounts struct {
	NumMsgs, Unreplied, Queued, Outstanding int
	Sending                                 bool
}

// names turns the ids one run saw into names that do not depend on where
// the device's counters stood: m1, m2, ... for messages in the order they
// appear, k0..k3 for the slots' Ksocks (kN' for a Ksock a slot had before).
type names struct {
	msgs   map[kbus.MessageID]string
	ksocks map[uint32]string
	opens  [Slots]int
}

func (n *names) msg(id kbus.MessageID) string {
	if id.IsZero() {
		return "-"
	}
	if s, ok := n.msgs[id]; ok {
		return s
	}
	s := fmt.Sprintf("m%d", len(n.msgs)+1)
	n.msgs[id] = s
	return s
}

func (n *names) ksock(id uint32) string {
	if id == 0 {
		return "0"
	}
	if s, ok := n.ksocks[id]; ok {
		return s
	}
	return "k?"
}

func (n *names) message(m *kbus.Message) string {
	if m == nil {
		return "none"
	}
	data := fmt.Sprintf("%q", m.Data)
	if m.Name == kbus.NameReplierBindEvent {
		// The binder is a Ksock id: named, as ids are.
		if ev, err := raw.DecodeBindEvent(m.Data); err == nil {
			data = fmt.Sprintf("{bind=%v binder=%s name=%s len=%d}", ev.IsBind, n.ksock(ev.Binder), ev.Name, len(m.Data))
		}
	}
	return fmt.Sprintf("%s %s id=%s in_reply_to=%s from=%s to=%s flags=%#x data=%s", m.Kind(), m.Name,
		n.msg(m.ID), n.msg(m.InReplyTo), n.ksock(m.From), n.ksock(m.To), m.Flags, data)
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(kbus.Errno); ok {
		return e.Name()
	}
	return err.Error()
}

// Run runs p against t and returns a line per operation run.
func Run(t Target, p Program) []string {
	n := &names{msgs: map[kbus.MessageID]string{}, ksocks: map[uint32]string{}}
	var open [Slots]bool
	var ids [Slots]uint32
	var last [Slots]*kbus.Message // the last request each slot took to answer
	var out []string
	for i, o := range p {
		if (o.Kind == Open) == open[o.Slot] {
			continue // open an open slot, or use a closed one
		}
		line := ""
		switch o.Kind {
		case Open:
			ids[o.Slot] = t.Open(o.Slot, o.Writable)
			open[o.Slot], last[o.Slot] = true, nil
			n.opens[o.Slot]++
			n.ksocks[ids[o.Slot]] = fmt.Sprintf("k%d%s", o.Slot, strings.Repeat("'", n.opens[o.Slot]-1))
			line = "opened"
		case Close:
			t.Close(o.Slot)
			open[o.Slot] = false
			line = "closed"
		case Bind:
			line = errName(t.Bind(o.Slot, o.Name, o.Replier))
		case Unbind:
			line = errName(t.Unbind(o.Slot, o.Name, o.Replier))
		case Send:
			m := kbus.Message{Name: o.Name, Data: []byte(o.Data), Flags: o.Flags}
			if o.Request {
				m.Flags |= kbus.FlagWantAReply
				if o.To >= 0 && open[o.To] {
					m.To = ids[o.To]
				}
			}
			id, err := t.Send(o.Slot, m)
			line = fmt.Sprintf("%s id=%s", errName(err), n.msg(id))
		case ReplyLast:
			req := last[o.Slot]
			if req == nil {
				continue
			}
			last[o.Slot] = nil
			rep, _ := kbus.ReplyTo(req, []byte("re"))
			id, err := t.Send(o.Slot, *rep)
			line = fmt.Sprintf("%s id=%s", errName(err), n.msg(id))
		case Next:
			m, err := t.Next(o.Slot)
			if m != nil && m.WantsUsToReply() {
				last[o.Slot] = m
			}
			line = fmt.Sprintf("%s %s", errName(err), n.message(m))
		case Poll:
			r, w := t.Poll(o.Slot)
			line = fmt.Sprintf("readable=%v writable=%v", r, w)
		case Retry:
			id, err := t.Retry(o.Slot)
			line = fmt.Sprintf("%s id=%s", errName(err), n.msg(id))
		case Discard:
			t.Discard(o.Slot)
			line = "discarded"
		case SetMax:
			line = fmt.Sprint(t.SetMaxMessages(o.Slot, o.N))
		case OnlyOnce:
			line = fmt.Sprint(t.SetOnlyOnce(o.Slot, o.N == 1))
		case ReportBinds:
			v := o.N
			if v == 2 {
				v = raw.Query
			}
			old, err := t.ReportReplierBinds(o.Slot, v)
			line = fmt.Sprintf("%s was=%d", errName(err), old)
		case Counts:
			c := t.Counts(o.Slot)
			line = fmt.Sprintf("nummsgs=%d unreplied=%d queue=%d outstanding=%d sending=%v",
				c.NumMsgs, c.Unreplied, c.Queued, c.Outstanding, c.Sending)
		}
		out = append(out, fmt.Sprintf("%3d %v: %s", i, o, line))
	}
	return out
}

// Diff returns the first line where a and b differ, and whether they do.
func Diff(a, b []string) (int, bool) {
	for i := 0; i < len(a) || i < len(b); i++ {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i, true
		}
	}
	return 0, false
}

// Shrink returns the shortest program it finds, removing operations from
// p, for which differs still holds: chunks first, then one at a time. The
// slots' first opens and last closes stay.
func Shrink(p Program, differs func(Program) bool) Program {
	for chunk := len(p) / 2; chunk >= 1; chunk /= 2 {
		for start := Slots; start+chunk <= len(p)-2*Slots; {
			q := append(append(Program{}, p[:start]...), p[start+chunk:]...)
			if differs(q) {
				p = q
				continue
			}
			start += chunk
		}
	}
	return p
}
