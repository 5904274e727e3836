package kbus

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Errno is a KBUS error number: the Linux errno and what KBUS means by it.
// Each sentinel below is an *Errno; errors returned by this package wrap
// one, so errors.Is(err, kbus.ErrNoReplier) and errors.Is(err,
// syscall.EADDRNOTAVAIL) both work.
type Errno struct {
	Errno   syscall.Errno
	Name    string // the C name, e.g. "EADDRNOTAVAIL"
	Meaning string // what KBUS means by it
}

func (e *Errno) Error() string { return e.Name + ": " + e.Meaning }

// Unwrap returns the plain errno.
func (e *Errno) Unwrap() error { return e.Errno }

// Is matches another *Errno with the same number.
func (e *Errno) Is(target error) bool {
	t, ok := target.(*Errno)
	return ok && t.Errno == e.Errno
}

// The errors KBUS returns (the reference's §13), by what they mean.
var (
	ErrReplierExists = &Errno{unix.EADDRINUSE, "EADDRINUSE",
		"there is already a replier bound to that name"}
	ErrNoReplier = &Errno{unix.EADDRNOTAVAIL, "EADDRNOTAVAIL",
		"no replier is bound for the request, or the Ksock the reply is for has gone"}
	ErrWouldBlock = &Errno{unix.EAGAIN, "EAGAIN",
		"a recipient's queue is full: an ALL_OR_WAIT send is pending (finish it with poll or SEND, or DISCARD it), " +
			"or a replier bind event cannot be delivered yet; try again"}
	ErrSending = &Errno{unix.EALREADY, "EALREADY",
		"a send is still in progress on this Ksock (ALL_OR_WAIT): poll, SEND or DISCARD first"}
	ErrBadName = &Errno{unix.EBADMSG, "EBADMSG",
		"the message name is not valid (or is a wildcard, which cannot be sent), or names the bind event as a replier"}
	ErrQueueFull = &Errno{unix.EBUSY, "EBUSY",
		"the replier's or the reply target's queue is full, or a listener's queue is full with ALL_OR_FAIL"}
	ErrNotExpected = &Errno{unix.ECONNREFUSED, "ECONNREFUSED",
		"the reply is not expected: wrong in_reply_to or to, or the request was already answered"}
	ErrFault = &Errno{unix.EFAULT, "EFAULT",
		"a pointer given to KBUS was not valid"}
	ErrInvalid = &Errno{unix.EINVAL, "EINVAL",
		"the message or argument is malformed: bad guard, inconsistent lengths or pointers, both send flags, " +
			"sending an incomplete message, unbinding something not bound, or a value out of range"}
	ErrTooBig = &Errno{unix.EMSGSIZE, "EMSGSIZE",
		"the message is larger than the device's maximum message size, or bytes were written after it was complete"}
	ErrNameTooLong = &Errno{unix.ENAMETOOLONG, "ENAMETOOLONG",
		"the name is longer than 1000 bytes (or empty, when asking for a replier)"}
	ErrNoDevice = &Errno{unix.ENOENT, "ENOENT",
		"there is no such KBUS device: is the kbus module loaded (modprobe kbus), and does /dev/kbusN exist?"}
	ErrNoReplySlot = &Errno{unix.ENOLCK, "ENOLCK",
		"the sender's own queue has no room left for the reply to this request"}
	ErrNoMemory = &Errno{unix.ENOMEM, "ENOMEM",
		"the kernel ran out of memory"}
	ErrNoMessage = &Errno{unix.ENOMSG, "ENOMSG",
		"there is no message to send: it was never written, already sent or failed, or discarded"}
	ErrNotKBUS = &Errno{unix.ENOTTY, "ENOTTY",
		"not a KBUS request: unknown ioctl, or the file is not a KBUS device"}
	ErrWrongReplier = &Errno{unix.EPIPE, "EPIPE",
		"the stateful request's replier is no longer the Ksock it was addressed to"}
	ErrReadOnly = &Errno{unix.EBADF, "EBADF",
		"the Ksock was opened read-only, so it cannot write messages"}
	ErrInterrupted = &Errno{unix.EINTR, "EINTR",
		"interrupted while waiting for the device"}
)

// Errnos lists every sentinel, in errno order.
var Errnos = []*Errno{
	ErrNoDevice, ErrInterrupted, ErrReadOnly, ErrWouldBlock, ErrNoMemory, ErrFault, ErrQueueFull,
	ErrInvalid, ErrNotKBUS, ErrWrongReplier, ErrNameTooLong, ErrNoReplySlot, ErrNoMessage,
	ErrBadName, ErrTooBig, ErrReplierExists, ErrNoReplier, ErrNotExpected, ErrSending,
}

// ErrnoFor returns the sentinel for a Linux errno, or nil.
func ErrnoFor(n syscall.Errno) *Errno {
	for _, e := range Errnos {
		if e.Errno == n {
			return e
		}
	}
	return nil
}

// OpError is a failed KBUS operation.
type OpError struct {
	Op     string // e.g. "bind", "send", "write"
	Device int
	Err    error // an *Errno when KBUS answered with one
}

func (e *OpError) Error() string {
	if e.Device < 0 {
		return fmt.Sprintf("kbus: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("kbus%d: %s: %v", e.Device, e.Op, e.Err)
}

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
		if s := ErrnoFor(n); s != nil {
			return &OpError{Op: op, Device: device, Err: s}
		}
	}
	return &OpError{Op: op, Device: device, Err: err}
}
