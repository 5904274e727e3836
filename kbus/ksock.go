// Package kbus is the Go API of KBUS, the kernel-mediated message bus:
// open a Ksock on /dev/kbusN, bind to names, send announcements and
// requests, read messages and reply. It is pure Go on golang.org/x/sys.
//
//	ks, err := kbus.Open(0, kbus.ReadWrite)
//	defer ks.Close()
//	ks.Bind("$.Sensors.*", false)
//	msg, err := ks.Wait(ctx)
package kbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// Mode is how a Ksock is opened.
type Mode int

// Modes.
const (
	ReadOnly  Mode = iota // bind, receive and use every ioctl, but not write messages
	ReadWrite             // also write and send messages
)

func (m Mode) String() string {
	if m == ReadOnly {
		return "read"
	}
	return "read/write"
}

// Ksock is one open file on a KBUS device, with its own id, queue and
// bindings. Its methods are safe for concurrent use, but KBUS's read and
// write state is per Ksock: two goroutines that both write or both read a
// message on one Ksock interleave; use a Ksock each.
//
// Close may be called while other goroutines use the Ksock, also while
// they wait in Wait or WaitWritable: they return an error wrapping
// ErrClosed, as does every method called after Close.
type Ksock struct {
	device int
	mode   Mode
	path   string

	// use is held for reading by every call that uses the descriptors,
	// and for writing by Close while it closes them, so that no
	// descriptor is closed (and its number reused) under a call.
	use    sync.RWMutex
	closed atomic.Bool // set first by Close: calls that begin later fail
	fd     int
	wakeR  int // a pipe that wakes a waiting call: its context ended, or Close
	wakeW  int
}

// ErrClosed is wrapped by the errors of calls on a closed Ksock, and of
// waits that Close ended. errors.Is(err, fs.ErrClosed) holds too.
var ErrClosed = fmt.Errorf("use of closed Ksock: %w", fs.ErrClosed)

// acquire marks a call as using the descriptors until release; it fails
// with ErrClosed once Close has begun. Calls do not nest acquire: a
// pending Close would block the inner one.
func (k *Ksock) acquire(op string) error {
	k.use.RLock()
	if k.closed.Load() {
		k.use.RUnlock()
		return &OpError{Op: op, Device: k.device, Err: ErrClosed}
	}
	return nil
}

func (k *Ksock) release() { k.use.RUnlock() }

// wake makes a call waiting in poll look again.
func (k *Ksock) wake() { unix.Write(k.wakeW, []byte{0}) }

// DevicePath returns the path of KBUS device n.
func DevicePath(n int) string { return fmt.Sprintf("/dev/kbus%d", n) }

// Open opens a Ksock on device n.
func Open(n int, mode Mode) (*Ksock, error) {
	ks, err := OpenPath(DevicePath(n), mode)
	if err != nil {
		return nil, err
	}
	ks.device = n
	return ks, nil
}

// OpenPath opens a Ksock on the KBUS device at path.
func OpenPath(path string, mode Mode) (*Ksock, error) {
	flags := unix.O_RDONLY
	if mode == ReadWrite {
		flags = unix.O_RDWR
	}
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wrap("open "+path, -1, err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, wrap("pipe", -1, err)
	}
	return &Ksock{device: -1, mode: mode, path: path, fd: fd, wakeR: p[0], wakeW: p[1]}, nil
}

// Close closes the Ksock. KBUS then answers, for it, every request it
// still owed a reply (GoneAway, Ignored) and drops its bindings. Calls
// waiting on the Ksock return ErrClosed; Close returns once no call uses
// it any more. Closing a closed Ksock does nothing.
func (k *Ksock) Close() error {
	if k.closed.Swap(true) {
		return nil
	}
	k.wake()
	k.use.Lock()
	defer k.use.Unlock()
	unix.Close(k.wakeR)
	unix.Close(k.wakeW)
	return wrap("close", k.device, unix.Close(k.fd))
}

// Fd returns the file descriptor, for poll/select. It is the caller's to
// use only while the Ksock is open.
func (k *Ksock) Fd() int { return k.fd }

// Device returns the device number (-1 if opened by path).
func (k *Ksock) Device() int { return k.device }

// String is e.g. "Ksock device 0, id 5, mode read/write".
func (k *Ksock) String() string {
	if k.closed.Load() {
		return fmt.Sprintf("Ksock device %d (closed)", k.device)
	}
	id, _ := k.ID()
	return fmt.Sprintf("Ksock device %d, id %d, mode %s", k.device, id, k.mode)
}

func (k *Ksock) ioctl(op string, nr int, arg unsafe.Pointer) (int, error) {
	return k.rawIoctl(op, raw.Native.Ioctl(nr), arg)
}

// Ioctl issues a raw KBUS ioctl with a pointer argument, for tests of the
// ABI; it returns the ioctl's return value.
func (k *Ksock) Ioctl(cmd uint32, arg unsafe.Pointer) (int, error) {
	return k.rawIoctl(fmt.Sprintf("ioctl %#x", cmd), cmd, arg)
}

func (k *Ksock) rawIoctl(op string, cmd uint32, arg unsafe.Pointer) (int, error) {
	if err := k.acquire(op); err != nil {
		return 0, err
	}
	defer k.release()
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(k.fd), uintptr(cmd), uintptr(arg))
	if e != 0 {
		return int(r), wrap(op, k.device, e)
	}
	return int(r), nil
}

func (k *Ksock) ioctlU32(op string, nr int, in uint32) (uint32, int, error) {
	v := in
	r, err := k.ioctl(op, nr, unsafe.Pointer(&v))
	return v, r, err
}

// ID returns the Ksock's id on its device (never 0).
func (k *Ksock) ID() (uint32, error) {
	v, _, err := k.ioctlU32("ksock id", raw.NrKsockID, 0)
	return v, err
}

// bindRequest mirrors struct kbus_bind_request and kbus_bind_query: Go
// lays it out exactly as C does on both 32- and 64-bit targets.
type bindRequest struct {
	first   uint32 // is_replier or return_id
	nameLen uint32
	name    *byte
}

func (k *Ksock) bindOp(op string, nr int, name string, first uint32) (bindRequest, int, error) {
	b := append([]byte(name), 0)
	req := bindRequest{first: first, nameLen: uint32(len(name)), name: &b[0]}
	r, err := k.ioctl(op+" "+name, nr, unsafe.Pointer(&req))
	runtime.KeepAlive(b)
	return req, r, err
}

func boolU32(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// Bind binds the Ksock to a name or wildcard ("$.a.*", "$.a.%"), as a
// listener or as the replier.
func (k *Ksock) Bind(name string, replier bool) error {
	_, _, err := k.bindOp("bind", raw.NrBind, name, boolU32(replier))
	return err
}

// Unbind removes the most recent identical binding.
func (k *Ksock) Unbind(name string, replier bool) error {
	_, _, err := k.bindOp("unbind", raw.NrUnbind, name, boolU32(replier))
	return err
}

// FindReplier returns the id of the Ksock bound as replier to exactly this
// name (wildcards are not resolved), and whether there is one.
func (k *Ksock) FindReplier(name string) (uint32, bool, error) {
	q, r, err := k.bindOp("find replier", raw.NrReplier, name, 0)
	return q.first, r == 1, err
}

// Write writes the message's entire form; Send then sends it.
func (k *Ksock) Write(m *Message) error {
	_, err := k.WriteBytes(m.Bytes())
	return err
}

// WriteBytes writes raw bytes of a message in progress, in any number of
// pieces.
func (k *Ksock) WriteBytes(b []byte) (int, error) {
	if err := k.acquire("write"); err != nil {
		return 0, err
	}
	defer k.release()
	n, err := unix.Write(k.fd, b)
	// KBUS answers a write interrupted while it waited for the device
	// lock with EAGAIN, having written nothing (a signal, such as the Go
	// runtime's preemption): write again.
	for err == unix.EAGAIN {
		n, err = unix.Write(k.fd, b)
	}
	if err != nil {
		return n, wrap("write", k.device, err)
	}
	return n, nil
}

// Send sends the message written so far and returns its id. With
// ALL_OR_WAIT it may fail with ErrWouldBlock and still return the id: the
// send is pending; WaitWritable completes it.
func (k *Ksock) Send() (MessageID, error) {
	var id MessageID
	_, err := k.ioctl("send", raw.NrSend, unsafe.Pointer(&id))
	return id, err
}

// SendMsg writes and sends a message.
func (k *Ksock) SendMsg(m *Message) (MessageID, error) {
	if err := k.Write(m); err != nil {
		return MessageID{}, err
	}
	return k.Send()
}

// SendWait is Send that waits when KBUS cannot deliver yet: after EAGAIN
// (an ALL_OR_WAIT message some recipient has no room for; the send is
// pending) it waits in poll until KBUS has delivered it or ctx ends.
func (k *Ksock) SendWait(ctx context.Context) (MessageID, error) {
	id, err := k.Send()
	if errors.Is(err, ErrWouldBlock) {
		err = k.WaitWritable(ctx)
	}
	return id, err
}

// SendMsgWait writes and sends a message, waiting as SendWait does.
func (k *Ksock) SendMsgWait(ctx context.Context, m *Message) (MessageID, error) {
	if err := k.Write(m); err != nil {
		return MessageID{}, err
	}
	return k.SendWait(ctx)
}

// Discard drops the message being written, and a pending send.
func (k *Ksock) Discard() error {
	_, err := k.ioctl("discard", raw.NrDiscard, nil)
	return err
}

// Reset does nothing; it exists for completeness of the ABI.
func (k *Ksock) Reset() error {
	_, err := k.ioctl("reset", raw.NrReset, nil)
	return err
}

// LastSent returns the id of the last message this Ksock sent.
func (k *Ksock) LastSent() (MessageID, error) {
	var id MessageID
	_, err := k.ioctl("last sent", raw.NrLastSent, unsafe.Pointer(&id))
	return id, err
}

// NextMsg makes the next queued message the one being read and returns its
// length in entire form, 0 if the queue is empty.
func (k *Ksock) NextMsg() (uint32, error) {
	v, _, err := k.ioctlU32("next message", raw.NrNextMsg, 0)
	return v, err
}

// LenLeft returns how many bytes of the current message are still unread.
func (k *Ksock) LenLeft() (uint32, error) {
	v, _, err := k.ioctlU32("length left", raw.NrLenLeft, 0)
	return v, err
}

// Read reads bytes of the current message; io.EOF after its last byte.
func (k *Ksock) Read(p []byte) (int, error) {
	if err := k.acquire("read"); err != nil {
		return 0, err
	}
	defer k.release()
	n, err := unix.Read(k.fd, p)
	for err == unix.EAGAIN { // interrupted waiting for the device lock, as for write
		n, err = unix.Read(k.fd, p)
	}
	if err != nil {
		return 0, wrap("read", k.device, err)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// ReadMsg reads the current message, of the length NextMsg returned.
func (k *Ksock) ReadMsg(length uint32) (*Message, error) {
	b := make([]byte, length)
	if _, err := io.ReadFull(k, b); err != nil {
		return nil, fmt.Errorf("kbus%d: reading a %d-byte message: %w", k.device, length, err)
	}
	return FromBytes(b)
}

// ReadNext reads the next message, or returns nil if the queue is empty.
func (k *Ksock) ReadNext() (*Message, error) {
	n, err := k.NextMsg()
	if err != nil || n == 0 {
		return nil, err
	}
	return k.ReadMsg(n)
}

// Wait waits until a message arrives or ctx ends, then reads it.
func (k *Ksock) Wait(ctx context.Context) (*Message, error) {
	for {
		if err := k.poll(ctx, unix.POLLIN); err != nil {
			return nil, err
		}
		m, err := k.ReadNext()
		if err != nil || m != nil {
			return m, err
		}
	}
}

// WaitWritable waits until the Ksock can write: for a pending ALL_OR_WAIT
// send, until KBUS has delivered it (or given up and sent a status).
func (k *Ksock) WaitWritable(ctx context.Context) error {
	return k.poll(ctx, unix.POLLOUT)
}

// Readable reports, without waiting, whether a message is queued.
func (k *Ksock) Readable() (bool, error) {
	if err := k.acquire("poll"); err != nil {
		return false, err
	}
	defer k.release()
	fds := []unix.PollFd{{Fd: int32(k.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	// Even a poll that does not wait fails with EINTR when a signal (the
	// Go runtime's preemption, say) arrives during it: ask again.
	for err == unix.EINTR {
		n, err = unix.Poll(fds, 0)
	}
	if err != nil {
		return false, wrap("poll", k.device, err)
	}
	return n > 0 && fds[0].Revents&unix.POLLIN != 0, nil
}

// poll waits until the Ksock has one of events, ctx ends, or Close.
func (k *Ksock) poll(ctx context.Context, events int16) error {
	if err := k.acquire("poll"); err != nil {
		return err
	}
	defer k.release()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			if k.acquire("wake") == nil {
				k.wake()
				k.release()
			}
		})
		defer stop()
	}
	fds := []unix.PollFd{{Fd: int32(k.fd), Events: events}, {Fd: int32(k.wakeR), Events: unix.POLLIN}}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if k.closed.Load() {
			return &OpError{Op: "poll", Device: k.device, Err: ErrClosed}
		}
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return wrap("poll", k.device, err)
		}
		if fds[1].Revents != 0 {
			var buf [16]byte
			unix.Read(k.wakeR, buf[:])
			// Close's wake may have been among what was read: leave it
			// for the other waiters, who must see it too.
			if k.closed.Load() {
				k.wake()
				return &OpError{Op: "poll", Device: k.device, Err: ErrClosed}
			}
		}
		if fds[0].Revents&events != 0 {
			return nil
		}
	}
}

// MaxMessages returns the queue's capacity.
func (k *Ksock) MaxMessages() (uint32, error) {
	v, _, err := k.ioctlU32("max messages", raw.NrMaxMsgs, 0)
	return v, err
}

// SetMaxMessages sets the queue's capacity (n > 0) and returns it.
func (k *Ksock) SetMaxMessages(n uint32) (uint32, error) {
	v, _, err := k.ioctlU32("set max messages", raw.NrMaxMsgs, n)
	return v, err
}

// NumMessages returns how many messages are queued (with set-aside events).
func (k *Ksock) NumMessages() (uint32, error) {
	v, _, err := k.ioctlU32("number of messages", raw.NrNumMsgs, 0)
	return v, err
}

// NumUnrepliedTo returns how many requests this Ksock read and still owes.
func (k *Ksock) NumUnrepliedTo() (uint32, error) {
	v, _, err := k.ioctlU32("unreplied to", raw.NrUnrepliedTo, 0)
	return v, err
}

func (k *Ksock) onOff(op string, nr int, in uint32) (bool, error) {
	v, _, err := k.ioctlU32(op, nr, in)
	return v != 0, err
}

// SetOnlyOnce sets MSGONLYONCE (one copy of a message however many
// bindings match) and returns the previous value.
func (k *Ksock) SetOnlyOnce(on bool) (bool, error) {
	return k.onOff("only once", raw.NrMsgOnlyOnce, boolU32(on))
}

// OnlyOnce returns the MSGONLYONCE setting.
func (k *Ksock) OnlyOnce() (bool, error) { return k.onOff("only once", raw.NrMsgOnlyOnce, raw.Query) }

// SetVerbose sets the device's kernel log verbosity; returns the previous.
func (k *Ksock) SetVerbose(on bool) (bool, error) {
	return k.onOff("verbose", raw.NrVerbose, boolU32(on))
}

// Verbose returns the device's verbosity.
func (k *Ksock) Verbose() (bool, error) { return k.onOff("verbose", raw.NrVerbose, raw.Query) }

// SetReportReplierBinds turns replier bind events on or off for the whole
// device and returns the previous value. Turning them on also queues, on
// this Ksock, a bind event for every existing replier binding.
func (k *Ksock) SetReportReplierBinds(on bool) (bool, error) {
	return k.onOff("report replier binds", raw.NrReportReplierBinds, boolU32(on))
}

// ReportReplierBinds returns whether replier bind events are on.
func (k *Ksock) ReportReplierBinds() (bool, error) {
	return k.onOff("report replier binds", raw.NrReportReplierBinds, raw.Query)
}

// MaxMessageSize returns the device's largest message (entire form).
func (k *Ksock) MaxMessageSize() (uint32, error) {
	v, _, err := k.ioctlU32("max message size", raw.NrMaxMsgSize, 0)
	return v, err
}

// AbsMaxMessageSize returns the ceiling SetMaxMessageSize accepts.
func (k *Ksock) AbsMaxMessageSize() (uint32, error) {
	v, _, err := k.ioctlU32("max message size", raw.NrMaxMsgSize, 1)
	return v, err
}

// SetMaxMessageSize sets the device's largest message (100 up to the
// ceiling) and returns it.
func (k *Ksock) SetMaxMessageSize(n uint32) (uint32, error) {
	v, _, err := k.ioctlU32("set max message size", raw.NrMaxMsgSize, n)
	return v, err
}

// NewDevice asks KBUS for a new device and returns its number; its node
// appears asynchronously.
func (k *Ksock) NewDevice() (uint32, error) {
	v, _, err := k.ioctlU32("new device", raw.NrNewDevice, 0)
	return v, err
}

var _ io.Reader = (*Ksock)(nil)
