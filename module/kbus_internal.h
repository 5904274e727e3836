/* SPDX-License-Identifier: GPL-2.0 OR MPL-1.1 */
/*
 * KBUS internal definitions shared by the module's source files. Section
 * numbers (§9.2) in the module's comments are those of docs/kbus.md, which
 * describes how KBUS behaves.
 *
 * Locking
 * -------
 * The rule that shapes everything: no lock that another Ksock may wait
 * for is held while user memory is touched. A page that takes long to
 * come (swap, FUSE, a userfaultfd page that never answers) then holds up
 * only the Ksock whose memory it is (docs/kbus.md §18.2).
 *
 * In the order they are taken:
 *
 * 1. kbus_ksock.read_lock and kbus_ksock.write_lock, one Ksock's own: read()
 *    holds read_lock while it copies out; write(), SEND, SENDMSG and DISCARD
 *    hold write_lock, which alone protects the message being written
 *    (kbus_ksock.wmsg), while they copy it in, a pointy message's name
 *    and data included. Only threads sharing that Ksock's file wait for
 *    them.
 * 2. kbus_devices_lock (kbus_device.c): the table of devices; taken by
 *    NEWDEVICE and by the /proc readers before any device lock.
 * 3. kbus_dev.lock, a mutex per device: its Ksocks, bindings, what is
 *    added to queues, the send order (delivery order is the device's
 *    global send order), the outstanding and unreplied requests, set-aside
 *    events and pending senders. Held only for work on kernel memory: ioctl
 *    arguments are copied in before it is taken and results copied out
 *    after (kbus_ioctl); RECVMSG and RECVMANY copy the messages they noted
 *    with no lock held and take them off the queue only if they are still
 *    its head, read() the same. Devices never share state, so no path
 *    holds two device locks.
 * 4. kbus_ksock.qlock, a spinlock per Ksock, innermost: that Ksock's queue
 *    (its entries' links, in the queue and in their binding's list of
 *    copies, queue_len, queue_bytes) and the message being read (read_msg
 *    and its position). Whatever adds to or walks a queue holds the device
 *    lock and takes qlock for the moment it touches the list; a reader
 *    takes qlock alone to note the messages at the head of its queue and
 *    take them off, so that a reader on one CPU and a sender on another
 *    no longer wait for each other's device work (docs/kbus.md §18.2).
 *    The reader takes the device lock as well only for what is the
 *    device's: the record of a reply it now owes (a request to answer),
 *    an event set aside for it, and waking senders that wait for room.
 *    Nothing under qlock allocates, frees a message or sleeps; an entry
 *    seen under it is looked at again under it before it is taken.
 *
 * Waiting for a lock is interruptible wherever the call can fail, and
 * killable in poll and after a reader took messages (to wake senders);
 * only release waits plainly, and every holder of a device lock is
 * bounded by kernel work. The device lock is taken through kbus_lock and
 * its kin, which count who waits for it: a holder that works through a
 * long job in slices (a close or an unbind that owes many statuses) lets
 * them have the lock between its slices (kbus_yield_lock), rather than
 * taking it straight back, which a mutex allows (docs/kbus.md §18.3).
 *
 * Messages (struct kbus_msg) are immutable once built and reference counted;
 * the copies queued to several recipients share one message, its name and
 * its data. A queue entry carries what differs per recipient: the flags
 * (WANT_YOU_TO_REPLY) and the binding the copy arrived through.
 */
#ifndef _KBUS_INTERNAL_H
#define _KBUS_INTERNAL_H

#include <linux/cdev.h>
#include <linux/compat.h>
#include <linux/device.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/siphash.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/kbus_defns.h>
#include "kbus_compat.h"

#define KBUS_MAX_NUM_DEVICES		256
#define KBUS_DEF_NUM_DEVICES		1
#define KBUS_DEF_MAX_MESSAGES		100
/* The sizes real installations used (the original's out-of-tree build). */
#define KBUS_DEF_MAX_MESSAGE_SIZE	409600
#define KBUS_ABS_MAX_MESSAGE_SIZE	409600
#define KBUS_MIN_MAX_MESSAGE_SIZE	100
#define KBUS_MAX_UNSENT_UNBIND_MESSAGES	1000
/*
 * What one Ksock's queue may hold, in bytes of the messages in it, beside
 * MAXMSGS (docs/kbus.md §18.1; kbus_max_queue_bytes): each counts its
 * padded name and data and KBUS_QUEUED_MSG_OVERHEAD. By default room for
 * MAXMSGS's default number of the largest messages, at most 1 GiB.
 */
#define KBUS_QUEUED_MSG_OVERHEAD	128
/*
 * Bindings one user without the device's privileges may hold on a device
 * (docs/kbus.md §18.5; kbus_max_user_bindings, and the device's
 * max_user_bindings in sysfs): each may cost every matching send a copy.
 */
#define KBUS_DEF_MAX_USER_BINDINGS	4096
#define KBUS_DEF_MAX_QUEUE_BYTES	SZ_64M
#define KBUS_MIN_MAX_QUEUE_BYTES	4096U
#define KBUS_MAX_MAX_QUEUE_BYTES	SZ_1G

#define KBUS_QUERY			0xFFFFFFFFU

#define KBUS_SEND_FLAGS	(KBUS_BIT_ALL_OR_WAIT | KBUS_BIT_ALL_OR_FAIL)

/*
 * What a Ksock's own action makes KBUS allocate: charged to its memory
 * cgroup and, past that cgroup's limit, failing with ENOMEM rather than
 * calling the OOM killer on somebody (docs/kbus.md, memory).
 */
#define KBUS_GFP_USER	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)

/*
 * What a closing Ksock must still allocate (its unbind events, set aside
 * if need be): charged, and not allowed to fail, since there is nobody to
 * tell. Bounded by the Ksock's replier bindings (kbus_delivery.c).
 */
#define KBUS_GFP_MUST	(GFP_KERNEL_ACCOUNT | __GFP_NOFAIL)

/*
 * 32-bit programs on a 64-bit kernel (CONFIG_COMPAT) use the ILP32 layout:
 * the header is 72 bytes, with 4-byte name and data pointers at offsets 60
 * and 64 and the end guard at 68; everything before offset 60 is the same.
 * The module translates: it reads and writes each caller's own layout.
 */
#define KBUS_COMPAT_HDR_SIZE	72
#define KBUS_HDR_COMMON_SIZE	60

static inline bool kbus_compat(void)
{
	return IS_ENABLED(CONFIG_COMPAT) && in_compat_syscall();
}

static inline u32 kbus_hdr_size(bool compat)
{
	return compat ? KBUS_COMPAT_HDR_SIZE : sizeof(struct kbus_message_header);
}

/* A message as KBUS holds it: header fields, name and data, shared. */
struct kbus_msg {
	struct kref			ref;
	struct kbus_msg_id		id;
	struct kbus_msg_id		in_reply_to;
	u32				to;
	u32				from;
	struct kbus_orig_from		orig_from;
	struct kbus_orig_from		final_to;
	u32				flags;
	u32				name_len;
	u32				data_len;
	char				*name;	/* NUL-terminated, in this allocation */
	u8				*data;	/* in this allocation, or NULL */
	u8				buf[];
};

/* Binding classes, in increasing order of replier specificity. */
enum kbus_match {
	KBUS_MATCH_STAR = 1,	/* name ends in ".*" */
	KBUS_MATCH_PERCENT = 2,	/* name ends in ".%" */
	KBUS_MATCH_EXACT = 3,
};

struct kbus_ksock;
struct mem_cgroup;

/* One binding of a Ksock to a name or wildcard. */
struct kbus_binding {
	struct list_head	dev_node;	/* kbus_dev.bindings, newest first */
	struct hlist_node	hash_node;	/* kbus_dev.hash, keyed by name */
	struct list_head	ksock_node;	/* kbus_ksock.bindings */
	struct list_head	queued;		/* the copies it brought, still queued */
	struct kbus_ksock	*ksock;
	u32			hash;
	u64			seq;		/* bind order on the device */
	bool			is_replier;
	bool			limited;	/* counted in user_bindings */
	u32			user;		/* its binder's uid, if limited */
	enum kbus_match		match;
	u32			name_len;
	char			name[];		/* NUL-terminated */
};

/*
 * A /proc/kbus/bindings reader's place in kbus_dev.bindings between two
 * slices (kbus_proc.c): a binding with no Ksock, in no table, that every
 * walker of the list steps over.
 */
static inline bool kbus_binding_is_cursor(const struct kbus_binding *b)
{
	return !b->ksock;
}

/* One message copy in a Ksock's queue (or set aside for it). */
struct kbus_qentry {
	struct list_head	node;
	struct list_head	bnode;		/* binding->queued, if binding */
	struct kbus_msg		*msg;
	struct kbus_binding	*binding;	/* arrived through; NULL if none */
	u32			flags;		/* as delivered to this Ksock */
};

/* An unbind event (or a "lost" marker) set aside for a full listener. */
struct kbus_setaside {
	struct list_head	node;		/* kbus_dev.setaside, oldest first */
	struct kbus_ksock	*ksock;
	struct kbus_binding	*binding;
	struct kbus_msg		*msg;
	struct kbus_qentry	*entry;		/* its place in the queue, later */
	bool			lost;		/* $.KBUS.UnbindEventsLost */
};

/*
 * A status reply held in reserve for a request (kbus_status_alloc): the
 * message and its queue entry, allocated when the request is sent.
 */
struct kbus_status {
	struct kbus_msg		*msg;
	struct kbus_qentry	*entry;
};

/* A set of message ids (kbus_idset.c), and one member of it. */
struct kbus_idset {
	struct hlist_head	*heads;		/* 1 << bits chains, or NULL */
	u32			bits;
	u32			count;
};

struct kbus_idnode {
	struct hlist_node	node;
	struct kbus_msg_id	id;
};

/* A request this Ksock sent that still awaits a reply. */
struct kbus_outstanding {
	struct kbus_idnode	n;		/* kbus_ksock.outstanding */
	struct kbus_status	status;		/* in case no reply comes */
};

/* A request this Ksock popped with WANT_YOU_TO_REPLY and still owes. */
struct kbus_unreplied {
	struct kbus_idnode	n;		/* kbus_ksock.unreplied_ids */
	struct list_head	node;		/* kbus_ksock.unreplied, newest first */
	u32			from;
};

/* Parts of a message being written, as /proc/kbus/stats names them. */
enum kbus_wpart {
	KBUS_PART_HDR,
	KBUS_PART_NAME,
	KBUS_PART_NPAD,
	KBUS_PART_DATA,
	KBUS_PART_DPAD,
	KBUS_PART_FINAL,
};

/* The message a Ksock is writing. */
struct kbus_wmsg {
	u8				raw[sizeof(struct kbus_message_header)];
	struct kbus_message_header	hdr;	/* decoded from raw */
	bool				compat;	/* written in the ILP32 layout */
	enum kbus_wpart			part;
	u32				pos;		/* bytes into the part */
	u32				final_guard;
	bool				complete;
	bool				pointy;
	struct kbus_msg			*msg;	/* entire: allocated after the header */
};

/* One open file on a KBUS device. */
struct kbus_ksock {
	struct kbus_dev		*dev;
	u32			id;
	pid_t			pid;
	bool			writable;	/* opened for writing */

	spinlock_t		qlock;		/* see "Locking" above */
	struct list_head	queue;
	u32			queue_len;
	size_t			queue_bytes;	/* of the messages in queue */
	/*
	 * The opener's memory cgroup: what this Ksock's queue holds (its
	 * entries, and copies of messages from other cgroups) is charged
	 * here, as a socket's receive buffer is (docs/kbus.md §18.1).
	 */
	struct mem_cgroup	*memcg;
	u32			max_messages;
	wait_queue_head_t	readq;
	struct kbus_msg_id	last_pushed;	/* for MSGONLYONCE */
	bool			only_once;
	u32			num_setaside;

	/* The message being read (qlock): NEXTMSG makes one current. */
	struct mutex		read_lock;	/* serialises read(), taken first */
	struct kbus_msg		*read_msg;
	u32			read_flags;
	u32			read_pos;
	u32			read_len;
	bool			read_compat;	/* read in the ILP32 layout */

	/* The message being written (write_lock), and the one waiting to be sent. */
	struct mutex		write_lock;	/* serialises writing, taken first */
	struct kbus_wmsg	*wmsg;
	struct {			/* what /proc shows of wmsg */
		u32		pos;
		u32		part;	/* enum kbus_wpart */
		bool		complete;
	} wshown;
	struct kbus_msg		*pending;	/* ALL_OR_WAIT send in progress */
	struct kbus_status	pending_status;	/* if a pending request fails */
	bool			sending;
	struct list_head	sending_node;	/* kbus_dev.senders while sending */
	wait_queue_head_t	writeq;		/* pollers waiting for room */
	struct kbus_msg_id	last_sent;

	/* Requests this Ksock sent that still await a reply. */
	struct kbus_idset	outstanding;	/* of struct kbus_outstanding */
	u32			max_outstanding;

	/* Requests this Ksock popped and still owes a reply. */
	struct list_head	unreplied;
	struct kbus_idset	unreplied_ids;	/* the same, by id */
	u32			max_unreplied;

	struct list_head	bindings;	/* this Ksock's bindings */
};

/* One KBUS device: a bus of its own. */
struct kbus_dev {
	struct cdev		cdev;
	struct device		*dev;
	unsigned int		index;
	struct mutex		lock;		/* see "Locking" above */
	atomic_t		lock_waiting;	/* kbus_lock: who waits for lock */
	wait_queue_head_t	lock_turn;	/* kbus_yield_lock waits here */

	struct xarray		ksock_ids;	/* Ksock id -> Ksock: its open Ksocks */
	u32			next_ksock_id;
	u32			next_serial;

	struct list_head	bindings;	/* newest first; /proc cursors too */
	struct hlist_head	*hash;
	u32			hash_bits;
	hsiphash_key_t		hash_key;	/* random, per device */
	u32			num_bindings;
	u64			bind_seq;
	/* uid -> bindings held by its unprivileged callers (§18.5) */
	struct xarray		user_bindings;
	u32			max_user_bindings;	/* 0: no limit */

	struct list_head	setaside;	/* unsent unbind events, oldest first */
	u32			num_setaside;
	bool			setaside_tragic;

	bool			verbose;
	bool			report_binds;
	u32			max_message_size;

	struct list_head	senders;	/* Ksocks with an ALL_OR_WAIT send pending */
};

/* kbus_device.c */
unsigned int kbus_num_devs(void);
struct kbus_dev *kbus_get_dev(unsigned int index);
extern struct mutex kbus_devices_lock;
int kbus_new_device(u32 *index);

/* kbus_ksock.c */
extern const struct file_operations kbus_fops;
extern unsigned int kbus_max_queue_bytes;
extern unsigned int kbus_max_user_bindings;

/* kbus_msg.c */
bool kbus_name_valid(const char *name, u32 len, bool allow_wildcard);
struct kbus_msg *kbus_msg_alloc(u32 name_len, u32 data_len);
struct kbus_msg *kbus_msg_clone(const struct kbus_msg *msg);
size_t kbus_msg_bytes(const struct kbus_msg *msg);
struct kbus_msg *kbus_msg_synthetic(struct kbus_dev *dev, const char *name, u32 flags,
				    u32 data_len, gfp_t gfp);
struct kbus_msg *kbus_status_alloc(void);
void kbus_status_fill(struct kbus_dev *dev, struct kbus_msg *msg, const char *name);
void kbus_msg_put(struct kbus_msg *msg);
static inline struct kbus_msg *kbus_msg_get(struct kbus_msg *msg)
{
	kref_get(&msg->ref);
	return msg;
}

u64 kbus_entire_len(u32 name_len, u32 data_len, bool compat);
int kbus_msg_copy_out(const struct kbus_msg *msg, u32 flags, bool compat, u32 pos,
		      char __user *buf, u32 count);
ssize_t kbus_write_msg(struct kbus_ksock *ks, const char __user *buf, size_t count);
int kbus_fetch_pointy(struct kbus_ksock *ks);
int kbus_finish_write(struct kbus_ksock *ks, struct kbus_msg **msgp);
void kbus_discard_write(struct kbus_ksock *ks);
const char *kbus_wpart_name(enum kbus_wpart part);
struct kbus_msg_id kbus_next_id(struct kbus_dev *dev);

static inline bool kbus_id_zero(struct kbus_msg_id id)
{
	return id.network_id == 0 && id.serial_num == 0;
}

static inline bool kbus_id_eq(struct kbus_msg_id a, struct kbus_msg_id b)
{
	return a.network_id == b.network_id && a.serial_num == b.serial_num;
}

/* kbus_idset.c */
int kbus_idset_reserve(struct kbus_dev *dev, struct kbus_idset *s);
void kbus_idset_add(struct kbus_dev *dev, struct kbus_idset *s, struct kbus_idnode *n);
void kbus_idset_del(struct kbus_idset *s, struct kbus_idnode *n);
struct hlist_head *kbus_idset_chain(const struct kbus_dev *dev, const struct kbus_idset *s,
				    struct kbus_msg_id id);
u32 kbus_idset_size(const struct kbus_idset *s);
void kbus_idset_free(struct kbus_idset *s);

/* kbus_bindings.c: the table */
int kbus_bindings_init(struct kbus_dev *dev);
void kbus_bindings_free(struct kbus_dev *dev);
struct kbus_binding *kbus_binding_alloc(const char *name, u32 len, bool replier);
void kbus_binding_insert(struct kbus_ksock *ks, struct kbus_binding *b);
void kbus_binding_unlink(struct kbus_dev *dev, struct kbus_binding *b);
int kbus_user_bindings_charge(struct kbus_dev *dev, struct kbus_binding *b, kuid_t uid);
void kbus_user_bindings_uncharge(struct kbus_dev *dev, struct kbus_binding *b);
struct kbus_binding *kbus_binding_newest(struct kbus_ksock *ks, bool replier, const char *name,
					 u32 len);
void kbus_bindings_detach(struct kbus_ksock *ks, struct list_head *repliers);
struct kbus_binding *kbus_find_replier_exact(struct kbus_dev *dev, const char *name,
					     u32 name_len);
#define KBUS_COLLECT_STACK	16
int kbus_collect(struct kbus_dev *dev, const struct kbus_msg *msg, struct kbus_binding **buf,
		 u32 buf_len, struct kbus_binding ***listp, u32 *nlisteners,
		 struct kbus_binding **replier, gfp_t gfp);
u32 kbus_hash_longest_chain(struct kbus_dev *dev);

/* kbus_bind.c: what BIND and UNBIND mean for the device */
int kbus_bind(struct kbus_ksock *ks, bool replier, const char *name, u32 name_len, bool limited);
int kbus_unbind(struct kbus_ksock *ks, bool replier, const char *name, u32 name_len);
void kbus_unbind_all(struct kbus_ksock *ks);

/* kbus_delivery.c */
int kbus_qentry_cache_init(void);
void kbus_qentry_cache_exit(void);
void kbus_qentry_free(struct kbus_qentry *e);
bool kbus_ksock_full(const struct kbus_ksock *ks, u32 reserved_credit);
void kbus_unqueue(struct kbus_ksock *ks, struct kbus_qentry *e);
void kbus_push(struct kbus_ksock *ks, struct kbus_qentry *e, struct kbus_msg *msg,
	       struct kbus_binding *binding, u32 flags, bool check_once);
struct kbus_qentry *kbus_qentry_alloc(gfp_t gfp);
int kbus_status_reserve(struct kbus_status *st);
void kbus_status_release(struct kbus_status *st);
void kbus_outstanding_free(struct kbus_ksock *ks);
int kbus_deliver(struct kbus_ksock *sender, struct kbus_msg *msg);
int kbus_send(struct kbus_ksock *ks, struct kbus_msg_id *id);
void kbus_send_status(struct kbus_dev *dev, const char *name, u32 from, u32 to,
		      struct kbus_msg_id in_reply_to);
int kbus_bind_event(struct kbus_dev *dev, bool is_bind, u32 binder, const char *name,
		    u32 name_len, bool must_succeed);
int kbus_replay_binds(struct kbus_ksock *ks);
void kbus_move_setaside(struct kbus_ksock *ks);
void kbus_drop_setaside(struct kbus_ksock *ks, struct kbus_binding *binding, bool all);
void kbus_outstanding_remove(struct kbus_ksock *ks, struct kbus_msg_id id);
bool kbus_outstanding_has(const struct kbus_ksock *ks, struct kbus_msg_id id);
u32 kbus_remove_queued(struct kbus_ksock *ks, struct kbus_binding *binding);
struct kbus_ksock *kbus_find_ksock(struct kbus_dev *dev, u32 id);
void kbus_wake_senders(struct kbus_dev *dev);

/*
 * The device lock, as every path but kbus_yield_lock takes it (kbus_device.c);
 * it is let go with a plain mutex_unlock.
 */
void kbus_lock(struct kbus_dev *dev);
int __must_check kbus_lock_interruptible(struct kbus_dev *dev);
int __must_check kbus_lock_killable(struct kbus_dev *dev);
void kbus_yield_lock(struct kbus_dev *dev);
void kbus_start_sending(struct kbus_ksock *ks, struct kbus_msg *msg);
void kbus_stop_sending(struct kbus_ksock *ks);
__poll_t kbus_poll_retry(struct kbus_ksock *ks);

/* kbus_proc.c */
int kbus_proc_init(void);
void kbus_proc_exit(void);

#endif /* _KBUS_INTERNAL_H */
