// Package kbustest is an in-process KBUS bus for unit tests: Ksocks that
// bind, send, request, reply and receive as docs/kbus.md says KBUS does,
// with no kernel and no device, so that an application's KBUS logic can be
// tested with go test on any machine. Its Ksocks are kbus.Conns, as
// *kbus.Ksock is: code written against kbus.Conn runs on both.
//
// The bus is kbus/model, the model the module is checked against: the
// rig runs the same random programs on both and compares every result
// (specs/model, make difftest). Where they differ, the module is right and
// the model has a bug. The bus offers what kbus.Conn has, replier bind
// events included, read-only opens and a member's (OpenAsMember); the
// model also knows the maximum message size and separate devices, which
// this bus does not offer yet, nor /proc.
package kbustest

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/model"
	"github.com/kbus-project/kbus/kbus/raw"
)

// Bus is one in-process device.
type Bus struct {
	mu      sync.Mutex
	dev     *model.Device
	ksocks  []*Ksock
	changed chan struct{} // closed and replaced whenever the bus changes
}

// New returns an empty bus.
func New() *Bus {
	return &Bus{dev: model.NewDevice(), changed: make(chan struct{})}
}

// Open opens a read-write Ksock on the bus, as root or the device node's
// owner would.
func (b *Bus) Open() *Ksock { return b.open((*model.Device).Open) }

// OpenReadOnly opens a Ksock that may bind and receive but not send
// (kbus.ErrReadOnly), as kbus.Open with kbus.ReadOnly does.
func (b *Bus) OpenReadOnly() *Ksock {
	return b.open(func(d *model.Device, _ bool) *model.Ksock { return d.Open(false) })
}

// OpenAsMember opens a read-write Ksock as a process that may open the
// device (its group) but neither owns the node nor has CAP_SYS_ADMIN, as
// a service in the kbus group does (docs/kbus.md §18.5): it cannot change
// the whole device (ErrNotPermitted), and all such Ksocks together hold at
// most the bus's SetMaxUserBindings bindings (ErrTooManyBindings).
func (b *Bus) OpenAsMember() *Ksock { return b.open((*model.Device).OpenAsOther) }

func (b *Bus) open(how func(*model.Device, bool) *model.Ksock) *Ksock {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := &Ksock{bus: b, k: how(b.dev, true)}
	b.ksocks = append(b.ksocks, k)
	b.changedLocked()
	return k
}

// WaitForReplier waits until some Ksock of the bus is the replier for
// name, or ctx ends: for a test whose service binds in a goroutine of its
// own, instead of polling FindReplier.
func (b *Bus) WaitForReplier(ctx context.Context, name string) error {
	for {
		b.mu.Lock()
		found := b.dev.HasReplier(name)
		changed := b.changed
		b.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return opErr("wait for a replier to "+name, ctx.Err())
		}
	}
}

// SetMaxUserBindings sets how many bindings the members' Ksocks may hold
// together, as root does in /sys/class/kbus/kbusN/max_user_bindings
// (model.DefaultMaxUserBindings at first; 0 lifts the bound).
func (b *Bus) SetMaxUserBindings(n uint32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dev.SetMaxUserBindings(n)
}

// changedLocked wakes every waiting Receive and retries pending
// ALL_OR_WAIT sends, as the module's poll does.
func (b *Bus) changedLocked() {
	for _, k := range b.ksocks {
		if k.pending {
			if _, err := k.k.Retry(); err != kbus.ErrWouldBlock {
				k.pending = false
			}
		}
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// Ksock is one open Ksock on a Bus.
type Ksock struct {
	bus     *Bus
	k       *model.Ksock
	kept    []*kbus.Message // read while a Request waited for its reply
	pending bool
	closed  bool
}

var _ kbus.Conn = (*Ksock)(nil)

// ErrClosed is the error of a call on a closed Ksock, as for a real one.
var ErrClosed = kbus.ErrClosed

// opErr is the error a real Ksock gives: a *kbus.OpError (with no device
// number) wrapping the same value.
func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return &kbus.OpError{Op: op, Device: -1, Err: err}
}

// do runs f under the bus's lock, then tells the bus it changed.
func (k *Ksock) do(op string, f func() error) error {
	k.bus.mu.Lock()
	defer k.bus.mu.Unlock()
	if k.closed {
		return opErr(op, ErrClosed)
	}
	err := f()
	k.bus.changedLocked()
	return opErr(op, err)
}

// SetMaxMessages sets how many messages the Ksock's queue holds (MAXMSGS;
// 0 asks) and returns the number now in force, as *kbus.Ksock's does. A
// queue also holds at most model.DefaultMaxQueueBytes of messages, whatever
// this number (docs/kbus.md §18.1).
func (k *Ksock) SetMaxMessages(n uint32) (uint32, error) {
	var v uint32
	err := k.do("set max messages", func() error { v = k.k.SetMaxMessages(n); return nil })
	return v, err
}

// NumMessages is how many messages are queued for the Ksock (and events
// set aside for it), as *kbus.Ksock's NumMessages; messages a Request
// read and kept for Receive are not among them.
func (k *Ksock) NumMessages() (uint32, error) {
	var n int
	err := k.do("number of messages", func() error { n = k.k.NumMessages(); return nil })
	return uint32(n), err
}

// SetReportReplierBinds switches replier bind events on or off for the
// whole bus (docs/kbus.md §11) and returns what it was; a member's Ksock
// gets kbus.ErrNotPermitted.
func (k *Ksock) SetReportReplierBinds(on bool) (bool, error) {
	v := uint32(0)
	if on {
		v = 1
	}
	return k.toggle("set report replier binds", v, k.k.ReportReplierBinds)
}

// ReportReplierBinds says whether replier bind events are on.
func (k *Ksock) ReportReplierBinds() (bool, error) {
	return k.toggle("report replier binds", raw.Query, k.k.ReportReplierBinds)
}

// MaxMessages is how many messages the Ksock's queue holds.
func (k *Ksock) MaxMessages() (uint32, error) { return k.SetMaxMessages(0) }

// SetOnlyOnce sets MSGONLYONCE (a message this Ksock is bound to more
// than once comes once) and returns what it was.
func (k *Ksock) SetOnlyOnce(on bool) (bool, error) {
	v := uint32(0)
	if on {
		v = 1
	}
	return k.toggle("set only once", v, k.k.OnlyOnce)
}

// OnlyOnce says whether MSGONLYONCE is on.
func (k *Ksock) OnlyOnce() (bool, error) { return k.toggle("only once", raw.Query, k.k.OnlyOnce) }

// toggle runs a model switch (0 or 1 sets, raw.Query asks) and says
// whether it was on.
func (k *Ksock) toggle(op string, v uint32, sw func(uint32) (uint32, error)) (bool, error) {
	var was uint32
	err := k.do(op, func() error {
		var err error
		was, err = sw(v)
		return err
	})
	return was == 1, err
}

// ID is the Ksock's id.
func (k *Ksock) ID() (uint32, error) {
	var id uint32
	err := k.do("id", func() error { id = k.k.ID(); return nil })
	return id, err
}

// BindListener binds the Ksock as a listener to name (a wildcard may end
// in .* or .%).
func (k *Ksock) BindListener(name string) error {
	return k.do("bind "+name, func() error { return k.k.Bind(name, false) })
}

// BindReplier binds the Ksock as the replier for name.
func (k *Ksock) BindReplier(name string) error {
	return k.do("bind replier "+name, func() error { return k.k.Bind(name, true) })
}

// UnbindListener removes the newest listener binding to name.
func (k *Ksock) UnbindListener(name string) error {
	return k.do("unbind "+name, func() error { return k.k.Unbind(name, false) })
}

// UnbindReplier removes the replier binding to name.
func (k *Ksock) UnbindReplier(name string) error {
	return k.do("unbind replier "+name, func() error { return k.k.Unbind(name, true) })
}

// FindReplier returns the id of the Ksock that replies to name.
func (k *Ksock) FindReplier(name string) (uint32, bool, error) {
	var id uint32
	err := k.do("replier "+name, func() error {
		var err error
		id, err = k.k.FindReplier(name)
		return err
	})
	return id, id != 0, err
}

// Send sends m and returns its id. An ALL_OR_WAIT message that some
// recipient has no room for fails with kbus.ErrWouldBlock and stays
// pending; it is sent when the bus changes enough.
func (k *Ksock) Send(m *kbus.Message) (kbus.MessageID, error) {
	var id kbus.MessageID
	err := k.do("send "+m.Name, func() error {
		var err error
		id, err = k.k.Send(*m)
		if err == kbus.ErrWouldBlock {
			k.pending = true
		}
		return err
	})
	return id, err
}

// SendWait sends m, and when the bus cannot deliver it yet (an
// ALL_OR_WAIT message, a recipient's queue full) waits until it has, as
// *kbus.Ksock's does. If ctx ends first, the pending send is discarded and
// ctx's error returned.
func (k *Ksock) SendWait(ctx context.Context, m *kbus.Message) (kbus.MessageID, error) {
	id, err := k.Send(m)
	if !errors.Is(err, kbus.ErrWouldBlock) {
		return id, err
	}
	for {
		k.bus.mu.Lock()
		if !k.pending || k.closed {
			k.bus.mu.Unlock()
			return id, nil
		}
		changed := k.bus.changed
		k.bus.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			_ = k.do("discard", func() error { k.k.Discard(); k.pending = false; return nil })
			return id, opErr("send "+m.Name, ctx.Err())
		}
	}
}

// Messages returns the messages the Ksock receives, as Receive returns
// them, until ctx ends or receiving fails (kbus.Messages).
func (k *Ksock) Messages(ctx context.Context) iter.Seq2[*kbus.Message, error] {
	return kbus.Messages(ctx, k)
}

// Serve receives messages until ctx ends and hands each to h, replying to
// requests as kbus.Handler says (kbus.Serve).
func (k *Ksock) Serve(ctx context.Context, h kbus.Handler) error { return kbus.Serve(ctx, k, h) }

// Reply sends the reply to req, a request delivered to this Ksock to
// answer.
func (k *Ksock) Reply(req *kbus.Message, data []byte) (kbus.MessageID, error) {
	rep, err := kbus.ReplyTo(req, data)
	if err != nil {
		return kbus.MessageID{}, err
	}
	return k.Send(rep)
}

// Request sends req as a request and waits for its reply; a status in its
// place is a *kbus.StatusError (errors.Is gives kbus.ErrGoneAway and the
// others). Other messages read meanwhile are kept for Receive.
func (k *Ksock) Request(ctx context.Context, req *kbus.Message) (*kbus.Message, error) {
	if !req.IsRequest() {
		c := *req
		c.Flags |= kbus.FlagWantAReply
		req = &c
	}
	// As the real Request: a request the bus cannot take yet waits.
	id, err := k.SendWait(ctx, req)
	if err != nil {
		return nil, err
	}
	m, err := k.next(ctx, "request "+req.Name, func(m *kbus.Message) bool { return m.InReplyTo == id })
	if err != nil {
		return nil, err
	}
	if err := m.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// Receive waits for the next message, until ctx ends.
func (k *Ksock) Receive(ctx context.Context) (*kbus.Message, error) {
	return k.next(ctx, "receive", nil)
}

// TryReceive returns the next message, or nil if none is queued.
func (k *Ksock) TryReceive() (*kbus.Message, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, err := k.next(ctx, "receive", nil)
	if err != nil && ctx.Err() != nil && !k.isClosed() {
		return nil, nil
	}
	return m, err
}

func (k *Ksock) isClosed() bool {
	k.bus.mu.Lock()
	defer k.bus.mu.Unlock()
	return k.closed
}

// next is the next message that want accepts (nil: any), waiting until ctx
// ends; messages it passes over are kept, in order.
func (k *Ksock) next(ctx context.Context, op string, want func(*kbus.Message) bool) (*kbus.Message, error) {
	for {
		k.bus.mu.Lock()
		if k.closed {
			k.bus.mu.Unlock()
			return nil, opErr(op, ErrClosed)
		}
		for i, m := range k.kept {
			if want == nil || want(m) {
				k.kept = append(k.kept[:i:i], k.kept[i+1:]...)
				k.bus.mu.Unlock()
				return m, nil
			}
		}
		var got *kbus.Message
		for {
			m := k.k.Next()
			if m == nil {
				break
			}
			k.bus.changedLocked() // room in the queue
			if want == nil || want(m) {
				got = m
				break
			}
			k.kept = append(k.kept, m)
		}
		changed := k.bus.changed
		k.bus.mu.Unlock()
		if got != nil {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, opErr(op, ctx.Err())
		case <-changed:
		}
	}
}

// Close closes the Ksock, as closing a real one does: its bindings go,
// and every request it held or owed gets its status.
func (k *Ksock) Close() error {
	k.bus.mu.Lock()
	defer k.bus.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	k.k.Close()
	for i, o := range k.bus.ksocks {
		if o == k {
			k.bus.ksocks = append(k.bus.ksocks[:i], k.bus.ksocks[i+1:]...)
			break
		}
	}
	k.bus.changedLocked()
	return nil
}
