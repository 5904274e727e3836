package kbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// Syscalls is a Ksock's system calls one by one (docs/kbus.md §7, §8):
// write a message in pieces, SEND it, NEXTMSG, read in pieces, any ioctl.
// Tests of the binary interface use it, and so may programs that need a
// step the Ksock's methods combine. It bypasses what Ksock adds: the turns
// sends and receives take, and the messages Request kept for Receive.
// (The binary layout itself is package kbus/raw.)
type Syscalls struct{ k *Ksock }

// Syscalls returns the Ksock's system calls one by one.
func (k *Ksock) Syscalls() Syscalls { return Syscalls{k} }

// ABI is the earlier name of Syscalls.
//
// Deprecated: use Syscalls; "ABI" is the binary layout of kbus/raw.
type ABI = Syscalls

// ABI is the earlier name of Syscalls.
//
// Deprecated: use Ksock.Syscalls.
func (k *Ksock) ABI() Syscalls { return k.Syscalls() }

// writeAll writes b to the descriptor. KBUS answers a write interrupted
// while it waited for the device lock with EAGAIN, having written
// nothing (a signal, such as the Go runtime's preemption): write again.
func writeAll(fd uintptr, b []byte) (int, error) {
	n, err := unix.Write(int(fd), b)
	for err == unix.EAGAIN {
		n, err = unix.Write(int(fd), b)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// readSome reads into p, retrying as writeAll does.
func readSome(fd uintptr, p []byte) (int, error) {
	n, err := unix.Read(int(fd), p)
	for err == unix.EAGAIN {
		n, err = unix.Read(int(fd), p)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Write writes bytes of a message in progress, in any number of pieces:
// its entire form, or the header of its pointy form.
func (a Syscalls) Write(b []byte) (int, error) {
	var n int
	err := a.k.control("write", func(fd uintptr) (err error) {
		n, err = writeAll(fd, b)
		return err
	})
	return n, err
}

// WriteMsg writes the message's entire form; Send then sends it.
func (a Syscalls) WriteMsg(m *Message) error {
	_, err := a.Write(m.Bytes())
	return err
}

// Send is the SEND ioctl: it sends the message written so far and returns
// its id. With ALL_OR_WAIT it may fail with ErrWouldBlock and still return
// the id: the send is pending, and SendWait completes it.
func (a Syscalls) Send() (MessageID, error) {
	var id MessageID
	_, err := a.k.ioctl("send", raw.NrSend, unsafe.Pointer(&id))
	return id, err
}

// SendWait is Send that, when KBUS cannot deliver yet (ErrWouldBlock: an
// ALL_OR_WAIT message some recipient has no room for), waits in the
// poller until KBUS has delivered it or ctx ends.
func (a Syscalls) SendWait(ctx context.Context) (MessageID, error) {
	id, err := a.Send()
	if errors.Is(err, ErrWouldBlock) {
		err = a.k.WaitWritable(ctx)
	}
	return id, err
}

// LastSent returns the id of the last message this Ksock sent.
func (a Syscalls) LastSent() (MessageID, error) {
	var id MessageID
	_, err := a.k.ioctl("last sent", raw.NrLastSent, unsafe.Pointer(&id))
	return id, err
}

// Reset is the RESET ioctl, which does nothing (docs/kbus.md §7).
func (a Syscalls) Reset() error {
	_, err := a.k.ioctl("reset", raw.NrReset, nil)
	return err
}

// NextMsg makes the next queued message the one being read and returns its
// length in entire form, 0 if the queue is empty.
func (a Syscalls) NextMsg() (uint32, error) {
	v, _, err := a.k.ioctlU32("next message", raw.NrNextMsg, 0)
	return v, err
}

// LenLeft returns how many bytes of the current message are still unread.
func (a Syscalls) LenLeft() (uint32, error) {
	v, _, err := a.k.ioctlU32("length left", raw.NrLenLeft, 0)
	return v, err
}

// Read reads bytes of the current message; io.EOF after its last byte.
func (a Syscalls) Read(p []byte) (int, error) {
	var n int
	err := a.k.control("read", func(fd uintptr) (err error) {
		n, err = readSome(fd, p)
		return err
	})
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// ReadMsg reads the current message, of the length NextMsg returned.
func (a Syscalls) ReadMsg(length uint32) (*Message, error) {
	b := make([]byte, length)
	if _, err := io.ReadFull(a, b); err != nil {
		return nil, fmt.Errorf("kbus%d: reading a %d-byte message: %w", a.k.device, length, err)
	}
	return FromBytes(b)
}

// Ioctl issues any ioctl with a pointer argument and returns its return
// value; cmd is a full ioctl number (raw.Native.Ioctl builds KBUS's).
func (a Syscalls) Ioctl(cmd uint32, arg unsafe.Pointer) (int, error) {
	return a.k.ioctlCmd(fmt.Sprintf("ioctl %#x", cmd), cmd, arg)
}

// OneCall reports whether the Ksock sends with SENDMSG and receives with
// RECVMSG (docs/kbus.md §7.1), which it does when the module has them.
func (a Syscalls) OneCall() bool { return a.k.oneCall.Load() }

// SetOneCall makes the Ksock's Send, Receive and the methods built on them
// use the one-call ioctls (on) or the original calls (off). Both give the
// same results; on fails with ErrNotKBUS when the module lacks them.
func (a Syscalls) SetOneCall(on bool) error {
	if on && !a.k.hasOneCall {
		return &OpError{Op: "one-call send and receive", Device: a.k.device, Err: ErrNotKBUS}
	}
	a.k.oneCall.Store(on)
	return nil
}

var (
	_ io.Reader = Syscalls{}
	_ io.Writer = Syscalls{}
)
