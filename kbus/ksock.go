// Package kbus is the Go API of KBUS, the kernel-mediated message bus
// (docs/kbus.md): open a Ksock on /dev/kbusN, bind to names, send
// announcements and requests, receive messages and reply.
//
//	ks, err := kbus.Open(0, kbus.ReadWrite)
//	defer ks.Close()
//	ks.BindListener("$.Sensors.*")
//	for m, err := range ks.Messages(ctx) { ... }
//
// # What Receive delivers
//
// Everything KBUS queues for the Ksock, in KBUS's order (docs/kbus.md §9.2):
// announcements and requests matching its bindings (a request once as its
// replier, with WantsUsToReply, and once more per matching listener
// binding), replies to its requests, the status messages KBUS sends
// instead of a reply that cannot come (Kind() == KindStatus, see
// StatusError), and replier bind events if it listens to
// $.KBUS.ReplierBindEvent. Request keeps every message that is not its
// reply for the next Receive, so nothing is lost.
//
// # Buffers
//
// Send copies the message's name and data into the kernel before it
// returns: the caller may reuse them at once. A received Message owns its
// Data; nothing this package holds aliases it.
//
// # 32-bit programs
//
// A 32-bit (ILP32) program works on a 64-bit kernel: it uses its own
// header layout and the module translates (docs/kbus.md §4.7).
//
// # Examples
//
// Example is the classic session (listener, announcement, replier,
// request, stateful request); ExampleKsock_Request shows a status as an
// error, ExampleKsock_Serve a replier, ExampleKsock_Messages a receive
// loop. They need a device: go test runs them where /dev/kbus0 exists, and
// the rig runs them in every guest (specs/api).
//
// # Waiting and closing
//
// Every call that waits takes a context and uses the Go runtime's poller
// (no OS thread per waiter). Close ends every wait at once with an error
// wrapping ErrClosed, and no descriptor is closed while a call uses it.
package kbus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// Mode is how a Ksock is opened.
type Mode int

// Modes.
const (
	ReadOnly  Mode = iota // bind, receive and use every ioctl, but not send messages
	ReadWrite             // also send messages
)

// String is "read" or "read/write".
func (m Mode) String() string {
	if m == ReadOnly {
		return "read"
	}
	return "read/write"
}

// Ksock is one open file on a KBUS device, with its own id, queue and
// bindings. Its methods are safe for concurrent use: sends are made one at
// a time, and so are receives (Receive, Request, Messages, Serve take
// turns on one Ksock; give goroutines a Ksock each to receive in parallel).
//
// Close may be called while other goroutines use the Ksock, also while
// they wait: they return an error wrapping ErrClosed, as does every method
// called after Close.
type Ksock struct {
	device int
	mode   Mode
	path   string
	fd     int // the descriptor's number, for Fd; file owns it

	file   *os.File        // in the runtime's poller
	conn   syscall.RawConn // file's
	closed atomic.Bool     // set first by Close
	done   chan struct{}   // closed by Close: ends waits for recv and send

	// recv is held by whoever reads messages (a one-slot semaphore, so
	// that waiting for it can end with a context).
	recv chan struct{}
	kept keptQueue // taken from KBUS, not handed on yet
	// send is held while a message is written and sent.
	send chan struct{}

	// oneCall says whether to send with SENDMSG and receive with RECVMSG
	// (docs/kbus.md §7.1); hasOneCall whether the module has them.
	oneCall    atomic.Bool
	hasOneCall bool
	// hasMany says whether the module has RECVMANY, which Messages and
	// Serve use to take several messages in one call.
	hasMany bool
	scratch []byte // RECVMSG's and RECVMANY's buffer; held with recv

	// nextMsg is the NEXTMSG ioctl; tests replace it to stand a FIFO in
	// for a device.
	nextMsg func(fd uintptr) (uint32, error)
}

// DevicePath returns the path of KBUS device n.
func DevicePath(n int) string { return fmt.Sprintf("/dev/kbus%d", n) }

// DeviceEnv names the environment variable that tells a program which
// device to open when its command line does not (docs/kbus.md §14.5).
const DeviceEnv = "KBUS_DEVICE"

// DefaultDevice returns the device number in $KBUS_DEVICE, or 0 when it
// is unset or empty; a value that is not a device number is an error
// wrapping ErrInvalid.
func DefaultDevice() (int, error) {
	v := os.Getenv(DeviceEnv)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q is not a device number: %w", DeviceEnv, v, ErrInvalid)
	}
	return n, nil
}

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
	// Non-blocking, so that os.NewFile puts it in the runtime's poller
	// (KBUS's read, write and ioctls never block on it).
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, wrap("open "+path, -1, err)
	}
	f := os.NewFile(uintptr(fd), path)
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, wrap("open "+path, -1, err)
	}
	k := &Ksock{
		device: -1, mode: mode, path: path, fd: fd, file: f, conn: conn,
		done: make(chan struct{}), recv: make(chan struct{}, 1), send: make(chan struct{}, 1),
	}
	k.nextMsg = func(fd uintptr) (uint32, error) {
		var n uint32
		_, err := raw.Call(fd, raw.NrNextMsg, unsafe.Pointer(&n))
		return n, err
	}
	// Ask once what the module has: RECVMANY, and with it RECVMSG and
	// SENDMSG, which came first (docs/kbus.md §7.1); else RECVMSG alone.
	// With an empty buffer each says EAGAIN (nothing queued) or EMSGSIZE;
	// the original, or any other file, says ENOTTY.
	has := func(nr int, arg unsafe.Pointer) bool {
		_, err := raw.Call(uintptr(fd), nr, arg)
		return err == unix.EAGAIN || err == unix.EMSGSIZE
	}
	var many raw.ReceiveMany
	k.hasMany = has(raw.NrRecvMany, unsafe.Pointer(&many))
	k.hasOneCall = k.hasMany
	if !k.hasMany {
		var probe raw.Receive
		k.hasOneCall = has(raw.NrRecvMsg, unsafe.Pointer(&probe))
	}
	k.oneCall.Store(k.hasOneCall)
	return k, nil
}

// Close closes the Ksock. KBUS then answers, for it, every request it
// still owed a reply (docs/kbus.md §9.9) and drops its bindings. Calls
// waiting on the Ksock return ErrClosed; Close returns once no call uses
// the descriptor any more. Closing a closed Ksock does nothing.
func (k *Ksock) Close() error {
	if k.closed.Swap(true) {
		return nil
	}
	close(k.done)
	return wrap("close", k.device, k.file.Close())
}

// Fd returns the descriptor's number, for callers who poll it themselves.
// It is valid only while the Ksock is open.
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

// opErr is the error of op, with ErrClosed for any sign that the Ksock
// was closed under it.
func (k *Ksock) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if k.closed.Load() || errors.Is(err, os.ErrClosed) {
		return &OpError{Op: op, Device: k.device, Err: ErrClosed}
	}
	return wrap(op, k.device, err)
}

// control runs f on the descriptor, which stays open until f returns.
func (k *Ksock) control(op string, f func(fd uintptr) error) error {
	if k.closed.Load() {
		return &OpError{Op: op, Device: k.device, Err: ErrClosed}
	}
	var ferr error
	if err := k.conn.Control(func(fd uintptr) { ferr = f(fd) }); err != nil {
		return k.opErr(op, err)
	}
	if ferr != nil {
		return wrap(op, k.device, ferr)
	}
	return nil
}

func (k *Ksock) ioctlCmd(op string, cmd uint32, arg unsafe.Pointer) (int, error) {
	var r int
	err := k.control(op, func(fd uintptr) (err error) {
		r, err = raw.CallCmd(fd, cmd, arg)
		return err
	})
	return r, err
}

func (k *Ksock) ioctl(op string, nr int, arg unsafe.Pointer) (int, error) {
	return k.ioctlCmd(op, raw.Native.Ioctl(nr), arg)
}

func (k *Ksock) ioctlU32(op string, nr int, in uint32) (uint32, int, error) {
	v := in
	r, err := k.ioctl(op, nr, unsafe.Pointer(&v))
	return v, r, err
}

// lock takes a one-slot semaphore, unless ctx ends or the Ksock closes.
func (k *Ksock) lock(ctx context.Context, op string, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return &OpError{Op: op, Device: k.device, Err: ctx.Err()}
	case <-k.done:
		return &OpError{Op: op, Device: k.device, Err: ErrClosed}
	}
	if k.closed.Load() {
		<-sem
		return &OpError{Op: op, Device: k.device, Err: ErrClosed}
	}
	return nil
}

func unlock(sem chan struct{}) { <-sem }

// aLongTimeAgo is a deadline in the past: setting it ends a wait at once.
var aLongTimeAgo = time.Unix(1, 0)

// wait runs f in the runtime's poller until it reports done: f returns
// false when the Ksock is not ready yet (in the direction of read or
// write: the RawConn's Read or Write), and the poller calls it again once
// KBUS says it may be. ctx ending ends the wait, with ctx's error; so does
// Close, with ErrClosed. The caller holds the semaphore of that direction,
// so that no other wait uses the file's deadline meanwhile.
func (k *Ksock) wait(ctx context.Context, op string, write bool, f func(fd uintptr) bool) error {
	if err := ctx.Err(); err != nil {
		return &OpError{Op: op, Device: k.device, Err: err}
	}
	run, setDeadline := k.conn.Read, k.file.SetReadDeadline
	if write {
		run, setDeadline = k.conn.Write, k.file.SetWriteDeadline
	}
	var (
		mu           sync.Mutex
		over, fired  bool
		stopDeadline = func() bool { return true }
	)
	if ctx.Done() != nil {
		stopDeadline = context.AfterFunc(ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if !over {
				fired = true
				setDeadline(aLongTimeAgo)
			}
		})
	}
	err := run(f)
	stopDeadline()
	mu.Lock()
	over = true
	if fired {
		setDeadline(time.Time{})
	}
	mu.Unlock()
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return &OpError{Op: op, Device: k.device, Err: ctx.Err()}
	}
	return k.opErr(op, err)
}

// ID returns the Ksock's id on its device (never 0).
func (k *Ksock) ID() (uint32, error) {
	v, _, err := k.ioctlU32("ksock id", raw.NrKsockID, 0)
	return v, err
}

func (k *Ksock) bindOp(op string, nr int, name string, first uint32) (raw.BindRequest, int, error) {
	b := append([]byte(name), 0)
	req := raw.BindRequest{First: first, NameLen: uint32(len(name)), Name: &b[0]}
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

// BindListener makes the Ksock receive a copy of every message (each
// announcement and request) whose name matches name, which may be a
// wildcard ("$.a.*", "$.a.%"; docs/kbus.md §2.2). Binding twice receives
// two copies, unless OnlyOnce is set.
func (k *Ksock) BindListener(name string) error {
	_, _, err := k.bindOp("bind listener", raw.NrBind, name, 0)
	return err
}

// BindReplier makes the Ksock the replier of the requests whose name
// matches name (a wildcard too): there is at most one replier per name,
// else ErrReplierExists.
func (k *Ksock) BindReplier(name string) error {
	_, _, err := k.bindOp("bind replier", raw.NrBind, name, 1)
	return err
}

// UnbindListener removes the most recent listener binding to name
// (ErrInvalid if there is none).
func (k *Ksock) UnbindListener(name string) error {
	_, _, err := k.bindOp("unbind listener", raw.NrUnbind, name, 0)
	return err
}

// UnbindReplier removes the replier binding to name. Requests already
// queued for it are answered with $.KBUS.Replier.Unbound.
func (k *Ksock) UnbindReplier(name string) error {
	_, _, err := k.bindOp("unbind replier", raw.NrUnbind, name, 1)
	return err
}

// FindReplier returns the id of the Ksock bound as replier to exactly this
// name (wildcards are not resolved), and whether there is one.
func (k *Ksock) FindReplier(name string) (uint32, bool, error) {
	q, r, err := k.bindOp("find replier", raw.NrReplier, name, 0)
	return q.First, r == 1, err
}

// Discard drops the message being written, and a pending ALL_OR_WAIT send.
func (k *Ksock) Discard() error {
	_, err := k.ioctl("discard", raw.NrDiscard, nil)
	return err
}

// Readable reports, without waiting, whether a message is queued (or kept
// by Request for the next Receive).
func (k *Ksock) Readable() (bool, error) {
	if k.kept.any() {
		return true, nil
	}
	var ready bool
	err := k.control("poll", func(fd uintptr) error {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		// Even a poll that does not wait fails with EINTR when a
		// signal (the Go runtime's preemption) arrives during it.
		for err == unix.EINTR {
			n, err = unix.Poll(fds, 0)
		}
		ready = n > 0 && fds[0].Revents&unix.POLLIN != 0
		return err
	})
	return ready, err
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

// NumMessages returns how many messages KBUS has queued (with set-aside
// events); messages Request kept are not counted.
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
