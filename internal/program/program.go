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
	"github.com/kbus-project/kbus/kbus/model"
	"github.com/kbus-project/kbus/kbus/raw"
)

// Slots is how many Ksocks a program juggles, and Devices on how many
// devices: a slot's Ksock is on the first unless its Open says otherwise.
const (
	Slots   = 4
	Devices = 2
)

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
	ReportBinds // REPORTREPLIERBINDS with N
	NextMsg     // NEXTMSG alone: select the next message to read in pieces
	Read        // read() with room for N bytes, then LENLEFT
	MaxSize     // MAXMSGSIZE with N
	Verbose     // VERBOSE with N
	LastSent    // LASTSENT
	Replier     // REPLIER for Name
	BadArg      // ioctl Nr with an argument that cannot be read, or (ReadOnly) written
	Many        // RECVMANY with room for N bytes and at most Max messages, not waiting
)

var kindNames = [...]string{"open", "close", "bind", "unbind", "send", "reply", "next", "poll", "retry",
	"discard", "maxmsgs", "onlyonce", "counts", "reportbinds", "nextmsg", "read", "maxmsgsize", "verbose",
	"lastsent", "replier", "badarg", "recvmany"}

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
	Replier  bool           // Bind, Unbind
	Writable bool           // Open
	Other    bool           // Open: by a process that neither owns the node nor has CAP_SYS_ADMIN (§18.5)
	Dev      int            // Open: the device, 0 to Devices-1
	Flags    uint32         // Send
	Request  bool           // Send
	To       int            // Send: a stateful request to this slot's Ksock, if on the same device (-1: none)
	N        uint32         // SetMax, OnlyOnce, ReportBinds, Verbose, MaxSize: the ioctl's value; Read: bytes
	Data     string         // Send
	Piece    int            // Send: written in pieces of this many bytes (0: in one write)
	Pointy   bool           // Send: in pointy form, with
	Bad      Bad            // Send: a pointer that cannot be read
	NetID    kbus.MessageID // Send: an id with a network id, kept at SEND, as a Limpet's is (zero: none)
	Orig     kbus.OrigFrom  // Send: orig_from and final_to, which KBUS passes on as they are
	Nr       int            // BadArg: the ioctl's number
	ReadOnly bool           // BadArg: a valid argument it may not write (else no memory); Read: into such memory
	Max      uint32         // Many: at most this many messages (0: as many as fit)
}

// Bad is which pointer of a pointy message is bad.
type Bad int

// Bad pointers.
const (
	GoodPointers Bad = iota
	BadName
	BadData
)

// short is a name as a line shows it: a long one by its length.
func short(name string) string {
	if len(name) > 24 {
		return fmt.Sprintf("%s...(%d bytes)", name[:8], len(name))
	}
	return name
}

func (o Op) String() string {
	switch o.Kind {
	case Open:
		other := ""
		if o.Other {
			other = " as other"
		}
		return fmt.Sprintf("%d open writable=%v dev=%d%s", o.Slot, o.Writable, o.Dev, other)
	case Bind, Unbind:
		return fmt.Sprintf("%d %s %s replier=%v", o.Slot, o.Kind, short(o.Name), o.Replier)
	case Replier:
		return fmt.Sprintf("%d replier %s", o.Slot, short(o.Name))
	case BadArg:
		return fmt.Sprintf("%d badarg nr=%d readonly=%v value=%d name=%s", o.Slot, o.Nr, o.ReadOnly, o.N, short(o.Name))
	case Send:
		how := ""
		if o.Piece > 0 {
			how += fmt.Sprintf(" pieces=%d", o.Piece)
		}
		if o.Pointy {
			how += fmt.Sprintf(" pointy bad=%d", o.Bad)
		}
		data := fmt.Sprintf("%q", o.Data)
		if len(o.Data) > 8 {
			data = fmt.Sprintf("%d bytes", len(o.Data))
		}
		if !o.NetID.IsZero() {
			how += fmt.Sprintf(" id=%v", o.NetID)
		}
		if !o.Orig.IsZero() {
			how += fmt.Sprintf(" orig_from=final_to=%v", o.Orig)
		}
		return fmt.Sprintf("%d send %s request=%v to=%d flags=%#x data=%s%s", o.Slot, short(o.Name), o.Request, o.To,
			o.Flags, data, how)
	case ReplyLast:
		return fmt.Sprintf("%d %s flags=%#x", o.Slot, o.Kind, o.Flags)
	case Read:
		return fmt.Sprintf("%d read %d readonly=%v", o.Slot, o.N, o.ReadOnly)
	case Many:
		return fmt.Sprintf("%d recvmany room=%d max=%d", o.Slot, o.N, o.Max)
	case SetMax, OnlyOnce, ReportBinds, MaxSize, Verbose:
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
	// Names at and past the edges (docs/kbus.md §2): the longest one, one
	// too long, empty, and malformed ones, wildcards where none may be.
	longest  = "$." + strings.Repeat("L", model.MaxNameLen-2)
	tooLong  = longest + "L"
	badBinds = []string{"", "$", "$.", "$.A.", "$.A*", "$.*.B", "A.B", "$.A..B", longest, tooLong}
	badSends = []string{"", "$.", "$.A.*", "$.A.%", "$.A-B", longest, tooLong}
	// Values for the ioctls that take one, edges included.
	switchValues  = []uint32{0, 1, raw.Query, 2}
	maxSizeValues = []uint32{0, 1, 2, 99, 100, 128, 160, 256, 409600, 409601}
	readSizes     = []uint32{0, 1, 3, 8, 40, 90, 4096}
	manySizes     = []uint32{0, 90, 200, 400, 4096, 65536}
)

// Generate returns a program of n operations from seed. Every slot is
// open at the start (operations on a closed slot are skipped when run)
// and closed at the end, so that a program leaves the device as it found
// it.
func Generate(seed int64, n int) Program {
	r := rand.New(rand.NewSource(seed))
	var p Program
	for s := 0; s < Slots; s++ {
		p = append(p, Op{Kind: Open, Slot: s, Writable: s != Slots-1 || r.Intn(2) == 0, Dev: pickDevice(r),
			Other: r.Intn(4) == 0})
	}
	for len(p) < n+Slots {
		o := Op{Slot: r.Intn(Slots), To: -1}
		switch x := r.Intn(100); {
		case x < 3:
			o.Kind = Close
		case x < 6:
			o.Kind, o.Writable, o.Dev, o.Other = Open, r.Intn(4) != 0, pickDevice(r), r.Intn(4) == 0
		case x < 17:
			o.Kind, o.Name, o.Replier = Bind, pick(r, bindNames, badBinds), r.Intn(3) == 0
		case x < 21:
			o.Kind, o.Name, o.Replier = Unbind, pick(r, bindNames, badBinds), r.Intn(3) == 0
		case x < 47:
			o = send(r, o)
		case x < 54:
			o.Kind = ReplyLast
			// Replies wait, fail or jump the queue as requests do
			// (docs/kbus.md §9.7, §16.12).
			for _, f := range []uint32{kbus.FlagUrgent, kbus.FlagAllOrWait, kbus.FlagAllOrFail} {
				if r.Intn(4) == 0 {
					o.Flags |= f
				}
			}
		case x < 62:
			o.Kind = Next
		case x < 66:
			o.Kind, o.N, o.Max = Many, manySizes[r.Intn(len(manySizes))], uint32(r.Intn(4))
		case x < 70:
			o.Kind = NextMsg
		case x < 75:
			o.Kind, o.N, o.ReadOnly = Read, readSizes[r.Intn(len(readSizes))], r.Intn(5) == 0
		case x < 79:
			o.Kind = Poll
		case x < 81:
			o.Kind = Retry
		case x < 83:
			o.Kind = Discard
		case x < 86:
			o.Kind, o.N = SetMax, uint32(r.Intn(4))
		case x < 88:
			o.Kind, o.N = OnlyOnce, switchValues[r.Intn(len(switchValues))]
		case x < 90:
			o.Kind, o.N = ReportBinds, switchValues[r.Intn(len(switchValues))]
		case x < 92:
			o.Kind, o.N = MaxSize, maxSizeValues[r.Intn(len(maxSizeValues))]
		case x < 93:
			o.Kind, o.N = Verbose, switchValues[r.Intn(len(switchValues))]
		case x < 95:
			o.Kind = LastSent
		case x < 97:
			o.Kind, o.Name = Replier, pick(r, bindNames, badBinds)
		case x < 98:
			o = badArg(r, o)
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

// pickDevice is mostly the first device, sometimes the second.
func pickDevice(r *rand.Rand) int {
	if r.Intn(6) == 0 {
		return 1
	}
	return 0
}

// pick is mostly one of names, sometimes one of bad.
func pick(r *rand.Rand, names, bad []string) string {
	if r.Intn(10) == 0 {
		return bad[r.Intn(len(bad))]
	}
	return names[r.Intn(len(names))]
}

// send is a random Send: flags, size, the way it is written.
func send(r *rand.Rand, o Op) Op {
	o.Kind, o.Name = Send, pick(r, sendNames, badSends)
	o.Request = r.Intn(2) == 0
	if o.Request && r.Intn(4) == 0 {
		o.To = r.Intn(Slots)
	}
	for _, f := range []uint32{kbus.FlagUrgent, kbus.FlagAllOrWait, kbus.FlagAllOrFail, 0x10000} {
		if r.Intn(6) == 0 {
			o.Flags |= f
		}
	}
	size := r.Intn(6)
	if r.Intn(6) == 0 { // around the smaller maximum sizes
		size = r.Intn(300)
	}
	o.Data = strings.Repeat("x", size)
	// As a Limpet sends: ids from another network (few, so that they
	// meet again), and the Limpets' routing fields.
	if r.Intn(8) == 0 {
		o.NetID = kbus.MessageID{Network: uint32(1 + r.Intn(2)), Serial: uint32(1 + r.Intn(4))}
	}
	if r.Intn(8) == 0 {
		o.Orig = kbus.OrigFrom{Network: uint32(1 + r.Intn(2)), Local: uint32(1 + r.Intn(3))}
	}
	switch r.Intn(6) {
	case 0:
		o.Piece = 1 + r.Intn(24)
	case 1:
		o.Pointy = true
		if r.Intn(4) == 0 {
			o.Bad = Bad(1 + r.Intn(2))
		}
	}
	return o
}

// badArgNrs are the ioctls a BadArg may be: all that take an argument but
// NEWDEVICE, which would make devices (a spec checks that it does not).
var badArgNrs = []int{raw.NrBind, raw.NrUnbind, raw.NrKsockID, raw.NrReplier, raw.NrNextMsg, raw.NrLenLeft,
	raw.NrSend, raw.NrLastSent, raw.NrMaxMsgs, raw.NrNumMsgs, raw.NrUnrepliedTo, raw.NrMsgOnlyOnce, raw.NrVerbose,
	raw.NrReportReplierBinds, raw.NrMaxMsgSize, raw.NrSendMsg, raw.NrRecvMsg}

// badArg is a random BadArg: an ioctl with no memory at its argument, or
// with a valid argument it cannot write its result into (not BIND and
// UNBIND, which write nothing back).
func badArg(r *rand.Rand, o Op) Op {
	o.Kind, o.Nr = BadArg, badArgNrs[r.Intn(len(badArgNrs))]
	if o.Nr == raw.NrBind || o.Nr == raw.NrUnbind || r.Intn(2) == 0 {
		return o
	}
	o.ReadOnly = true
	switch o.Nr {
	case raw.NrMaxMsgs:
		o.N = uint32(r.Intn(4))
	case raw.NrMsgOnlyOnce, raw.NrVerbose, raw.NrReportReplierBinds:
		o.N = switchValues[r.Intn(len(switchValues))]
	case raw.NrMaxMsgSize:
		o.N = maxSizeValues[r.Intn(len(maxSizeValues))]
	case raw.NrReplier:
		o.Name = bindNames[r.Intn(len(bindNames))]
	case raw.NrSendMsg:
		o.Name, o.Data = sendNames[r.Intn(len(sendNames))], strings.Repeat("x", r.Intn(6))
	}
	return o
}

// Target is what a program runs against: the model, or the module.
// Errors are kbus.Errno values.
type Target interface {
	// Open opens slot's Ksock, as root or, if other, as a process that may
	// open the node but not change the whole device (docs/kbus.md §18.5):
	// the slot's later calls are that process's too.
	Open(slot int, writable bool, dev int, other bool) (id uint32)
	Close(slot int)
	Bind(slot int, name string, replier bool) error
	Unbind(slot int, name string, replier bool) error
	// Send writes m (in pieces, or its pointy form, as o says) and SENDs it.
	Send(slot int, m kbus.Message, o Op) (kbus.MessageID, error)
	Retry(slot int) (kbus.MessageID, error)
	Discard(slot int)
	Poll(slot int) (readable, writable bool)
	// Next is NEXTMSG and a read of the whole message.
	Next(slot int) (*kbus.Message, error)
	// NextMsg is NEXTMSG: the length of the message selected, 0 for none.
	NextMsg(slot int) uint32
	// ReceiveMany is RECVMANY with room bytes and at most max messages,
	// not waiting: the messages and the bytes they fill, or the error
	// and the length RECVMANY gave back with it.
	ReceiveMany(slot, room, max int) ([]*kbus.Message, int, error)
	// Read is read() with room for n bytes (in memory it may not write,
	// if readOnly); it returns how many came, and LENLEFT after it.
	Read(slot int, n int, readOnly bool) (got int, left uint32, err error)
	SetMaxMessages(slot int, n uint32) uint32
	// The switches and MAXMSGSIZE: the ioctl with v, and what it gave.
	OnlyOnce(slot int, v uint32) (uint32, error)
	ReportReplierBinds(slot int, v uint32) (uint32, error)
	Verbose(slot int, v uint32) (uint32, error)
	MaxMessageSize(slot int, v uint32) (uint32, error)
	LastSent(slot int) kbus.MessageID
	// FindReplier is REPLIER: the replier's id, 0 for none.
	FindReplier(slot int, name string) (uint32, error)
	Counts(slot int) KsockCounts
	// BadArgument is the ioctl o.Nr with a bad argument, as o says.
	BadArgument(slot int, o Op) error
}

// KsockCounts are what a Ksock reports of itself: NUMMSGS and UNREPLIEDTO, and
// from /proc/kbus/stats its queue, its outstanding requests and whether a
// send is pending.
type KsockCounts struct {
	NumMsgs, Unreplied, Queued, Outstanding int
	Sending                                 bool
}

// names turns the ids one run saw into names that do not depend on where
// the devices' counters stood: m1, m2, ... for messages in the order they
// appear, k0..k3 for the slots' Ksocks (kN' for a Ksock a slot had before).
// Ids are a device's own: each has its tables.
type names struct {
	msgs   [Devices]map[kbus.MessageID]string
	nmsgs  int
	ksocks [Devices]map[uint32]string
	opens  [Slots]int
}

func newNames() *names {
	n := &names{}
	for d := range n.msgs {
		n.msgs[d], n.ksocks[d] = map[kbus.MessageID]string{}, map[uint32]string{}
	}
	return n
}

func (n *names) msg(dev int, id kbus.MessageID) string {
	if id.IsZero() {
		return "-"
	}
	if s, ok := n.msgs[dev][id]; ok {
		return s
	}
	n.nmsgs++
	s := fmt.Sprintf("m%d", n.nmsgs)
	n.msgs[dev][id] = s
	return s
}

func (n *names) ksock(dev int, id uint32) string {
	if id == 0 {
		return "0"
	}
	if s, ok := n.ksocks[dev][id]; ok {
		return s
	}
	return "k?"
}

func (n *names) message(dev int, m *kbus.Message) string {
	if m == nil {
		return "none"
	}
	data := fmt.Sprintf("%q", m.Data)
	if m.Name == kbus.NameReplierBindEvent {
		// The binder is a Ksock id: named, as ids are.
		if ev, err := raw.DecodeBindEvent(m.Data); err == nil {
			data = fmt.Sprintf("{bind=%v binder=%s name=%s len=%d}", ev.IsBind, n.ksock(dev, ev.Binder), ev.Name,
				len(m.Data))
		}
	}
	return fmt.Sprintf("%s %s id=%s in_reply_to=%s from=%s to=%s orig_from=%v final_to=%v flags=%#x data=%s",
		m.Kind(), m.Name, n.msg(dev, m.ID), n.msg(dev, m.InReplyTo), n.ksock(dev, m.From), n.ksock(dev, m.To),
		m.OrigFrom, m.FinalTo, m.Flags, data)
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

// Step is what one operation of a program gave on a target.
type Step struct {
	Op      int    // the operation's index in the program
	Outcome string // what it gave, messages and Ksocks named in the order the run met them
}

// Trace is what a run of a program gave, a step per operation run (an
// operation on a closed slot, or an open of an open one, is not run). Two
// targets agree when their traces are equal; the operations themselves
// are written out only for a reader, by Lines.
type Trace []Step

// Lines writes tr as a line per step: the operation's index, the
// operation, and its outcome.
func (tr Trace) Lines(p Program) []string {
	out := make([]string, len(tr))
	for i, s := range tr {
		out[i] = fmt.Sprintf("%3d %v: %s", s.Op, p[s.Op], s.Outcome)
	}
	return out
}

// Run runs p against t and returns what each operation run gave.
func Run(t Target, p Program) Trace {
	n := newNames()
	var open [Slots]bool
	var dev [Slots]int
	var ids [Slots]uint32
	var last [Slots]*kbus.Message // the last request each slot took to answer
	out := make(Trace, 0, len(p))
	switches := map[Kind]func(slot int, v uint32) (uint32, error){
		OnlyOnce: t.OnlyOnce, ReportBinds: t.ReportReplierBinds, Verbose: t.Verbose}
	for i, o := range p {
		if (o.Kind == Open) == open[o.Slot] {
			continue // open an open slot, or use a closed one
		}
		line := ""
		switch o.Kind {
		case Open:
			ids[o.Slot], dev[o.Slot] = t.Open(o.Slot, o.Writable, o.Dev, o.Other), o.Dev
			open[o.Slot], last[o.Slot] = true, nil
			n.opens[o.Slot]++
			n.ksocks[o.Dev][ids[o.Slot]] = fmt.Sprintf("k%d%s", o.Slot, strings.Repeat("'", n.opens[o.Slot]-1))
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
			m := kbus.Message{Name: o.Name, Data: []byte(o.Data), Flags: o.Flags, ID: o.NetID, OrigFrom: o.Orig,
				FinalTo: o.Orig}
			if o.Request {
				m.Flags |= kbus.FlagWantAReply
				if o.To >= 0 && open[o.To] && dev[o.To] == dev[o.Slot] { // ids are a device's own
					m.To = ids[o.To]
				}
			}
			id, err := t.Send(o.Slot, m, o)
			line = fmt.Sprintf("%s id=%s", errName(err), n.msg(dev[o.Slot], id))
		case ReplyLast:
			req := last[o.Slot]
			if req == nil {
				continue
			}
			last[o.Slot] = nil
			rep, _ := kbus.ReplyTo(req, []byte("re"))
			rep.Flags |= o.Flags
			id, err := t.Send(o.Slot, *rep, Op{})
			line = fmt.Sprintf("%s id=%s", errName(err), n.msg(dev[o.Slot], id))
		case Next:
			m, err := t.Next(o.Slot)
			if m != nil && m.WantsUsToReply() {
				last[o.Slot] = m
			}
			line = fmt.Sprintf("%s %s", errName(err), n.message(dev[o.Slot], m))
		case Poll:
			r, w := t.Poll(o.Slot)
			line = fmt.Sprintf("readable=%v writable=%v", r, w)
		case Retry:
			id, err := t.Retry(o.Slot)
			line = fmt.Sprintf("%s id=%s", errName(err), n.msg(dev[o.Slot], id))
		case Discard:
			t.Discard(o.Slot)
			line = "discarded"
		case NextMsg:
			line = fmt.Sprintf("len=%d", t.NextMsg(o.Slot))
		case Many:
			ms, size, err := t.ReceiveMany(o.Slot, int(o.N), int(o.Max))
			line = fmt.Sprintf("%s len=%d count=%d", errName(err), size, len(ms))
			for _, m := range ms {
				if m.WantsUsToReply() {
					last[o.Slot] = m
				}
				line += " " + n.message(dev[o.Slot], m)
			}
		case Read:
			got, left, err := t.Read(o.Slot, int(o.N), o.ReadOnly)
			line = fmt.Sprintf("%s got=%d lenleft=%d", errName(err), got, left)
		case SetMax:
			line = fmt.Sprint(t.SetMaxMessages(o.Slot, o.N))
		case OnlyOnce, ReportBinds, Verbose:
			v, err := switches[o.Kind](o.Slot, o.N)
			line = fmt.Sprintf("%s was=%d", errName(err), v)
		case MaxSize:
			v, err := t.MaxMessageSize(o.Slot, o.N)
			line = fmt.Sprintf("%s size=%d", errName(err), v)
		case LastSent:
			line = n.msg(dev[o.Slot], t.LastSent(o.Slot))
		case Replier:
			id, err := t.FindReplier(o.Slot, o.Name)
			line = fmt.Sprintf("%s replier=%s", errName(err), n.ksock(dev[o.Slot], id))
		case BadArg:
			line = errName(t.BadArgument(o.Slot, o))
		case Counts:
			c := t.Counts(o.Slot)
			line = fmt.Sprintf("nummsgs=%d unreplied=%d queue=%d outstanding=%d sending=%v",
				c.NumMsgs, c.Unreplied, c.Queued, c.Outstanding, c.Sending)
		}
		out = append(out, Step{Op: i, Outcome: line})
	}
	return out
}

// Diff returns the first step where a and b differ, and whether they do.
func Diff(a, b Trace) (int, bool) {
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
