package kbus

import (
	"context"
	"errors"
	"unsafe"

	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// writeAndSend writes m and sends it, in one visit to the descriptor: with
// SENDMSG, which writes the id into the message, or with write() and SEND.
// The caller holds k.send.
func (k *Ksock) writeAndSend(m *Message) (MessageID, error) {
	var id MessageID
	b := m.Bytes()
	oneCall := k.oneCall.Load()
	err := k.control("send "+m.Name, func(fd uintptr) error {
		if oneCall {
			_, err := raw.Call(fd, raw.NrSendMsg, unsafe.Pointer(&b[0]))
			if err == nil || err == unix.EAGAIN {
				id = MessageID{raw.Order.Uint32(b[4:]), raw.Order.Uint32(b[8:])}
			}
			return err
		}
		if _, err := writeAll(fd, b); err != nil {
			return err
		}
		_, err := raw.Call(fd, raw.NrSend, unsafe.Pointer(&id))
		return err
	})
	return id, err
}

// Send sends a message and returns its id. An ALL_OR_WAIT message that
// some recipient has no room for fails with ErrWouldBlock and still
// returns the id: the send is pending until WaitWritable sees it done (or
// Discard drops it). SendWait does both.
func (k *Ksock) Send(m *Message) (MessageID, error) {
	if err := k.lock(context.Background(), "send "+m.Name, k.send); err != nil {
		return MessageID{}, err
	}
	defer unlock(k.send)
	return k.writeAndSend(m)
}

// SendWait sends a message, and when KBUS cannot deliver it yet (an
// ALL_OR_WAIT message, a recipient's queue full) waits until it has. If
// ctx ends first, the pending send is discarded and ctx's error returned.
func (k *Ksock) SendWait(ctx context.Context, m *Message) (MessageID, error) {
	if err := k.lock(ctx, "send "+m.Name, k.send); err != nil {
		return MessageID{}, err
	}
	defer unlock(k.send)
	id, err := k.writeAndSend(m)
	if errors.Is(err, ErrWouldBlock) {
		if err = k.waitWritable(ctx); err != nil && ctx.Err() != nil {
			k.Discard()
		}
	}
	return id, err
}

// WaitWritable waits until the Ksock can write: for a pending ALL_OR_WAIT
// send, until KBUS has delivered it (or given up and sent a status).
func (k *Ksock) WaitWritable(ctx context.Context) error {
	if err := k.lock(ctx, "wait writable", k.send); err != nil {
		return err
	}
	defer unlock(k.send)
	return k.waitWritable(ctx)
}

func (k *Ksock) waitWritable(ctx context.Context) error {
	return k.wait(ctx, "wait writable", true, func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			return false
		}
		return err != nil || n > 0
	})
}

// Reply sends data as the reply to req, which was delivered to this Ksock
// as its replier (req.WantsUsToReply()), and returns the reply's id.
func (k *Ksock) Reply(req *Message, data []byte) (MessageID, error) {
	rep, err := ReplyTo(req, data)
	if err != nil {
		return MessageID{}, err
	}
	return k.Send(rep)
}

// Request sends req as a request (it need not have FlagWantAReply set:
// a copy with it is sent) and waits for its reply, which it returns.
//
// When KBUS answers with a status message instead (the replier went away,
// ignored or unbound the request, docs/kbus.md §10), Request returns an
// error that is a *StatusError, matching ErrGoneAway, ErrIgnored,
// ErrUnbound, ErrDisappeared or ErrNotDelivered with errors.Is. Every
// other message that arrives meanwhile is kept, in order, for the next
// Receive. If ctx ends first Request returns ctx's error; the reply, when
// it comes, is then received like any other message.
func (k *Ksock) Request(ctx context.Context, req *Message) (*Message, error) {
	if !req.IsRequest() {
		c := *req
		c.Flags |= FlagWantAReply
		req = &c
	}
	id, err := k.SendWait(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := k.lock(ctx, "request "+req.Name, k.recv); err != nil {
		return nil, err
	}
	defer unlock(k.recv)
	if m := k.kept.popReply(id); m != nil {
		return replyOrErr(id, m)
	}
	for {
		m, err := k.receive(ctx, "request "+req.Name)
		if err != nil {
			return nil, err
		}
		if m.InReplyTo == id {
			return replyOrErr(id, m)
		}
		k.kept.push(m)
	}
}

func replyOrErr(id MessageID, m *Message) (*Message, error) {
	if err := m.Err(); err != nil {
		return nil, err
	}
	return m, nil
}
