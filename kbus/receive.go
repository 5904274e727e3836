package kbus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"unsafe"

	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// recvMsg takes the next message with RECVMSG, without waiting: nil if
// none is queued. The caller holds k.recv, which guards k.scratch.
func (k *Ksock) recvMsg(fd uintptr) ([]byte, error) {
	var n int
	got, err := k.recvScratch(4096, func(buf []byte) (uint32, error) {
		rq := raw.Receive{Len: uint32(len(buf)), Buf: &buf[0]}
		r, err := raw.Call(fd, raw.NrRecvMsg, unsafe.Pointer(&rq))
		n = int(r)
		return rq.Len, err
	})
	if !got {
		return nil, err
	}
	return bytes.Clone(k.scratch[:n]), nil
}

// manyBuffer is RECVMANY's buffer when the messages are small: room for
// a few dozen of them, or one of up to 64 KiB.
const manyBuffer = 64 << 10

// recvMany takes with RECVMANY as many whole messages as are queued and
// fit k.scratch, without waiting: none if none is queued. The caller
// holds k.recv.
func (k *Ksock) recvMany(fd uintptr) ([]*Message, error) {
	var rq raw.ReceiveMany
	got, err := k.recvScratch(manyBuffer, func(buf []byte) (uint32, error) {
		rq = raw.ReceiveMany{Len: uint32(len(buf)), Buf: &buf[0]}
		_, err := raw.Call(fd, raw.NrRecvMany, unsafe.Pointer(&rq))
		return rq.Len, err
	})
	if !got {
		return nil, err
	}
	return splitMessages(k.scratch[:rq.Len], int(rq.Count))
}

// recvScratch makes call, a RECVMSG or RECVMANY into k.scratch (at least
// least bytes), again with a bigger buffer while the next message does
// not fit (call returns the length it needs) and after an interrupted
// wait for the device: whether it took anything.
func (k *Ksock) recvScratch(least int, call func(buf []byte) (need uint32, err error)) (bool, error) {
	for {
		if len(k.scratch) < least {
			k.scratch = make([]byte, least)
		}
		need, err := call(k.scratch)
		runtime.KeepAlive(k.scratch)
		switch err {
		case nil:
			return true, nil
		case unix.EMSGSIZE: // a bigger message: it is still queued
			k.scratch = make([]byte, need)
		case unix.EINTR: // interrupted waiting for the device lock
		case unix.EAGAIN:
			return false, nil
		default:
			return false, err
		}
	}
}

// splitMessages cuts n messages in the entire form, back to back in b,
// apart (docs/kbus.md §7.1, RECVMANY).
func splitMessages(b []byte, n int) ([]*Message, error) {
	bs, _, serr := raw.Native.SplitEntire(b, n)
	ms := make([]*Message, 0, len(bs))
	for _, b := range bs {
		m, err := FromBytes(bytes.Clone(b))
		if err != nil {
			return ms, err
		}
		ms = append(ms, m)
	}
	if serr != nil {
		return ms, fmt.Errorf("RECVMANY: %w", serr)
	}
	return ms, nil
}

// receiveMany waits until messages are queued, or some were kept, and
// takes them all (as many as one RECVMANY gives); the caller holds k.recv.
func (k *Ksock) receiveMany(ctx context.Context, op string) ([]*Message, error) {
	if ms := k.kept.popAll(); len(ms) > 0 {
		return ms, nil
	}
	var (
		ms   []*Message
		rerr error
	)
	err := k.wait(ctx, op, false, func(fd uintptr) bool {
		ms, rerr = k.recvMany(fd)
		return len(ms) > 0 || rerr != nil
	})
	if err == nil {
		err = wrap(op, k.device, rerr)
	}
	if err != nil && len(ms) == 0 {
		return nil, err
	}
	return ms, nil
}

// receive waits for the next message from KBUS and reads it; the caller
// holds k.recv.
func (k *Ksock) receive(ctx context.Context, op string) (*Message, error) {
	var (
		b    []byte
		rerr error
	)
	oneCall := k.oneCall.Load()
	err := k.wait(ctx, op, false, func(fd uintptr) bool {
		if oneCall {
			b, rerr = k.recvMsg(fd)
			return b != nil || rerr != nil
		}
		n, err := k.nextMsg(fd)
		if err != nil {
			rerr = err
			return true
		}
		if n == 0 {
			return false // nothing queued: wait until KBUS says there is
		}
		b = make([]byte, n)
		for got := 0; got < len(b); {
			m, err := readSome(fd, b[got:])
			if err != nil || m == 0 {
				rerr = fmt.Errorf("reading a %d-byte message after %d: %w", n, got, errOr(err))
				return true
			}
			got += m
		}
		return true
	})
	if err == nil {
		err = wrap(op, k.device, rerr)
	}
	if err != nil {
		return nil, err
	}
	return FromBytes(b)
}

func errOr(err error) error {
	if err == nil {
		return errors.New("unexpected end of message")
	}
	return err
}

// Receive waits until a message arrives or ctx ends, and returns it:
// first any Request kept, then KBUS's queue, in KBUS's order. The package
// documentation says what arrives.
func (k *Ksock) Receive(ctx context.Context) (*Message, error) {
	if err := k.lock(ctx, "receive", k.recv); err != nil {
		return nil, err
	}
	defer unlock(k.recv)
	if m := k.kept.pop(); m != nil {
		return m, nil
	}
	return k.receive(ctx, "receive")
}

// TryReceive returns the next message if one is queued, without waiting;
// nil if there is none (or another goroutine is receiving on the Ksock).
func (k *Ksock) TryReceive() (*Message, error) {
	select {
	case k.recv <- struct{}{}:
	default:
		return nil, nil
	}
	defer unlock(k.recv)
	if m := k.kept.pop(); m != nil {
		return m, nil
	}
	if k.closed.Load() {
		return nil, &OpError{Op: "receive", Device: k.device, Err: ErrClosed}
	}
	if k.oneCall.Load() {
		var b []byte
		err := k.control("receive", func(fd uintptr) (err error) {
			b, err = k.recvMsg(fd)
			return err
		})
		if err != nil || b == nil {
			return nil, err
		}
		return FromBytes(b)
	}
	var n uint32
	err := k.control("receive", func(fd uintptr) (err error) {
		n, err = k.nextMsg(fd)
		return err
	})
	if err != nil || n == 0 {
		return nil, err
	}
	return k.Syscalls().ReadMsg(n)
}

// Messages returns the messages the Ksock receives, as Receive returns
// them, until ctx ends (the sequence then simply ends) or receiving fails
// (the error is the last element). Breaking out of the loop stops it.
//
//	for m, err := range ks.Messages(ctx) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(m)
//	}
//
// Where the module has RECVMANY, each wait takes the messages queued (as
// many as one call gives, up to and including a request to answer) at
// once (docs/kbus.md §7.1); those the loop has not reached when it ends
// go back in front of the queue, for the next Receive.
func (k *Ksock) Messages(ctx context.Context) iter.Seq2[*Message, error] {
	if !k.hasMany || !k.oneCall.Load() {
		return Messages(ctx, k)
	}
	return messages(ctx, k.takeMany, k.kept.pushFront)
}

// takeMany is receiveMany with k.recv taken and given back.
func (k *Ksock) takeMany(ctx context.Context) ([]*Message, error) {
	if err := k.lock(ctx, "receive", k.recv); err != nil {
		return nil, err
	}
	defer unlock(k.recv)
	return k.receiveMany(ctx, "receive")
}

// Messages is Ksock.Messages for any Conn (kbustest's Ksock uses it).
func Messages(ctx context.Context, c Conn) iter.Seq2[*Message, error] {
	return messages(ctx, func(ctx context.Context) ([]*Message, error) {
		m, err := c.Receive(ctx)
		if err != nil {
			return nil, err
		}
		return []*Message{m}, nil
	}, nil)
}

// messages yields what take gives, a batch at a time, until ctx ends (the
// sequence then simply ends) or take fails (the error is the last
// element); what a loop that stops early did not reach goes to giveBack.
func messages(ctx context.Context, take func(context.Context) ([]*Message, error),
	giveBack func([]*Message)) iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		for {
			ms, err := take(ctx)
			if err != nil {
				if ctx.Err() == nil {
					yield(nil, err)
				}
				return
			}
			for i, m := range ms {
				if !yield(m, nil) {
					if giveBack != nil {
						giveBack(ms[i+1:])
					}
					return
				}
			}
		}
	}
}

// A Handler handles one message Serve received. For a request delivered to
// this Ksock as its replier (m.WantsUsToReply()), Serve sends what it
// returns as the reply, unless it returns ErrReplyLater (it replies itself,
// now or later, with Ksock.Reply) or an *AppError (Serve sends that as
// the reply instead, and goes on: the requester's Request returns it). For
// any other message the data is ignored. Any other error ends Serve, which
// returns it; a request left unanswered is then answered by KBUS when the
// Ksock closes.
type Handler func(ctx context.Context, m *Message) (reply []byte, err error)

// Serve receives messages until ctx ends and hands each to h, in order;
// it replies to requests as Handler says. It returns nil when ctx ends,
// h's error, or the error receiving or replying failed with. A reply
// whose requester has gone meanwhile (ErrNoReplier) is not an error.
func (k *Ksock) Serve(ctx context.Context, h Handler) error { return Serve(ctx, k, h) }

// Serve is Ksock.Serve for any Conn (kbustest's Ksock uses it).
func Serve(ctx context.Context, c Conn, h Handler) error {
	for m, err := range c.Messages(ctx) {
		if err != nil {
			return err
		}
		data, err := h(ctx, m)
		if errors.Is(err, ErrReplyLater) {
			continue
		}
		var app *AppError
		if errors.As(err, &app) && m.WantsUsToReply() {
			err = replyAppError(c, m, app)
		} else if err != nil {
			return fmt.Errorf("kbus: handling %v: %w", m, err)
		} else if m.WantsUsToReply() {
			_, err = c.Reply(m, data)
		}
		if err != nil && !errors.Is(err, ErrNoReplier) {
			return err
		}
	}
	return nil
}
