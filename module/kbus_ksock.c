// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS Ksocks: the file operations of /dev/kbusN. Each open file is a Ksock
 * with its own id, queue, bindings and read and write state; like evdev's
 * clients, each keeps its own queue and wait queue for poll.
 *
 * Every operation that looks at the device takes its lock
 * (kbus_internal.h, "Locking"), and none copies to or from user memory
 * while holding it: arguments come in before, results go out after.
 * Waiting for a lock can be interrupted: open and ioctl then return
 * ERESTARTSYS, read and write EAGAIN, as the original did.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "kbus_internal.h"

static int kbus_open(struct inode *inode, struct file *file)
{
	struct kbus_dev *dev = container_of(inode->i_cdev, struct kbus_dev, cdev);
	struct kbus_ksock *ks;
	u32 id;
	int err;

	ks = kzalloc(sizeof(*ks), KBUS_GFP_USER);
	if (!ks)
		return -ENOMEM;
	ks->dev = dev;
	ks->pid = task_tgid_nr(current);
	ks->writable = file->f_mode & FMODE_WRITE;
	ks->max_messages = KBUS_DEF_MAX_MESSAGES;
	ks->memcg = get_mem_cgroup_from_mm(current->mm);
	spin_lock_init(&ks->qlock);
	INIT_LIST_HEAD(&ks->queue);
	INIT_LIST_HEAD(&ks->unreplied);
	mutex_init(&ks->read_lock);
	mutex_init(&ks->write_lock);
	INIT_LIST_HEAD(&ks->bindings);
	init_waitqueue_head(&ks->readq);
	init_waitqueue_head(&ks->writeq);
	INIT_LIST_HEAD(&ks->sending_node);

	if (kbus_lock_interruptible(dev)) {
		mem_cgroup_put(ks->memcg);
		kfree(ks);
		return -ERESTARTSYS;
	}
	/* Ids start at 1, skip 0 when they wrap, and skip ids still in use. */
	do {
		if (dev->next_ksock_id == 0)
			dev->next_ksock_id = 1;
		id = dev->next_ksock_id++;
		err = xa_insert(&dev->ksock_ids, id, ks, KBUS_GFP_USER);
	} while (err == -EBUSY);
	if (err) {
		mutex_unlock(&dev->lock);
		mem_cgroup_put(ks->memcg);
		kfree(ks);
		return err;
	}
	ks->id = id;
	kbus_wake_senders(dev);
	if (dev->verbose)
		pr_info_ratelimited("kbus%u: ksock %u opened by pid %d\n", dev->index, id, ks->pid);
	mutex_unlock(&dev->lock);

	file->private_data = ks;
	return 0;
}

/* Forget the message being read: the caller puts it, after qlock. */
static struct kbus_msg *kbus_detach_read(struct kbus_ksock *ks)
{
	struct kbus_msg *msg = ks->read_msg;

	lockdep_assert_held(&ks->qlock);
	ks->read_msg = NULL;
	ks->read_pos = 0;
	ks->read_len = 0;
	return msg;
}

static void kbus_drop_read(struct kbus_ksock *ks)
{
	struct kbus_msg *msg;

	spin_lock(&ks->qlock);
	msg = kbus_detach_read(ks);
	spin_unlock(&ks->qlock);
	kbus_msg_put(msg);
}

/*
 * A close may owe a status for each of a million queued or popped
 * requests: it lets the device go every KBUS_CLOSE_SLICE of them, so that
 * other Ksocks are never held up for more than one slice (§18.2). The
 * closing Ksock is out of the id table by then, so no reply or status
 * reaches it; copies that its bindings still bring are answered in turn.
 */
#define KBUS_CLOSE_SLICE	256

static void kbus_close_slice(struct kbus_dev *dev, u32 *done)
{
	if (++*done % KBUS_CLOSE_SLICE)
		return;
	kbus_yield_lock(dev);
}

/*
 * kbus_take_queue - a closing Ksock's whole queue onto @to. Its bindings'
 * lists of their copies are emptied, not walked: the copies taken are
 * never looked up through a binding again (nothing takes them off the
 * queue but this close, and its bindings go before the lock is let go
 * for the last time), and a copy that arrives meanwhile joins a list
 * that no longer leads to them.
 */
static void kbus_take_queue(struct kbus_ksock *ks, struct list_head *to)
{
	struct kbus_binding *b;

	lockdep_assert_held(&ks->dev->lock);
	/*
	 * A closing Ksock has no reader, and senders wait for the device
	 * lock: the bindings, a million perhaps, need no spinlock.
	 */
	list_for_each_entry(b, &ks->bindings, ksock_node)
		INIT_LIST_HEAD(&b->queued);
	spin_lock(&ks->qlock);
	list_splice_init(&ks->queue, to);
	WRITE_ONCE(ks->queue_len, 0);
	WRITE_ONCE(ks->queue_bytes, 0);
	spin_unlock(&ks->qlock);
}

/*
 * kbus_free_unowed - with the device lock let go, free the copies of @list
 * that are owed nothing, leaving on it the requests to this Ksock from
 * others, which are owed a GoneAway (§9.9).
 */
static void kbus_free_unowed(struct kbus_ksock *ks, struct list_head *list)
{
	struct kbus_qentry *e, *tmp;

	list_for_each_entry_safe(e, tmp, list, node) {
		if ((e->flags & KBUS_BIT_WANT_YOU_TO_REPLY) && e->msg->from != ks->id)
			continue;
		list_del(&e->node);
		kbus_msg_put(e->msg);
		kbus_qentry_free(e);
		cond_resched();
	}
}

/* Close a Ksock, in the order of §9.9. */
static int kbus_release(struct inode *inode, struct file *file)
{
	struct kbus_ksock *ks = file->private_data;
	struct kbus_dev *dev = ks->dev;
	struct kbus_unreplied *u;
	struct kbus_qentry *e;
	u32 done = 0;

	/* Nobody else holds the file, so nobody holds its write_lock. */
	mutex_lock(&ks->write_lock);
	kbus_discard_write(ks);
	mutex_unlock(&ks->write_lock);

	kbus_lock(dev);
	xa_erase(&dev->ksock_ids, ks->id);
	kbus_drop_read(ks);
	kbus_stop_sending(ks);

	kbus_outstanding_free(ks);

	/*
	 * The queue, taken whole: its copies are freed with the device let
	 * go, and only the requests among them, each owed a GoneAway, come
	 * back under the lock (in slices, in queue order). A close of a
	 * Ksock that hoarded half a million copies so waits for nobody, and
	 * keeps nobody waiting, for the copies. Copies its bindings bring
	 * meanwhile are taken in the next round.
	 */
	while (!list_empty(&ks->queue)) {
		LIST_HEAD(owed);

		kbus_take_queue(ks, &owed);
		mutex_unlock(&dev->lock);
		kbus_free_unowed(ks, &owed);
		kbus_lock(dev);
		while ((e = list_first_entry_or_null(&owed, struct kbus_qentry, node))) {
			list_del(&e->node);
			kbus_send_status(dev, KBUS_MSG_NAME_REPLIER_GONEAWAY, ks->id, e->msg->from,
					 e->msg->id);
			kbus_msg_put(e->msg);
			kbus_qentry_free(e);
			kbus_close_slice(dev, &done);
		}
	}

	kbus_unbind_all(ks);
	kbus_drop_setaside(ks, NULL, true);

	while ((u = list_first_entry_or_null(&ks->unreplied, struct kbus_unreplied, node))) {
		kbus_send_status(dev, KBUS_MSG_NAME_REPLIER_IGNORED, ks->id, u->from, u->n.id);
		list_del(&u->node);
		kfree(u);
		kbus_close_slice(dev, &done);
	}
	kbus_idset_free(&ks->unreplied_ids);

	kbus_wake_senders(dev);
	if (dev->verbose)
		pr_info_ratelimited("kbus%u: ksock %u closed\n", dev->index, ks->id);
	mutex_unlock(&dev->lock);
	mutex_destroy(&ks->read_lock);
	mutex_destroy(&ks->write_lock);
	mem_cgroup_put(ks->memcg);
	kfree(ks);
	return 0;
}

/*
 * read() needs only the Ksock's own locks, and copies with none but
 * read_lock held: the message being read is immutable and we hold a
 * reference, so a reader whose buffer faults slowly (or never, on a
 * userfaultfd page) holds up nobody else. Reads of one Ksock are
 * serialised by its read_lock; the position advances only if nothing
 * (NEXTMSG, RECVMSG, close) changed the message meanwhile.
 */
static ssize_t kbus_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct kbus_ksock *ks = file->private_data;
	struct kbus_msg *msg, *done = NULL;
	u32 n, pos, flags;
	bool compat;
	ssize_t ret;

	if (mutex_lock_interruptible(&ks->read_lock))
		return -EAGAIN;
	spin_lock(&ks->qlock);
	msg = ks->read_msg;
	if (!msg) {
		spin_unlock(&ks->qlock);
		ret = 0;
		goto out_read;
	}
	kbus_msg_get(msg);
	pos = ks->read_pos;
	flags = ks->read_flags;
	compat = ks->read_compat;
	n = min_t(size_t, count, ks->read_len - pos);
	spin_unlock(&ks->qlock);

	ret = kbus_msg_copy_out(msg, flags, compat, pos, buf, n);
	if (!ret) {
		ret = n;
		spin_lock(&ks->qlock);
		if (ks->read_msg == msg && ks->read_pos == pos) {
			ks->read_pos += n;
			if (ks->read_pos == ks->read_len)
				done = kbus_detach_read(ks);
		}
		spin_unlock(&ks->qlock);
	}
	kbus_msg_put(done);
	kbus_msg_put(msg);
out_read:
	mutex_unlock(&ks->read_lock);
	return ret;
}

/*
 * write() needs only the Ksock's own write_lock: the message being written
 * is the Ksock's alone, so a slow page in @buf holds up nobody else.
 */
static ssize_t kbus_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	struct kbus_ksock *ks = file->private_data;
	ssize_t ret;

	if (mutex_lock_interruptible(&ks->write_lock))
		return -EAGAIN;
	ret = kbus_write_msg(ks, buf, count);
	mutex_unlock(&ks->write_lock);
	return ret;
}

static __poll_t kbus_poll(struct file *file, struct poll_table_struct *wait)
{
	struct kbus_ksock *ks = file->private_data;
	struct kbus_dev *dev = ks->dev;
	__poll_t mask;

	/*
	 * Register for room whether or not a send is pending now: epoll
	 * registers once, when the Ksock is added, and must hear of a send
	 * that becomes pending later. Only a Ksock with a send pending is
	 * woken for room (kbus_wake_senders).
	 */
	poll_wait(file, &ks->readq, wait);
	poll_wait(file, &ks->writeq, wait);
	/*
	 * Registered before the state is read, and every waker changes the
	 * state before it looks for sleepers (wq_has_sleeper, or a plain
	 * wake_up): a change either shows below or wakes this poller.
	 */
	smp_mb();
	if (ks->writable && READ_ONCE(ks->sending)) {
		/*
		 * A pending ALL_OR_WAIT send is retried by poll (§8.4), under
		 * the device lock; a poll without one does not wait for the
		 * lock at all (docs/kbus.md §18.2).
		 */
		if (kbus_lock_killable(dev))
			return EPOLLERR;	/* the poller dies: nobody looks */
		/* A failed retry queues a status: the mask shows it below. */
		mask = kbus_poll_retry(ks);
		mutex_unlock(&dev->lock);
	} else {
		mask = ks->writable ? EPOLLOUT | EPOLLWRNORM : 0;
	}
	/* Events set aside for this Ksock count: NEXTMSG will bring them in. */
	if (READ_ONCE(ks->queue_len) || READ_ONCE(ks->num_setaside))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/*
 * A request the Ksock is to answer is owed once it is popped: the record
 * of that, allocated (charged to the reader) under the device lock before
 * anything is taken off the queue, so that ENOMEM leaves the message where
 * it was. Only a reader holding the device lock takes such a request, and
 * only a sender holding it puts an urgent message before one, so a
 * request seen at the head stays there while the lock is held.
 */
static int kbus_pop_prepare(struct kbus_ksock *ks, struct kbus_unreplied **up)
{
	lockdep_assert_held(&ks->dev->lock);
	*up = NULL;
	if (kbus_idset_reserve(ks->dev, &ks->unreplied_ids))
		return -ENOMEM;
	*up = kmalloc(sizeof(**up), KBUS_GFP_USER);
	return *up ? 0 : -ENOMEM;
}

/*
 * Take @e off the queue and return its message, with the entry's
 * reference, which the caller puts after qlock. For a request to answer,
 * @u is what kbus_pop_prepare gave, and the caller holds the device lock
 * too. The caller moves set-aside events in and wakes senders waiting for
 * room (kbus_after_take), once for all it took.
 */
static struct kbus_msg *kbus_pop(struct kbus_ksock *ks, struct kbus_qentry *e,
				 struct kbus_unreplied *u)
{
	struct kbus_msg *msg = e->msg;

	lockdep_assert_held(&ks->qlock);
	kbus_unqueue(ks, e);
	if (u) {
		lockdep_assert_held(&ks->dev->lock);
		u->n.id = msg->id;
		u->from = msg->from;
		list_add(&u->node, &ks->unreplied);
		kbus_idset_add(ks->dev, &ks->unreplied_ids, &u->n);
		if (ks->unreplied_ids.count > ks->max_unreplied)
			ks->max_unreplied = ks->unreplied_ids.count;
	}
	kbus_qentry_free(e);
	return msg;
}

static struct kbus_qentry *kbus_first(struct kbus_ksock *ks)
{
	lockdep_assert_held(&ks->qlock);
	return list_first_entry_or_null(&ks->queue, struct kbus_qentry, node);
}

/* An empty queue takes the oldest event set aside for it, if there is one. */
static void kbus_fill_empty(struct kbus_ksock *ks)
{
	lockdep_assert_held(&ks->dev->lock);
	if (!READ_ONCE(ks->queue_len))
		kbus_move_setaside(ks);	/* so set-aside events cannot stall */
}

/*
 * After a reader took @n messages: as many events set aside for the Ksock
 * move into its queue, and senders waiting for room are woken. The
 * barrier orders the reader's queue_len stores before its looks at the
 * set-aside count and the senders; it pairs with the one in kbus_poll,
 * between a sender's joining the senders and its retry's look at the
 * queue, so that either the reader sees the sender or the retry sees the
 * room. With @locked the caller holds the device lock.
 */
static void kbus_after_take(struct kbus_ksock *ks, u32 n, bool locked)
{
	struct kbus_dev *dev = ks->dev;

	if (!n)
		return;
	smp_mb();	/* queue_len before senders: pairs with kbus_poll's */
	if (!locked) {
		if (!READ_ONCE(ks->num_setaside) && list_empty(&dev->senders))
			return;
		/*
		 * A reader killed here leaves the wake to its close, which
		 * wakes every sender.
		 */
		if (kbus_lock_killable(dev))
			return;
	}
	while (n-- && ks->num_setaside)
		kbus_move_setaside(ks);
	kbus_wake_senders(dev);
	if (!locked)
		mutex_unlock(&dev->lock);
}

/* NEXTMSG: make the head of the queue the message being read; its length. */
static long kbus_nextmsg(struct kbus_ksock *ks, u32 *len)
{
	struct kbus_unreplied *u = NULL;
	struct kbus_msg *old;
	struct kbus_qentry *e;
	bool answer;

	*len = 0;
	kbus_fill_empty(ks);
	spin_lock(&ks->qlock);
	e = kbus_first(ks);
	answer = e && (e->flags & KBUS_BIT_WANT_YOU_TO_REPLY);
	if (answer) {
		/* It stays the head: see kbus_pop_prepare. */
		spin_unlock(&ks->qlock);
		if (kbus_pop_prepare(ks, &u)) {
			kfree(u);
			kbus_drop_read(ks);
			return -ENOMEM;
		}
		spin_lock(&ks->qlock);
		e = kbus_first(ks);
		if (WARN_ON_ONCE(!e || !(e->flags & KBUS_BIT_WANT_YOU_TO_REPLY))) {
			kfree(u);
			u = NULL;
		}
	}
	old = kbus_detach_read(ks);
	if (e) {
		ks->read_flags = e->flags;
		ks->read_pos = 0;
		ks->read_compat = kbus_compat();
		ks->read_len = kbus_entire_len(e->msg->name_len, e->msg->data_len,
					       ks->read_compat);
		ks->read_msg = kbus_pop(ks, e, u);
		*len = ks->read_len;
	}
	spin_unlock(&ks->qlock);
	kbus_msg_put(old);
	kbus_after_take(ks, !!e, true);
	return !!e;
}

/*
 * Send what this Ksock wrote (SEND, SENDMSG), or retry its pending
 * ALL_OR_WAIT send. The caller holds write_lock: a pointy message's name
 * and data come in before the device lock is taken.
 */
static long kbus_send_written(struct kbus_ksock *ks, struct kbus_msg_id *id)
{
	struct kbus_dev *dev = ks->dev;
	long err;

	lockdep_assert_held(&ks->write_lock);
	err = kbus_fetch_pointy(ks);
	if (err)
		return err;
	if (kbus_lock_interruptible(dev))
		return -ERESTARTSYS;
	err = kbus_send(ks, id);
	mutex_unlock(&dev->lock);
	return err;
}

/*
 * SENDMSG: write the whole message at @arg and send it, exactly as write()
 * and SEND would, with their errors. The id goes into the message's id
 * field, on success and on EAGAIN. A Ksock in the middle of writing or
 * sending another message gets EALREADY.
 */
static long kbus_sendmsg(struct kbus_ksock *ks, void __user *arg)
{
	const char __user *buf = arg;
	bool compat = kbus_compat();
	u32 hsize = kbus_hdr_size(compat);
	struct kbus_msg_id id = { 0, 0 };
	u64 len;
	long err;

	if (!ks->writable)
		return -EBADF;
	if (mutex_lock_interruptible(&ks->write_lock))
		return -ERESTARTSYS;
	err = -EALREADY;
	if (READ_ONCE(ks->sending) || ks->wmsg)
		goto unlock;
	err = kbus_write_msg(ks, buf, hsize);
	if (err < 0)
		goto unlock;
	if (!ks->wmsg->complete) {
		/* The entire form: the rest follows the header. */
		len = kbus_entire_len(ks->wmsg->hdr.name_len, ks->wmsg->hdr.data_len, compat);
		err = kbus_write_msg(ks, buf + hsize, len - hsize);
		if (err < 0)
			goto unlock;
	}
	err = kbus_send_written(ks, &id);
	if (err == -ERESTARTSYS)
		kbus_discard_write(ks);	/* restarted whole: nothing of it stays */
	mutex_unlock(&ks->write_lock);
	if ((err == 0 || err == -EAGAIN) &&
	    copy_to_user((char __user *)arg + offsetof(struct kbus_message_header, id),
			 &id, sizeof(id)))
		return -EFAULT;
	return err;

unlock:
	mutex_unlock(&ks->write_lock);
	return err;
}

/* struct kbus_receive and struct kbus_receive_many in the ILP32 layout. */
struct kbus_compat_receive {
	u32		len;
	u32		timeout_ms;
	compat_uptr_t	buf;
};

struct kbus_compat_receive_many {
	u32		len;
	u32		timeout_ms;
	u32		max;
	u32		count;
	compat_uptr_t	buf;
};

/* What RECVMSG or RECVMANY asks for, in either layout. */
struct kbus_recv_args {
	u32		len;
	u32		timeout_ms;
	u32		max;		/* messages at most: 1 for RECVMSG */
	void __user	*buf;
};

static int kbus_get_receive(unsigned int cmd, void __user *arg, struct kbus_recv_args *r)
{
	struct kbus_compat_receive_many cm;
	struct kbus_compat_receive c;
	struct kbus_receive_many m;
	struct kbus_receive one;

	if (cmd == KBUS_IOC_RECVMSG && kbus_compat()) {
		if (copy_from_user(&c, arg, sizeof(c)))
			return -EFAULT;
		*r = (struct kbus_recv_args){ c.len, c.timeout_ms, 1, compat_ptr(c.buf) };
	} else if (cmd == KBUS_IOC_RECVMSG) {
		if (copy_from_user(&one, arg, sizeof(one)))
			return -EFAULT;
		*r = (struct kbus_recv_args){ one.len, one.timeout_ms, 1, one.buf };
	} else if (kbus_compat()) {
		if (copy_from_user(&cm, arg, sizeof(cm)))
			return -EFAULT;
		*r = (struct kbus_recv_args){ cm.len, cm.timeout_ms, cm.max, compat_ptr(cm.buf) };
	} else {
		if (copy_from_user(&m, arg, sizeof(m)))
			return -EFAULT;
		*r = (struct kbus_recv_args){ m.len, m.timeout_ms, m.max, m.buf };
	}
	if (!r->max)
		r->max = U32_MAX;
	return 0;
}

/*
 * How many messages RECVMANY notes at the head of the queue in one look;
 * kbus/model's ManyBatch is the same number (a host test compares them).
 */
#define KBUS_TAKE_BATCH	16

/* What kbus_take noted at the head of the queue, in queue order. */
struct kbus_noted {
	struct kbus_msg	*msg[KBUS_TAKE_BATCH];
	u32		flags[KBUS_TAKE_BATCH];
	u32		len[KBUS_TAKE_BATCH];
	u32		n;
};

/*
 * Note the messages at the head of the queue that fit in @room bytes, at
 * most @most of them, with a reference each; the first one's length goes
 * to @first whether it fits or not. A request the Ksock is to answer ends
 * the batch: a reply is owed only for a request its reader is about to
 * handle, and the requests behind it stay queued, so that a replier that
 * dies leaves them GoneAway, as with RECVMSG, not Ignored (§7.1).
 */
static void kbus_note_head(struct kbus_ksock *ks, struct kbus_noted *nt, u32 room, u32 most,
			   bool compat, u32 *first)
{
	struct kbus_qentry *e;
	u32 len;

	lockdep_assert_held(&ks->qlock);
	nt->n = 0;
	for (e = kbus_first(ks); e && nt->n < min_t(u32, most, KBUS_TAKE_BATCH);
	     e = list_is_last(&e->node, &ks->queue) ? NULL : list_next_entry(e, node)) {
		len = kbus_entire_len(e->msg->name_len, e->msg->data_len, compat);
		if (!nt->n && first)
			*first = len;
		if (len > room)
			return;
		room -= len;
		nt->msg[nt->n] = kbus_msg_get(e->msg);
		nt->flags[nt->n] = e->flags;
		nt->len[nt->n++] = len;
		if (e->flags & KBUS_BIT_WANT_YOU_TO_REPLY)
			return;
	}
}

/* Whether the head of the queue is still the @i-th message noted. */
static struct kbus_qentry *kbus_still_head(struct kbus_ksock *ks, const struct kbus_noted *nt,
					   u32 i)
{
	struct kbus_qentry *e = kbus_first(ks);

	return e && e->msg == nt->msg[i] && e->flags == nt->flags[i] ? e : NULL;
}

/*
 * Take the first @n of @nt off the queue, as long as they are still its
 * head in the same order with the same flags: how many were taken, or an
 * error if not even the first could be (it stays queued). Plain messages
 * are taken under qlock alone; a request to answer, only ever the last
 * noted, under the device lock too, which the record of the reply owed
 * needs (@intr if waiting for it is interrupted).
 */
static long kbus_take_noted(struct kbus_ksock *ks, const struct kbus_noted *nt, u32 n, long intr)
{
	bool answer = n && (nt->flags[n - 1] & KBUS_BIT_WANT_YOU_TO_REPLY);
	struct kbus_msg *put[KBUS_TAKE_BATCH];
	struct kbus_dev *dev = ks->dev;
	struct kbus_unreplied *u;
	struct kbus_qentry *e;
	bool locked = false;
	u32 plain = n - answer, i;
	long err = 0;

	spin_lock(&ks->qlock);
	for (i = 0; i < plain && (e = kbus_still_head(ks, nt, i)); i++)
		put[i] = kbus_pop(ks, e, NULL);
	spin_unlock(&ks->qlock);
	if (answer && i == plain) {
		if (kbus_lock_interruptible(dev)) {
			err = intr;
		} else {
			locked = true;
			err = kbus_pop_prepare(ks, &u);
			if (err) {
				kfree(u);
			} else {
				spin_lock(&ks->qlock);
				e = kbus_still_head(ks, nt, i);
				if (e)
					put[i++] = kbus_pop(ks, e, u);
				spin_unlock(&ks->qlock);
				if (!e)
					kfree(u);
			}
		}
	}
	kbus_after_take(ks, i, locked);
	if (locked)
		mutex_unlock(&dev->lock);
	for (n = 0; n < i; n++)
		kbus_msg_put(put[n]);
	return i ? i : err;
}

/*
 * kbus_take - copy messages from the head of the queue into @r->buf whole,
 * back to back, and take them off the queue: at most @r->max, as many as
 * fit in @r->len bytes. Returns how many (0 if the queue is empty) or an
 * error, after which nothing was taken; @used is the bytes they fill,
 * @first the length of the first message looked at (also when it did not
 * fit: EMSGSIZE).
 *
 * The copies are made with no lock held (§18.2): the messages at the head
 * are noted under qlock, copied after releasing it, and taken off the
 * queue under it again while they are still its head in the same order
 * with the same flags, so what was copied is what was taken. If the head
 * changed meanwhile (an urgent message, another thread of this Ksock),
 * the rest is looked at again.
 */
static long kbus_take(struct kbus_ksock *ks, const struct kbus_recv_args *r, u32 *used,
		      u32 *first, bool forever)
{
	long intr = forever ? -ERESTARTSYS : -EINTR;
	struct kbus_dev *dev = ks->dev;
	bool compat = kbus_compat();
	struct kbus_msg *old = NULL;
	struct kbus_noted nt;
	u32 taken = 0, copied, pos, i;
	long err = 0, got;

	*used = 0;
	*first = 0;
	while (taken < r->max) {
		/*
		 * Set-aside events enter only an empty queue, under the device
		 * lock; this look without it only decides whether to take that
		 * lock. A stale yes costs a lock under which kbus_fill_empty
		 * finds nothing to do. A stale no is as if the call had come a
		 * moment earlier: setting an event aside wakes the Ksock's
		 * readers, and a waiting reader's condition (kbus_readable)
		 * counts set-aside events, so it comes round again.
		 */
		if (!READ_ONCE(ks->queue_len) && READ_ONCE(ks->num_setaside)) {
			if (kbus_lock_interruptible(dev)) {
				err = intr;
				break;
			}
			kbus_fill_empty(ks);
			mutex_unlock(&dev->lock);
		}
		spin_lock(&ks->qlock);
		if (!taken)
			old = kbus_detach_read(ks);	/* once per call */
		kbus_note_head(ks, &nt, r->len - *used, r->max - taken, compat,
			       taken ? NULL : first);
		spin_unlock(&ks->qlock);
		kbus_msg_put(old);
		old = NULL;
		if (!nt.n) {
			err = *first && !taken ? -EMSGSIZE : 0;
			break;
		}
		for (copied = 0, pos = *used; copied < nt.n; pos += nt.len[copied++])
			if (kbus_msg_copy_out(nt.msg[copied], nt.flags[copied], compat, 0,
					      (char __user *)r->buf + pos, nt.len[copied]))
				break;
		got = copied ? kbus_take_noted(ks, &nt, copied, intr) : -EFAULT;
		for (i = 0; i < nt.n; i++) {
			if (got > 0 && i < got)
				*used += nt.len[i];
			kbus_msg_put(nt.msg[i]);
		}
		if (got < 0) {
			err = got;
			break;
		}
		taken += got;
		/* A copy that failed, or the last of the queue or the room: done. */
		if (copied < nt.n || (got == nt.n && nt.n < KBUS_TAKE_BATCH))
			break;
	}
	return taken ? taken : err;
}

static bool kbus_readable(const struct kbus_ksock *ks)
{
	return READ_ONCE(ks->queue_len) || READ_ONCE(ks->num_setaside);
}

/*
 * RECVMSG and RECVMANY: the next message, or the next messages, in one
 * call, waiting for the first as the argument says. A signal ends a wait
 * with a limit with EINTR, and restarts one without (ERESTARTSYS). A
 * close() of the file by another thread does not end the wait, as for
 * sockets: the file stays open until the ioctl returns.
 */
static long kbus_recvmsg(struct file *file, struct kbus_ksock *ks, unsigned int cmd,
			 void __user *arg)
{
	struct kbus_recv_args r;
	u32 used, first, len;
	bool forever;
	long left, ret;

	ret = kbus_get_receive(cmd, arg, &r);
	if (ret)
		return ret;
	forever = r.timeout_ms == KBUS_WAIT_FOREVER;
	left = forever ? MAX_SCHEDULE_TIMEOUT : msecs_to_jiffies(r.timeout_ms);
	for (;;) {
		ret = kbus_take(ks, &r, &used, &first, forever);
		/* len is the first field in every layout, count the fourth. */
		len = ret > 0 ? used : first;
		if (len && put_user(len, (u32 __user *)arg))
			return -EFAULT;
		if (cmd == KBUS_IOC_RECVMANY && ret > 0 &&
		    put_user((u32)ret, (u32 __user *)arg + 3))
			return -EFAULT;
		if (ret > 0)
			return cmd == KBUS_IOC_RECVMSG ? used : ret;
		if (ret)
			return ret;
		if (!r.timeout_ms || (file->f_flags & O_NONBLOCK))
			return -EAGAIN;
		if (!left)
			return -ETIMEDOUT;
		left = wait_event_interruptible_timeout(ks->readq, kbus_readable(ks), left);
		if (left < 0)
			return forever ? -ERESTARTSYS : -EINTR;
	}
}

/* struct kbus_bind_request and kbus_bind_query in the ILP32 layout. */
struct kbus_compat_bind {
	u32		first;	/* is_replier or return_id */
	u32		name_len;
	compat_uptr_t	name;
};

/* Copy a bind request or query in the caller's layout. */
static int kbus_get_bind(void __user *arg, u32 *first, u32 *name_len, char __user **name)
{
	struct kbus_compat_bind c;
	struct kbus_bind_request req;

	if (kbus_compat()) {
		if (copy_from_user(&c, arg, sizeof(c)))
			return -EFAULT;
		*first = c.first;
		*name_len = c.name_len;
		*name = compat_ptr(c.name);
		return 0;
	}
	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	*first = req.is_replier;
	*name_len = req.name_len;
	*name = req.name;
	return 0;
}

/*
 * The name of a BIND, UNBIND or REPLIER, copied in before the device lock
 * is taken, so that a fault on it (a page on its way from swap, a
 * userfaultfd page) holds up only the caller. The checks that need nothing
 * of the device come with it, in the order docs/kbus.md gives their errors.
 */
struct kbus_name_args {
	u32	first;		/* is_replier, or REPLIER's return_id */
	u32	name_len;
	char	*name;		/* kmalloc'ed, NUL-terminated */
};

static int kbus_get_name_args(unsigned int cmd, void __user *arg, struct kbus_name_args *a)
{
	char __user *uname;
	int err;

	err = kbus_get_bind(arg, &a->first, &a->name_len, &uname);
	if (err)
		return err;
	if (a->name_len == 0)
		return cmd == KBUS_IOC_REPLIER ? -ENAMETOOLONG : -EBADMSG;
	if (a->name_len > KBUS_MAX_NAME_LEN)
		return -ENAMETOOLONG;
	a->name = kmalloc(a->name_len + 1, KBUS_GFP_USER);
	if (!a->name)
		return -ENOMEM;
	if (copy_from_user(a->name, uname, a->name_len)) {
		err = -EFAULT;
		goto free;
	}
	a->name[a->name_len] = '\0';
	if (cmd != KBUS_IOC_REPLIER && !kbus_name_valid(a->name, a->name_len, true)) {
		err = -EBADMSG;
		goto free;
	}
	return 0;

free:
	kfree(a->name);
	return err;
}

/*
 * BIND, UNBIND and REPLIER: the name comes in before the device lock and
 * REPLIER's answer goes out after it (its place was checked writable
 * before, kbus_check_result).
 */
static long kbus_name_ioctl(struct kbus_ksock *ks, unsigned int cmd, void __user *arg,
			    bool limited)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_name_args a;
	struct kbus_binding *b;
	u32 return_id = 0;
	long err;

	err = kbus_get_name_args(cmd, arg, &a);
	if (err)
		return err;
	if (kbus_lock_interruptible(dev)) {
		kfree(a.name);
		return -ERESTARTSYS;
	}
	switch (cmd) {
	case KBUS_IOC_BIND:
		err = kbus_bind(ks, a.first, a.name, a.name_len, limited);
		break;
	case KBUS_IOC_UNBIND:
		err = kbus_unbind(ks, a.first, a.name, a.name_len);
		break;
	default:
		b = kbus_find_replier_exact(dev, a.name, a.name_len);
		return_id = b ? b->ksock->id : 0;
		err = b ? 1 : 0;
	}
	mutex_unlock(&dev->lock);
	kfree(a.name);
	/* return_id is the first field in both layouts. */
	if (cmd == KBUS_IOC_REPLIER && put_user(return_id, (u32 __user *)arg))
		return -EFAULT;
	return err;
}

/* MAXMSGSIZE: @val in, the size out; 0 asks, 1 asks for the ceiling. */
static long kbus_maxmsgsize_ioctl(struct kbus_dev *dev, u32 *val)
{
	if (*val == 1) {
		*val = KBUS_ABS_MAX_MESSAGE_SIZE;
	} else if (*val == 0) {
		*val = dev->max_message_size;
	} else {
		if (*val < KBUS_MIN_MAX_MESSAGE_SIZE || *val > KBUS_ABS_MAX_MESSAGE_SIZE)
			return -EINVAL;
		WRITE_ONCE(dev->max_message_size, *val);
	}
	return 0;
}

/* MSGONLYONCE, VERBOSE, REPORTREPLIERBINDS: 0, 1 or KBUS_QUERY in. */
static int kbus_check_switch(u32 val)
{
	return (val == 0 || val == 1 || val == KBUS_QUERY) ? 0 : -EINVAL;
}

/* An ioctl's argument, in kernel memory while the device lock is held. */
union kbus_ioc_arg {
	u32			val;
	struct kbus_msg_id	id;
};

/*
 * The ioctls that take only the device lock: @a holds what came in and
 * takes what goes out, which the caller copies after releasing the lock.
 */
static long kbus_locked_ioctl(struct kbus_ksock *ks, unsigned int cmd, union kbus_ioc_arg *a)
{
	struct kbus_dev *dev = ks->dev;
	u32 val = a->val, old;
	long err;

	switch (cmd) {
	case KBUS_IOC_RESET:
		return 0;
	case KBUS_IOC_KSOCKID:
		a->val = ks->id;
		return 0;
	case KBUS_IOC_NEXTMSG:
		return kbus_nextmsg(ks, &a->val);
	case KBUS_IOC_LENLEFT:
		spin_lock(&ks->qlock);
		a->val = ks->read_msg ? ks->read_len - ks->read_pos : 0;
		spin_unlock(&ks->qlock);
		return 0;
	case KBUS_IOC_LASTSENT:
		a->id = ks->last_sent;
		return 0;
	case KBUS_IOC_MAXMSGS:
		if (val) {
			ks->max_messages = val;
			kbus_wake_senders(dev);
		}
		a->val = ks->max_messages;
		return 0;
	case KBUS_IOC_NUMMSGS:
		a->val = READ_ONCE(ks->queue_len) + ks->num_setaside;
		return 0;
	case KBUS_IOC_UNREPLIEDTO:
		a->val = ks->unreplied_ids.count;
		return 0;
	case KBUS_IOC_MSGONLYONCE:
		old = ks->only_once;
		if (val != KBUS_QUERY)
			ks->only_once = val;
		a->val = old;
		return 0;
	case KBUS_IOC_VERBOSE:
		old = dev->verbose;
		if (val != KBUS_QUERY)
			dev->verbose = val;
		a->val = old;
		return 0;
	case KBUS_IOC_REPORTREPLIERBINDS:
		old = dev->report_binds;
		if (val != KBUS_QUERY)
			dev->report_binds = val;
		if (val == 1) {
			err = kbus_replay_binds(ks);
			if (err)
				return err;
		}
		a->val = old;
		return 0;
	case KBUS_IOC_MAXMSGSIZE:
		return kbus_maxmsgsize_ioctl(dev, &a->val);
	default:
		return -ENOTTY;
	}
}

/*
 * The ioctls that work on the message being written take the Ksock's
 * write_lock first: a pointy message's name and data are read under it,
 * not under the device lock.
 */
static long kbus_write_ioctl(struct kbus_ksock *ks, unsigned int cmd, void __user *arg)
{
	struct kbus_msg_id id = { 0, 0 };
	long err;

	if (cmd == KBUS_IOC_SENDMSG)
		return kbus_sendmsg(ks, arg);	/* EBADF comes before the lock */
	if (mutex_lock_interruptible(&ks->write_lock))
		return -ERESTARTSYS;
	if (cmd == KBUS_IOC_SEND) {
		err = kbus_send_written(ks, &id);
	} else {	/* DISCARD */
		kbus_discard_write(ks);
		err = kbus_lock_interruptible(ks->dev) ? -ERESTARTSYS : 0;
		if (!err) {
			kbus_stop_sending(ks);
			mutex_unlock(&ks->dev->lock);
		}
	}
	mutex_unlock(&ks->write_lock);
	if (cmd == KBUS_IOC_SEND && (err == 0 || err == -EAGAIN) &&
	    copy_to_user(arg, &id, sizeof(id)))
		return -EFAULT;
	return err;
}

/* Where an ioctl's argument is read (in) and its result written (len). */
struct kbus_arg_at {
	u8 off;
	u8 len;		/* 0: the ioctl writes nothing back */
	bool in;	/* a u32 at the start is read first */
};

static const struct kbus_arg_at kbus_args[KBUS_IOC_MAXNR_EXT + 1] = {
	[_IOC_NR(KBUS_IOC_KSOCKID)] = { 0, sizeof(u32) },
	[_IOC_NR(KBUS_IOC_REPLIER)] = { 0, sizeof(u32) },		/* return_id */
	[_IOC_NR(KBUS_IOC_NEXTMSG)] = { 0, sizeof(u32) },
	[_IOC_NR(KBUS_IOC_LENLEFT)] = { 0, sizeof(u32) },
	[_IOC_NR(KBUS_IOC_SEND)] = { 0, sizeof(struct kbus_msg_id) },
	[_IOC_NR(KBUS_IOC_LASTSENT)] = { 0, sizeof(struct kbus_msg_id) },
	[_IOC_NR(KBUS_IOC_MAXMSGS)] = { 0, sizeof(u32), true },
	[_IOC_NR(KBUS_IOC_NUMMSGS)] = { 0, sizeof(u32) },
	[_IOC_NR(KBUS_IOC_UNREPLIEDTO)] = { 0, sizeof(u32) },
	[_IOC_NR(KBUS_IOC_MSGONLYONCE)] = { 0, sizeof(u32), true },
	[_IOC_NR(KBUS_IOC_VERBOSE)] = { 0, sizeof(u32), true },
	[_IOC_NR(KBUS_IOC_NEWDEVICE)] = { 0, sizeof(u32) },
	[_IOC_NR(KBUS_IOC_REPORTREPLIERBINDS)] = { 0, sizeof(u32), true },
	[_IOC_NR(KBUS_IOC_MAXMSGSIZE)] = { 0, sizeof(u32), true },
	[_IOC_NR(KBUS_IOC_SENDMSG)] = {
		offsetof(struct kbus_message_header, id), sizeof(struct kbus_msg_id)
	},
	[_IOC_NR(KBUS_IOC_RECVMSG)] = { 0, sizeof(u32) },		/* len */
	[_IOC_NR(KBUS_IOC_RECVMANY)] = { 0, 4 * sizeof(u32) },	/* len ... count */
};

/*
 * EFAULT, before anything is done, if the place an ioctl writes its result
 * cannot be read and written: its bytes are copied in and back unchanged.
 * So a SEND whose id cannot be written sends nothing, and a NEXTMSG whose
 * length cannot be written takes nothing off the queue (docs/kbus.md
 * §18.4). The caller has checked the command's number.
 */
static int kbus_check_result(unsigned int cmd, void __user *arg)
{
	const struct kbus_arg_at *at = &kbus_args[_IOC_NR(cmd)];
	char __user *p = (char __user *)arg + at->off;
	u8 buf[4 * sizeof(u32)];

	if (!at->len)
		return 0;
	if (copy_from_user(buf, p, at->len) || copy_to_user(p, buf, at->len))
		return -EFAULT;
	return 0;
}

/*
 * Changes that every Ksock of the device sees (docs/kbus.md §18.5): only
 * for the owner of the node the Ksock was opened through, or a caller
 * with CAP_SYS_ADMIN. Asking is anyone's.
 */
static bool kbus_may_change_device(struct file *file)
{
	return uid_eq(current_fsuid(), file_inode(file)->i_uid) || capable(CAP_SYS_ADMIN);
}

/*
 * The same test for BIND, whose callers without those privileges have
 * their bindings counted (docs/kbus.md §18.5). Not audited: a BIND is not
 * refused for want of the capability, only counted.
 */
static bool kbus_bind_limited(struct file *file)
{
	return !uid_eq(current_fsuid(), file_inode(file)->i_uid) &&
	       !has_capability_noaudit(current, CAP_SYS_ADMIN);
}

static bool kbus_changes_device(unsigned int cmd, u32 val)
{
	switch (cmd) {
	case KBUS_IOC_NEWDEVICE:
		return true;
	case KBUS_IOC_VERBOSE:
	case KBUS_IOC_REPORTREPLIERBINDS:
		return val != KBUS_QUERY;
	case KBUS_IOC_MAXMSGSIZE:
		return val > 1;		/* 0 and 1 ask */
	default:
		return false;
	}
}

static long kbus_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kbus_ksock *ks = file->private_data;
	struct kbus_dev *dev = ks->dev;
	void __user *uarg = (void __user *)arg;
	const struct kbus_arg_at *at;
	union kbus_ioc_arg a = { .val = 0 };
	long err;

	if (_IOC_TYPE(cmd) != KBUS_IOC_MAGIC || _IOC_NR(cmd) > KBUS_IOC_MAXNR_EXT)
		return -ENOTTY;
	if (_IOC_DIR(cmd) != _IOC_NONE && !access_ok(uarg, _IOC_SIZE(cmd)))
		return -EFAULT;
	err = kbus_check_result(cmd, uarg);
	if (err)
		return err;

	switch (cmd) {
	case KBUS_IOC_RECVMSG:
	case KBUS_IOC_RECVMANY:
		return kbus_recvmsg(file, ks, cmd, uarg);	/* may wait; copies out unlocked */
	case KBUS_IOC_BIND:
		/* copies the name in first */
		return kbus_name_ioctl(ks, cmd, uarg, kbus_bind_limited(file));
	case KBUS_IOC_UNBIND:
	case KBUS_IOC_REPLIER:
		return kbus_name_ioctl(ks, cmd, uarg, false);
	case KBUS_IOC_SEND:
	case KBUS_IOC_SENDMSG:
	case KBUS_IOC_DISCARD:
		return kbus_write_ioctl(ks, cmd, uarg);
	case KBUS_IOC_NEWDEVICE:
		if (!kbus_may_change_device(file))
			return -EPERM;
		/* Takes the device table lock, never under a device lock. */
		err = kbus_new_device(&a.val);
		if (err)
			return err;
		return put_user(a.val, (u32 __user *)uarg) ? -EFAULT : 0;
	}

	at = &kbus_args[_IOC_NR(cmd)];
	if (at->in && get_user(a.val, (u32 __user *)uarg))
		return -EFAULT;
	if (cmd == KBUS_IOC_MSGONLYONCE || cmd == KBUS_IOC_VERBOSE ||
	    cmd == KBUS_IOC_REPORTREPLIERBINDS) {
		err = kbus_check_switch(a.val);
		if (err)
			return err;
	}
	if (kbus_changes_device(cmd, a.val) && !kbus_may_change_device(file))
		return -EPERM;
	if (kbus_lock_interruptible(dev))
		return -ERESTARTSYS;
	err = kbus_locked_ioctl(ks, cmd, &a);
	mutex_unlock(&dev->lock);
	if (err >= 0 && at->len && copy_to_user((u8 __user *)uarg + at->off, &a, at->len))
		return -EFAULT;
	return err;
}

#ifdef CONFIG_COMPAT
/*
 * 32-bit callers encode a 4-byte argument size in every command but RESET
 * and DISCARD; the structures they pass are translated where used.
 */
static long kbus_compat_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (_IOC_TYPE(cmd) == KBUS_IOC_MAGIC && _IOC_DIR(cmd) != _IOC_NONE &&
	    _IOC_SIZE(cmd) == sizeof(compat_uptr_t))
		cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), sizeof(char *));
	return kbus_ioctl(file, cmd, (unsigned long)compat_ptr(arg));
}
#endif

const struct file_operations kbus_fops = {
	.owner		= THIS_MODULE,
	.open		= kbus_open,
	.release	= kbus_release,
	.read		= kbus_read,
	.write		= kbus_write,
	.poll		= kbus_poll,
	.unlocked_ioctl	= kbus_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl	= kbus_compat_ioctl,
#endif
	.llseek		= kbus_no_llseek,
};
