/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MPL-1.1 */
/*
 * KBUS user-space ABI: message layout, flags and ioctl numbers.
 *
 * This header is binary compatible with the original KBUS: a client built
 * against the original header works unchanged with this module. The layout
 * of struct kbus_message_header follows the kernel's pointer width (72 bytes
 * on ILP32, 88 bytes on LP64) and a 32-bit process on a 64-bit kernel uses
 * its own; docs/kbus.md in the KBUS rig describes every field.
 *
 * User space gets, besides the structures and numbers, the helpers the
 * original header gave it (the name, data and end guard of a message in
 * either form); they build as C89, C99 and C++.
 */
#ifndef _UAPI_LINUX_KBUS_DEFNS_H
#define _UAPI_LINUX_KBUS_DEFNS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#ifdef __KERNEL__
typedef __u32 kbus_u32;
#else
typedef uint32_t kbus_u32;
#endif

/*
 * Pointers in these structures point into the calling process: the kernel
 * sees them as __user. User space sees plain pointers: __user is defined
 * for this header only, and undefined again at its end.
 */
#if !defined(__KERNEL__) && !defined(__user)
#define __user
#define KBUS_DEFINED_USER
#endif

/* A message id: {0, 0} means "no id". network_id 0 is a local message. */
struct kbus_msg_id {
	kbus_u32 network_id;
	kbus_u32 serial_num;
};

/* Where a message came from, or is finally going to, across Limpets. */
struct kbus_orig_from {
	kbus_u32 network_id;
	kbus_u32 local_id;
};

#define KBUS_MSG_START_GUARD	0x7375624B
#define KBUS_MSG_END_GUARD	0x4B627573

/*
 * The message header. In the "pointy" form name and data point at user
 * memory; in the "entire" form both are NULL and the name, its padding, the
 * data, its padding and a final end guard follow the header.
 */
struct kbus_message_header {
	kbus_u32		start_guard;
	struct kbus_msg_id	id;
	struct kbus_msg_id	in_reply_to;
	kbus_u32		to;
	kbus_u32		from;
	struct kbus_orig_from	orig_from;
	struct kbus_orig_from	final_to;
	kbus_u32		extra;
	kbus_u32		flags;
	kbus_u32		name_len;
	kbus_u32		data_len;
	char __user		*name;
	void __user		*data;
	kbus_u32		end_guard;
};

/* An entire message viewed as a header followed by an array of u32. */
struct kbus_entire_message {
	struct kbus_message_header	header;
	kbus_u32			rest[];
};

#define KBUS_ENTIRE_MSG_NAME_INDEX(name_len)	0
#define KBUS_ENTIRE_MSG_DATA_INDEX(name_len)	(((name_len) + 1 + 3) / 4)
#define KBUS_ENTIRE_MSG_END_GUARD_INDEX(name_len, data_len) \
	(KBUS_ENTIRE_MSG_DATA_INDEX(name_len) + ((data_len) + 3) / 4)

/* Name length including its NUL, rounded up to a multiple of 4. */
#define KBUS_PADDED_NAME_LEN(name_len)	(4 * (((name_len) + 1 + 3) / 4))
/* Data length rounded up to a multiple of 4. */
#define KBUS_PADDED_DATA_LEN(data_len)	(4 * (((data_len) + 3) / 4))

/* Total length of a message in entire form. */
#define KBUS_ENTIRE_MSG_LEN(name_len, data_len)				\
	(sizeof(struct kbus_message_header) +				\
	 KBUS_PADDED_NAME_LEN(name_len) + KBUS_PADDED_DATA_LEN(data_len) + 4)

/* Argument of KBUS_IOC_BIND and KBUS_IOC_UNBIND. */
struct kbus_bind_request {
	kbus_u32	is_replier;
	kbus_u32	name_len;
	char __user	*name;
};

/* Argument of KBUS_IOC_REPLIER. */
struct kbus_bind_query {
	kbus_u32	return_id;
	kbus_u32	name_len;
	char __user	*name;
};

/* Payload of a $.KBUS.ReplierBindEvent message. */
struct kbus_replier_bind_event_data {
	kbus_u32	is_bind;
	kbus_u32	binder;
	kbus_u32	name_len;
	kbus_u32	rest[];
};

/* Flags: bits 0-15 belong to KBUS, bits 16-31 to the user. */
#define KBUS_BIT_WANT_A_REPLY		0x00000001U
#define KBUS_BIT_WANT_YOU_TO_REPLY	0x00000002U
#define KBUS_BIT_SYNTHETIC		0x00000004U
#define KBUS_BIT_URGENT			0x00000008U
#define KBUS_BIT_ALL_OR_WAIT		0x00000100U
#define KBUS_BIT_ALL_OR_FAIL		0x00000200U

#define KBUS_MAX_NAME_LEN	1000

/* Names of the messages KBUS itself sends. */
#define KBUS_MSG_NAME_REPLIER_BIND_EVENT	"$.KBUS.ReplierBindEvent"
#define KBUS_MSG_NAME_REPLIER_UNBOUND		"$.KBUS.Replier.Unbound"
#define KBUS_MSG_NAME_REPLIER_GONEAWAY		"$.KBUS.Replier.GoneAway"
#define KBUS_MSG_NAME_REPLIER_IGNORED		"$.KBUS.Replier.Ignored"
#define KBUS_MSG_NAME_REPLIER_DISAPPEARED	"$.KBUS.Replier.Disappeared"
#define KBUS_MSG_NAME_ERROR_SENDING		"$.KBUS.ErrorSending"
#define KBUS_MSG_NAME_UNBIND_EVENTS_LOST	"$.KBUS.UnbindEventsLost"

/* ioctl numbers. Every non-_IO command is declared with a char * size. */
#define KBUS_IOC_MAGIC		'k'
#define KBUS_IOC_RESET		_IO(KBUS_IOC_MAGIC, 1)
#define KBUS_IOC_BIND		_IOW(KBUS_IOC_MAGIC, 2, char *)
#define KBUS_IOC_UNBIND		_IOW(KBUS_IOC_MAGIC, 3, char *)
#define KBUS_IOC_KSOCKID	_IOR(KBUS_IOC_MAGIC, 4, char *)
#define KBUS_IOC_REPLIER	_IOWR(KBUS_IOC_MAGIC, 5, char *)
#define KBUS_IOC_NEXTMSG	_IOR(KBUS_IOC_MAGIC, 6, char *)
#define KBUS_IOC_LENLEFT	_IOR(KBUS_IOC_MAGIC, 7, char *)
#define KBUS_IOC_SEND		_IOR(KBUS_IOC_MAGIC, 8, char *)
#define KBUS_IOC_DISCARD	_IO(KBUS_IOC_MAGIC, 9)
#define KBUS_IOC_LASTSENT	_IOR(KBUS_IOC_MAGIC, 10, char *)
#define KBUS_IOC_MAXMSGS	_IOWR(KBUS_IOC_MAGIC, 11, char *)
#define KBUS_IOC_NUMMSGS	_IOR(KBUS_IOC_MAGIC, 12, char *)
#define KBUS_IOC_UNREPLIEDTO	_IOR(KBUS_IOC_MAGIC, 13, char *)
#define KBUS_IOC_MSGONLYONCE	_IOWR(KBUS_IOC_MAGIC, 14, char *)
#define KBUS_IOC_VERBOSE	_IOWR(KBUS_IOC_MAGIC, 15, char *)
#define KBUS_IOC_NEWDEVICE	_IOR(KBUS_IOC_MAGIC, 16, char *)
#define KBUS_IOC_REPORTREPLIERBINDS _IOWR(KBUS_IOC_MAGIC, 17, char *)
#define KBUS_IOC_MAXMSGSIZE	_IOWR(KBUS_IOC_MAGIC, 18, char *)
#define KBUS_IOC_MAXNR		18

/*
 * This module's additions, after the original's numbers so that no
 * original client can meet them: a message sent in one call, and received
 * in one call (docs/kbus.md §7.1).
 *
 * SENDMSG takes a pointer to a whole message, pointy or entire, and sends
 * it as write() and SEND would; its id is written into the message's id.
 * RECVMSG takes a struct kbus_receive, RECVMANY (several messages in one
 * call) a struct kbus_receive_many.
 */
#define KBUS_IOC_SENDMSG	_IOWR(KBUS_IOC_MAGIC, 19, char *)
#define KBUS_IOC_RECVMSG	_IOWR(KBUS_IOC_MAGIC, 20, char *)
#define KBUS_IOC_RECVMANY	_IOWR(KBUS_IOC_MAGIC, 21, char *)
#define KBUS_IOC_MAXNR_EXT	21

/* timeout_ms of struct kbus_receive: wait until a message comes. */
#define KBUS_WAIT_FOREVER	0xFFFFFFFFU

/*
 * Argument of KBUS_IOC_RECVMSG: the next message is copied whole, in the
 * entire form, into buf, and its length returned (and put in len). If len
 * is too small the ioctl fails with EMSGSIZE, sets len to the length
 * needed and leaves the message queued. With nothing queued it waits up to
 * timeout_ms (KBUS_WAIT_FOREVER: without limit) and then fails with
 * ETIMEDOUT; with timeout_ms 0, or on a non-blocking file, it fails at
 * once with EAGAIN.
 */
struct kbus_receive {
	kbus_u32	len;
	kbus_u32	timeout_ms;
	void __user	*buf;
};

/*
 * Argument of KBUS_IOC_RECVMANY: the messages at the head of the queue, as
 * many whole ones as fit in len bytes (and at most max, unless max is 0),
 * are copied into buf back to back, each in the entire form, and taken off
 * the queue as RECVMSG takes one. Their number is returned and put in
 * count, the bytes they fill in len; a message's length follows from its
 * header (KBUS_ENTIRE_MSG_LEN). If the first message does not fit, the
 * ioctl fails with EMSGSIZE and puts the length it needs in len. It waits
 * for the first message as RECVMSG does, never for the others. A request
 * the Ksock is to answer is the last message of a batch. The four
 * counts come first, so they lie where they do on every architecture.
 */
struct kbus_receive_many {
	kbus_u32	len;
	kbus_u32	timeout_ms;
	kbus_u32	max;
	kbus_u32	count;
	void __user	*buf;
};

#ifndef __KERNEL__
/* inline is C99 and C++; GCC and Clang know __inline__ in C89 too. */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define kbus_inline inline
#else
#define kbus_inline __inline__
#endif

/*
 * The name of a message: where the pointy form points, or just after the
 * header in the entire form. It is NUL-terminated in both.
 */
static kbus_inline char *kbus_msg_name_ptr(const struct kbus_message_header *hdr)
{
	if (hdr->name)
		return hdr->name;
	return (char *)((const struct kbus_entire_message *)hdr)->rest;
}

/*
 * The data of a message (data_len bytes): where the pointy form points
 * (NULL when it has none), or after the name's padding in the entire form.
 */
static kbus_inline void *kbus_msg_data_ptr(const struct kbus_message_header *hdr)
{
	const struct kbus_entire_message *entire = (const struct kbus_entire_message *)hdr;

	if (hdr->name || hdr->data)
		return hdr->data;
	return (void *)&entire->rest[KBUS_ENTIRE_MSG_DATA_INDEX(hdr->name_len)];
}

/* The final end guard of a message in entire form. */
static kbus_inline kbus_u32 *kbus_msg_end_ptr(struct kbus_entire_message *entire)
{
	return &entire->rest[KBUS_ENTIRE_MSG_END_GUARD_INDEX(entire->header.name_len,
							    entire->header.data_len)];
}
#endif /* !__KERNEL__ */

#ifdef KBUS_DEFINED_USER
#undef __user
#undef KBUS_DEFINED_USER
#endif

#endif /* _UAPI_LINUX_KBUS_DEFNS_H */
