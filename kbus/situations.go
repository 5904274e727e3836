package kbus

import "golang.org/x/sys/unix"

// situations lists, per errno, every situation in which KBUS returns it
// (docs/kbus.md §13).
var situations = map[unix.Errno][]string{
	unix.EPERM: {
		"VERBOSE or REPORTREPLIERBINDS set to 0 or 1, MAXMSGSIZE set, or NEWDEVICE, by a caller that neither " +
			"owns the device node nor has CAP_SYS_ADMIN",
	},
	unix.ENOSPC: {
		"BIND by a caller that neither owns the device node nor has CAP_SYS_ADMIN, when its user already holds " +
			"the device's max_user_bindings bindings",
	},
	unix.EACCES: {
		"opening /dev/kbusN as a user the node's permission bits leave out (by default 0660: owner and group)",
	},
	unix.EADDRINUSE: {
		"BIND as replier when a replier binding with the identical name already exists",
	},
	unix.EADDRNOTAVAIL: {
		"SEND of a request with no matching replier (also a stateful request when nobody is replier)",
		"SEND of a reply whose 'to' Ksock is no longer open",
	},
	unix.EAGAIN: {
		"SEND with ALL_OR_WAIT when the replier, the reply target or any listener is full: the message stays pending",
		"BIND/UNBIND as replier with bind reporting on, when a listener of the bind event is full",
		"read() or write() interrupted while waiting for the device lock",
		"RECVMSG with nothing queued and timeout 0, or on a Ksock opened O_NONBLOCK",
	},
	unix.EALREADY: {
		"write() while the Ksock is sending (an ALL_OR_WAIT send is pending)",
		"SENDMSG while a message is being written or a send is pending",
	},
	unix.EBADMSG: {
		"BIND/UNBIND with an empty or invalid name",
		"BIND as replier to $.KBUS.ReplierBindEvent",
		"SEND (pointy) or write (entire) with an invalid or wildcard name",
	},
	unix.EBUSY: {
		"SEND of a request whose replier's queue is full",
		"SEND of a reply whose target's queue is full",
		"SEND with ALL_OR_FAIL when any listener's queue is full",
		"REPORTREPLIERBINDS=1 when the caller's queue fills while existing bindings are replayed",
	},
	unix.ECONNREFUSED: {
		"SEND of a reply the target is not expecting: wrong in_reply_to, wrong 'to', or already answered",
	},
	unix.EFAULT: {
		"an ioctl argument that cannot be accessed",
		"a bad name or data pointer in BIND, UNBIND or a pointy SEND",
		"a bad write() buffer, or a failure copying SEND's result back",
	},
	unix.EINVAL: {
		"a written message with a bad start guard, header end guard or final end guard",
		"name_len 0 in a written header; inconsistent name/data pointers; both ALL_OR_WAIT and ALL_OR_FAIL",
		"SEND of an incomplete message",
		"UNBIND of a binding that does not exist",
		"MSGONLYONCE, VERBOSE or REPORTREPLIERBINDS given something other than 0, 1 or 0xFFFFFFFF",
		"MAXMSGSIZE outside 0, 1 and 100 up to the ceiling",
		"NEWDEVICE beyond device 255; loading the module with a bad kbus_num_devices",
	},
	unix.EMSGSIZE: {
		"a written header whose message would exceed the device's maximum message size",
		"bytes written after the message was complete",
		"RECVMSG with a buffer smaller than the next message (the length needed is returned; the message stays queued)",
	},
	unix.ENAMETOOLONG: {
		"a name longer than 1000 bytes in BIND, UNBIND or a written header",
		"a REPLIER query with a name length of 0 or more than 1000",
	},
	unix.ENOENT: {
		"opening a /dev/kbusN that does not exist (is the module loaded? was the device created?)",
	},
	unix.ENOLCK: {
		"SEND of a request when the sender itself is full (queued messages plus requests awaiting replies reach its maximum)",
	},
	unix.ENOMEM: {
		"the kernel could not allocate memory (open, bind, write, send, NEWDEVICE)",
	},
	unix.ENOMSG: {
		"SEND with no message written: never written, already sent or failed, or discarded",
	},
	unix.ENOTTY: {
		"an ioctl with the wrong magic, a number above 20, or an unknown command",
	},
	unix.EPIPE: {
		"SEND of a stateful request whose 'to' is no longer the replier for the name",
	},
	unix.EINTR: {
		"open or an ioctl interrupted while waiting for the device lock (ERESTARTSYS in the kernel); close waits and cannot fail",
		"a RECVMSG wait with a time limit interrupted by a signal",
	},
	unix.EBADF: {
		"write() or SENDMSG on a Ksock opened read-only",
	},
	unix.ETIMEDOUT: {
		"RECVMSG waited timeout_ms milliseconds and no message came",
	},
}

// Situations returns every situation in which KBUS returns this errno.
func (e Errno) Situations() []string { return situations[unix.Errno(e)] }
