package kbus

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// Errno is a KBUS error number: a Linux errno, with what KBUS means by it
// (docs/kbus.md §9). The sentinels below are constants, so nothing can
// change them; errors returned by this package wrap one, so that both
// errors.Is(err, kbus.ErrNoReplier) and errors.Is(err,
// syscall.EADDRNOTAVAIL) hold.
type Errno syscall.Errno

// The errors KBUS returns, by what they mean.
const (
	ErrReplierExists  = Errno(unix.EADDRINUSE)
	ErrNoReplier      = Errno(unix.EADDRNOTAVAIL)
	ErrWouldBlock     = Errno(unix.EAGAIN)
	ErrSendPending    = Errno(unix.EALREADY)
	ErrBadName        = Errno(unix.EBADMSG)
	ErrQueueFull      = Errno(unix.EBUSY)
	ErrNotExpected    = Errno(unix.ECONNREFUSED)
	ErrFault          = Errno(unix.EFAULT)
	ErrInvalid        = Errno(unix.EINVAL)
	ErrTooBig         = Errno(unix.EMSGSIZE)
	ErrNameTooLong    = Errno(unix.ENAMETOOLONG)
	ErrNoDevice       = Errno(unix.ENOENT)
	ErrNoRoomForReply = Errno(unix.ENOLCK)
	ErrNoMemory       = Errno(unix.ENOMEM)
	ErrNoMessage      = Errno(unix.ENOMSG)
	ErrNotKBUS        = Errno(unix.ENOTTY)
	ErrWrongReplier   = Errno(unix.EPIPE)
	ErrReadOnly       = Errno(unix.EBADF)
	ErrInterrupted    = Errno(unix.EINTR)
	ErrTimedOut       = Errno(unix.ETIMEDOUT)
	ErrNotPermitted   = Errno(unix.EPERM)
	ErrNoAccess       = Errno(unix.EACCES)
	// ErrTooManyBindings: the caller's user holds as many bindings on
	// the device as it may (docs/kbus.md §18.5).
	ErrTooManyBindings = Errno(unix.ENOSPC)
)

type errnoText struct{ name, meaning string }

// errnoTexts is the one table of what each errno means to KBUS; the
// situations that return it are in situations.go.
var errnoTexts = map[Errno]errnoText{
	ErrReplierExists: {"EADDRINUSE", "there is already a replier bound to that name"},
	ErrNoReplier: {"EADDRNOTAVAIL",
		"no replier is bound for the request, or the Ksock the reply is for has gone"},
	ErrWouldBlock: {"EAGAIN",
		"a recipient's queue is full: the ALL_OR_WAIT message waits, pending, until it fits (SendWait waits for that; " +
			"Discard gives it up), or a replier bind event cannot be delivered yet; try again"},
	ErrSendPending: {"EALREADY",
		"a send is still in progress on this Ksock (ALL_OR_WAIT): poll, SEND or DISCARD first; " +
			"or SENDMSG while a message is half written"},
	ErrBadName: {"EBADMSG",
		"the message name is not valid (or is a wildcard, which cannot be sent), or names the bind event as a replier"},
	ErrQueueFull: {"EBUSY",
		"the replier's or the reply target's queue is full, or a listener's queue is full with ALL_OR_FAIL"},
	ErrNotExpected: {"ECONNREFUSED",
		"the reply is not expected: wrong in_reply_to or to, or the request was already answered"},
	ErrFault: {"EFAULT", "a pointer given to KBUS was not valid"},
	ErrInvalid: {"EINVAL",
		"the message or argument is malformed: bad guard, inconsistent lengths or pointers, both send flags, " +
			"sending an incomplete message, unbinding something not bound, or a value out of range"},
	ErrTooBig: {"EMSGSIZE",
		"the message is larger than the device's maximum message size, or bytes were written after it was complete, " +
			"or RECVMSG's buffer is too small for the next message"},
	ErrNameTooLong: {"ENAMETOOLONG",
		"the name is longer than 1000 bytes (or empty, when asking for a replier)"},
	ErrNoDevice: {"ENOENT",
		"there is no such KBUS device: is the kbus module loaded (modprobe kbus), and does /dev/kbusN exist?"},
	ErrNoRoomForReply: {"ENOLCK", "the sender's own queue has no room left for the reply to this request"},
	ErrNoMemory:       {"ENOMEM", "the kernel ran out of memory"},
	ErrNoMessage: {"ENOMSG",
		"there is no message to send: it was never written, already sent or failed, or discarded"},
	ErrNotKBUS: {"ENOTTY", "not a KBUS request: unknown ioctl, or the file is not a KBUS device"},
	ErrWrongReplier: {"EPIPE",
		"the stateful request's replier is no longer the Ksock it was addressed to"},
	ErrReadOnly:    {"EBADF", "the Ksock was opened read-only, so it cannot write or send messages"},
	ErrInterrupted: {"EINTR", "interrupted while waiting for the device, or for a message (RECVMSG)"},
	ErrTimedOut:    {"ETIMEDOUT", "no message came within the time RECVMSG was given to wait"},
	ErrNotPermitted: {"EPERM",
		"changing the whole device (VERBOSE, REPORTREPLIERBINDS, MAXMSGSIZE, NEWDEVICE) needs the owner of the " +
			"device node or CAP_SYS_ADMIN; asking is anyone's"},
	ErrTooManyBindings: {"ENOSPC",
		"this user already holds as many bindings on the device as a user who neither owns the device node nor has " +
			"CAP_SYS_ADMIN may (max_user_bindings in /sys/class/kbus/kbusN); unbind some, or ask root to raise it"},
	ErrNoAccess: {"EACCES",
		"the device node's permissions do not let this user open it: by default only its owner and group " +
			"(the kbus group, with the kbus-dkms package) may"},
}

// Name is the errno's C name, e.g. "EADDRNOTAVAIL".
func (e Errno) Name() string {
	if t, ok := errnoTexts[e]; ok {
		return t.name
	}
	return fmt.Sprintf("errno %d", uintptr(e))
}

// Meaning is what KBUS means by the errno ("" for one KBUS does not use).
func (e Errno) Meaning() string { return errnoTexts[e].meaning }

// Error is the errno's name and what KBUS means by it.
func (e Errno) Error() string {
	if m := e.Meaning(); m != "" {
		return e.Name() + ": " + m
	}
	return syscall.Errno(e).Error()
}

// Unwrap returns the plain errno.
func (e Errno) Unwrap() error { return syscall.Errno(e) }

// Errnos returns every errno KBUS uses, in numeric order.
func Errnos() []Errno {
	return []Errno{
		ErrNotPermitted, ErrNoDevice, ErrInterrupted, ErrReadOnly, ErrWouldBlock, ErrNoMemory, ErrNoAccess,
		ErrFault, ErrQueueFull,
		ErrInvalid, ErrNotKBUS, ErrTooManyBindings, ErrWrongReplier, ErrNameTooLong, ErrNoRoomForReply, ErrNoMessage,
		ErrBadName, ErrTooBig, ErrReplierExists, ErrNoReplier, ErrTimedOut, ErrNotExpected, ErrSendPending,
	}
}

// ErrnoFor returns KBUS's meaning of a Linux errno, and whether KBUS uses it.
func ErrnoFor(n syscall.Errno) (Errno, bool) {
	_, ok := errnoTexts[Errno(n)]
	return Errno(n), ok
}

// sentinel is the type of this package's other error constants.
type sentinel string

func (s sentinel) Error() string { return string(s) }

// closedError is ErrClosed's type: it also matches fs.ErrClosed (and so
// net.ErrClosed's os counterpart, os.ErrClosed).
type closedError string

func (c closedError) Error() string { return string(c) }
func (closedError) Unwrap() error   { return fs.ErrClosed }

// ErrClosed is wrapped by the errors of calls on a closed Ksock, and of
// waits that Close ended. errors.Is(err, fs.ErrClosed) holds too.
const ErrClosed = closedError("use of closed Ksock")

// ErrReplyLater is what a Handler returns for a request it has answered, or
// will answer, itself (with Ksock.Reply): Serve then sends nothing.
const ErrReplyLater = sentinel("kbus: the handler replies itself")

// Names that said less than they meant, kept for one release.
const (
	// Deprecated: ErrReplyLater; the handler will reply, there is a reply.
	ErrNoReply = ErrReplyLater
	// Deprecated: ErrNoRoomForReply.
	ErrNoReplySlot = ErrNoRoomForReply
	// Deprecated: ErrSendPending; nothing failed while sending.
	ErrSending = ErrSendPending
	// Deprecated: ErrNotDelivered.
	ErrErrorSending = ErrNotDelivered
)

// OpError is a failed KBUS operation.
type OpError struct {
	Op     string // e.g. "bind", "send", "write"
	Device int    // -1 for a Ksock opened by path
	Err    error  // an Errno when KBUS answered with one
}

// Error names the device, the operation and what went wrong.
func (e *OpError) Error() string {
	if e.Device < 0 {
		return fmt.Sprintf("kbus: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("kbus%d: %s: %v", e.Device, e.Op, e.Err)
}

// Unwrap returns the error the operation failed with.
func (e *OpError) Unwrap() error { return e.Err }

// wrap turns a system call error into an *OpError carrying the sentinel.
func wrap(op string, device int, err error) error {
	if err == nil {
		return nil
	}
	var n syscall.Errno
	if errors.As(err, &n) {
		if n == 512 { // ERESTARTSYS, should not reach user space
			n = unix.EINTR
		}
		if e, ok := ErrnoFor(n); ok {
			return &OpError{Op: op, Device: device, Err: e}
		}
	}
	return &OpError{Op: op, Device: device, Err: err}
}
