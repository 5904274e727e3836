// Package fuzz is the coverage-guided fuzzer of the KBUS module: programs
// of system calls on /dev/kbusN (open, close, read, write, ioctl, poll;
// valid messages and mutated ones, wrong lengths, bad pointers, edge
// values), run on two threads in each of two processes, the second of
// which a program can kill mid-call, kept when the module's KCOV coverage
// (fuzz/kcov) shows they reached code nothing before them did. The guest
// runs it on the debug kernel (specs/fuzz); docs/testing.md says how to
// read its figures and replay what it finds.
package fuzz

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
)

// Kind is what an operation does.
type Kind string

// The operations. Each acts on one of the program's descriptors (Slot).
const (
	OpOpen    Kind = "open"    // Flag: read-only
	OpClose   Kind = "close"   //
	OpBind    Kind = "bind"    // Flag: as replier; Name; Ptr
	OpUnbind  Kind = "unbind"  // as bind
	OpWrite   Kind = "write"   // Msg, written in pieces of N bytes (0: at once); Ptr
	OpSend    Kind = "send"    // Ptr for the id
	OpSendMsg Kind = "sendmsg" // Msg; Ptr
	OpDiscard Kind = "discard" //
	OpNextMsg Kind = "nextmsg" // Ptr
	OpRead    Kind = "read"    // N bytes; Ptr
	OpRecvMsg Kind = "recvmsg" // N buffer bytes; Val timeout in ms; Flag: wait for it (a blocking call); Many: RECVMANY; Ptr
	OpIoctl   Kind = "ioctl"   // N the command number; Val the u32 argument; Ptr
	OpPoll    Kind = "poll"    // Val timeout in ms
	OpInspect Kind = "inspect" // N (mod 5): read /proc/kbus/bindings or /proc/kbus/stats (Val: how, inspectListing), the device's name_hash or max_user_bindings; write Val to max_user_bindings
	OpKill    Kind = "kill"    // SIGKILL to the second process (Proc 1), started again when next needed
)

// Ptr says what user address a call gets instead of a good buffer.
type Ptr string

// The bad addresses.
const (
	PtrGood   Ptr = ""
	PtrNull   Ptr = "null"   // 0
	PtrNone   Ptr = "none"   // a mapped page with no access
	PtrKernel Ptr = "kernel" // an address in kernel space
	PtrShort  Ptr = "short"  // a good buffer that ends in a no-access page too early
	// PtrReadOnly is the good argument's bytes in a page the call may
	// read but not write (for RECVMSG, struct kbus_receive itself).
	PtrReadOnly Ptr = "readonly"
	// PtrSlow is the good argument's bytes in a page that is missing
	// until slowDelay after the call starts (userfaultfd): the call waits
	// for it as for a page coming from a slow disk (docs/kbus.md §18.2),
	// while the program's other threads go on.
	PtrSlow Ptr = "slow"
)

// Msg describes a message to write: built as an entire message, then
// mutated byte by byte.
type Msg struct {
	Name        string   `json:"name"`
	Flags       uint32   `json:"flags,omitempty"`
	Data        int      `json:"data,omitempty"`          // data length
	To          uint32   `json:"to,omitempty"`            // a Ksock id
	ReplyToLast bool     `json:"reply_to_last,omitempty"` // answer the last message read on the slot
	Pointy      bool     `json:"pointy,omitempty"`        // name and data by pointer
	Flips       [][2]int `json:"flips,omitempty"`         // {offset, xor}
	Cut         int      `json:"cut,omitempty"`           // bytes dropped from the end (<0: added)
}

// Op is one operation of a program.
type Op struct {
	Kind   Kind   `json:"op"`
	Slot   int    `json:"slot"`
	Thread int    `json:"thread,omitempty"`
	Proc   int    `json:"proc,omitempty"` // 0: the fuzzer's process; 1: its child, with descriptors of its own
	Flag   bool   `json:"flag,omitempty"`
	Name   string `json:"name,omitempty"`
	N      uint32 `json:"n,omitempty"`
	Val    uint32 `json:"val,omitempty"`
	Ptr    Ptr    `json:"ptr,omitempty"`
	Msg    *Msg   `json:"msg,omitempty"`
	// Fail makes the Fail-th allocation of the call fail (the kernel's
	// fault injection, /proc/thread-self/fail-nth; the debug kernel has
	// it): 0, none.
	Fail uint32 `json:"fail,omitempty"`
	// Intr sends the calling thread a signal shortly after the call
	// starts: a call that waits then ends with EINTR, or is restarted.
	Intr bool `json:"intr,omitempty"`
	// Many makes a recvmsg a RECVMANY taking at most Many-1 messages
	// (0: as many as fit); 0 leaves it a RECVMSG.
	Many uint32 `json:"many,omitempty"`
}

// maxFail is the latest allocation of a call a program makes fail.
const maxFail = 6

// Program is a sequence of operations; every descriptor it leaves open
// is closed after it.
type Program []Op

// Slots is how many descriptors each process of a program juggles;
// Threads how many threads of each of the Procs processes run its
// operations.
const (
	Slots   = 4
	Threads = 2
	Procs   = 2
)

// Encode is the program as JSON, one operation a line: the corpus and
// reproducer format.
func (p Program) Encode() []byte {
	var b strings.Builder
	b.WriteString("[\n")
	for i, op := range p {
		j, _ := json.Marshal(op)
		b.Write(j)
		if i < len(p)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

// Decode reads a program Encode wrote.
func Decode(b []byte) (Program, error) {
	var p Program
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("fuzz: decoding a program: %w", err)
	}
	for i, op := range p {
		if op.Slot < 0 || op.Slot >= Slots || op.Thread < 0 || op.Thread >= Threads || op.Proc < 0 || op.Proc >= Procs {
			return nil, fmt.Errorf("fuzz: operation %d: slot %d, thread %d or process %d out of range",
				i, op.Slot, op.Thread, op.Proc)
		}
	}
	return p, nil
}

// names is what programs bind to and send: valid names and wildcards
// that overlap, KBUS's own names, and invalid or overlong ones.
var names = []string{
	"$.F.a", "$.F.b", "$.F.a.b", "$.F.*", "$.F.%", "$.F.a.*", "$.*", "$.%", "$.F.a.%",
	"$.KBUS.ReplierBindEvent", "$.KBUS.Replier.GoneAway",
	"$.", "$.F..a", "$.F.", "F.a", "$.F.a*", "$.F.é", "",
	"$." + strings.Repeat("x", 998), "$." + strings.Repeat("y", 999),
}

// Message flags worth setting (docs/kbus.md §4.2), and bits nobody uses.
var flagBits = []uint32{0x1, 0x2, 0x4, 0x8, 0x10, 0x100, 0x200, 0x300, 0x8000_0000, 0x0001_0000}

// Edge values for u32 ioctl arguments.
var u32Edges = []uint32{0, 1, 2, 3, 99, 100, 101, 409600, 409601, 0x7fff_ffff, 0xffff_fffe, 0xffff_ffff}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

func randPtr(r *rand.Rand) Ptr {
	if r.Intn(8) != 0 {
		return PtrGood
	}
	return pick(r, []Ptr{PtrNull, PtrNone, PtrKernel, PtrShort, PtrReadOnly, PtrSlow})
}

func randMsg(r *rand.Rand) *Msg {
	m := &Msg{Name: pick(r, names[:11])}
	if r.Intn(6) == 0 {
		m.Name = pick(r, names)
	}
	for i := r.Intn(3); i > 0; i-- {
		m.Flags |= pick(r, flagBits)
	}
	switch r.Intn(6) {
	case 0:
		m.Data = r.Intn(4096)
	case 1, 2:
		m.Data = r.Intn(16)
	}
	if r.Intn(4) == 0 {
		m.To = uint32(r.Intn(8))
	}
	m.ReplyToLast = r.Intn(4) == 0
	m.Pointy = r.Intn(6) == 0
	if r.Intn(5) == 0 {
		for i := 1 + r.Intn(3); i > 0; i-- {
			m.Flips = append(m.Flips, [2]int{r.Intn(96), 1 << r.Intn(8)})
		}
	}
	if r.Intn(8) == 0 {
		m.Cut = r.Intn(12) - 4
	}
	return m
}

// randOp is one operation chosen at random.
func randOp(r *rand.Rand) Op {
	op := Op{Slot: r.Intn(Slots)}
	if r.Intn(5) == 0 {
		op.Thread = 1
	}
	if r.Intn(4) == 0 {
		op.Proc = 1
	}
	switch n := r.Intn(103); {
	case n < 8:
		op.Kind, op.Flag = OpOpen, r.Intn(6) == 0
	case n < 12:
		op.Kind = OpClose
	case n < 24:
		op.Kind, op.Flag, op.Name, op.Ptr = OpBind, r.Intn(2) == 0, pick(r, names), randPtr(r)
		if r.Intn(3) != 0 {
			op.Name = pick(r, names[:9])
		}
	case n < 28:
		op.Kind, op.Flag, op.Name, op.Ptr = OpUnbind, r.Intn(2) == 0, pick(r, names[:9]), randPtr(r)
	case n < 44:
		op.Kind, op.Msg, op.Ptr = OpWrite, randMsg(r), randPtr(r)
		if r.Intn(4) == 0 {
			op.N = uint32(1 + r.Intn(40))
		}
	case n < 54:
		op.Kind, op.Ptr = OpSend, randPtr(r)
	case n < 60:
		op.Kind, op.Msg, op.Ptr = OpSendMsg, randMsg(r), randPtr(r)
	case n < 63:
		op.Kind = OpDiscard
	case n < 72:
		op.Kind, op.Ptr = OpNextMsg, randPtr(r)
	case n < 82:
		op.Kind, op.N, op.Ptr = OpRead, pick(r, []uint32{0, 1, 7, 64, 80, 4096, 1 << 20}), randPtr(r)
	case n < 88:
		op.Kind, op.N, op.Val, op.Ptr = OpRecvMsg, pick(r, []uint32{0, 8, 100, 4096, 1 << 20}),
			pick(r, []uint32{0, 0, 10, 40, 0xffffffff}), randPtr(r)
		op.Flag = r.Intn(2) == 0
		op.Intr = op.Flag && r.Intn(3) == 0
		if r.Intn(3) == 0 {
			op.Many = pick(r, []uint32{1, 2, 3})
		}
	case n < 96:
		op.Kind, op.N, op.Val, op.Ptr = OpIoctl, uint32(r.Intn(24)), pick(r, u32Edges), randPtr(r)
	case n < 99:
		op.Kind, op.Val = OpPoll, pick(r, []uint32{0, 0, 5})
	case n >= 100:
		op.Kind, op.N, op.Val = OpInspect, uint32(r.Intn(inspections)), pick(r, []uint32{0, 1, 2, 4096})
	default:
		op = Op{Kind: OpKill, Proc: 1}
	}
	if op.Kind != OpKill && op.Kind != OpPoll && r.Intn(6) == 0 {
		op.Fail = 1 + uint32(r.Intn(maxFail))
	}
	return op
}

// Generate is a fresh random program: a few descriptors opened in each
// process, then operations on them.
func Generate(r *rand.Rand) Program {
	var p Program
	for s, n := 0, 1+r.Intn(Slots); s < n; s++ {
		p = append(p, Op{Kind: OpOpen, Slot: s})
	}
	for s, n := 0, r.Intn(Slots+1); s < n; s++ {
		p = append(p, Op{Kind: OpOpen, Slot: s, Proc: 1})
	}
	for n := 8 + r.Intn(32); n > 0; n-- {
		p = append(p, randOp(r))
	}
	return p
}

// Mutate is a variation of p, perhaps spliced with other: operations
// inserted, removed, changed or taken from other.
func Mutate(r *rand.Rand, p, other Program) Program {
	q := append(Program(nil), p...)
	for n := 1 + r.Intn(4); n > 0; n-- {
		switch k := r.Intn(10); {
		case k < 3 || len(q) == 0:
			i := r.Intn(len(q) + 1)
			q = append(q[:i], append(Program{randOp(r)}, q[i:]...)...)
		case k < 5:
			i := r.Intn(len(q))
			q = append(q[:i], q[i+1:]...)
		case k < 8:
			i := r.Intn(len(q))
			op := q[i]
			switch r.Intn(5) {
			case 4:
				if r.Intn(3) == 0 {
					op.Intr = !op.Intr
				} else {
					op.Fail = uint32(r.Intn(maxFail + 1))
				}
			case 0:
				op.Slot = r.Intn(Slots)
			case 1:
				op.Ptr = randPtr(r)
			case 2:
				op.Val = pick(r, u32Edges)
			default:
				if op.Msg != nil {
					m := *op.Msg
					m.Flips = append(append([][2]int(nil), m.Flips...), [2]int{r.Intn(96), 1 << r.Intn(8)})
					op.Msg = &m
				} else if r.Intn(2) == 0 {
					op.Thread = 1 - op.Thread
				} else {
					op.Proc = 1 - op.Proc
				}
			}
			q[i] = op
		default:
			if len(other) > 0 {
				i, j := r.Intn(len(q)+1), r.Intn(len(other))
				k := j + 1 + r.Intn(min(8, len(other)-j))
				q = append(q[:i], append(append(Program(nil), other[j:k]...), q[i:]...)...)
			}
		}
	}
	if len(q) > 200 {
		q = q[:200]
	}
	return q
}
