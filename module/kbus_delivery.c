// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS delivery: SEND, queues, reserved reply slots, the status messages
 * that keep the promise that every request gets exactly one reply, replier
 * bind events and the unsent-unbind-event ("set-aside") list.
 *
 * Every function here runs under the device lock (kbus_internal.h); the
 * exported ones assert it (lockdep).
 *
 * Decisions where this module differs from the original (see README.md):
 *  - A replier that unbinds or closes with a request still queued always
 *    sends the status (Unbound / GoneAway), stateful requests included (the
 *    original skipped requests whose "to" was the replier itself and leaked
 *    the sender's reserved slot, docs/kbus.md §16.1). On close, requests the Ksock
 *    sent to itself get none: it is going away.
 *  - Unbound, GoneAway and Ignored reach a Ksock only while it still awaits
 *    a reply to that request, so a request answered early and then ignored
 *    gets no second reply (docs/kbus.md §16.11).
 *  - Senders waiting in poll for an ALL_OR_WAIT send are woken whenever a
 *    queue shrinks, a Ksock opens or closes, a binding comes or goes, a
 *    reserved slot is released or MAXMSGS changes (docs/kbus.md §17.4).
 *
 * Memory: what a Ksock's action makes KBUS allocate is charged to that
 * Ksock's memory cgroup, and fails with ENOMEM before anything changes;
 * only what a message's receivers hold (their queue entries, and a copy
 * of the message for a receiver in another cgroup) is charged to them, and
 * a receiver at its limit has no room, as a full queue (docs/kbus.md §18.1).
 * The status a request may need (Unbound, GoneAway, Ignored, ...) is
 * allocated when the request is sent, with its queue entry, so keeping the
 * reply guarantee never allocates. Only a closing Ksock's unbind events and
 * their set-aside entries must not fail (__GFP_NOFAIL); there are at most
 * as many as the Ksock had replier bindings, each of them charged.
 */
#include <linux/memcontrol.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "kbus_internal.h"

/*
 * Under the device lock a queue only shrinks behind our back (its reader
 * takes messages under qlock alone): a length read a moment early is one
 * read before that reader, as if this send had come first.
 */
bool kbus_ksock_full(const struct kbus_ksock *ks, u32 reserved_credit)
{
	u64 used = (u64)READ_ONCE(ks->queue_len) + ks->outstanding.count;

	lockdep_assert_held(&ks->dev->lock);
	return used >= (u64)ks->max_messages + reserved_credit;
}

/* No room in @ks's queue for @msg: MAXMSGS, or its bytes (§18.1). */
static bool kbus_no_room(const struct kbus_ksock *ks, const struct kbus_msg *msg)
{
	return kbus_ksock_full(ks, 0) ||
	       READ_ONCE(ks->queue_bytes) + kbus_msg_bytes(msg) > kbus_max_queue_bytes;
}

/* kbus_unqueue - take @e off @ks's queue; the caller frees it. */
void kbus_unqueue(struct kbus_ksock *ks, struct kbus_qentry *e)
{
	lockdep_assert_held(&ks->qlock);
	list_del(&e->node);
	if (e->binding)
		list_del(&e->bnode);
	WRITE_ONCE(ks->queue_len, ks->queue_len - 1);
	WRITE_ONCE(ks->queue_bytes, ks->queue_bytes - kbus_msg_bytes(e->msg));
}

struct kbus_ksock *kbus_find_ksock(struct kbus_dev *dev, u32 id)
{
	lockdep_assert_held(&dev->lock);
	return id ? xa_load(&dev->ksock_ids, id) : NULL;
}

/*
 * kbus_wake_senders - something changed that may let a pending ALL_OR_WAIT
 * send complete: a queue shrank, a Ksock opened or closed, a binding came
 * or went, a reserved slot was released, MAXMSGS changed. Only the Ksocks
 * with a send pending are woken, keyed EPOLLOUT, so nobody else pays.
 */
void kbus_wake_senders(struct kbus_dev *dev)
{
	struct kbus_ksock *ks;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry(ks, &dev->senders, sending_node) {
		/*
		 * kbus_poll registers on writeq without the lock: the barrier
		 * in wq_has_sleeper pairs with the one after its registration.
		 */
		if (wq_has_sleeper(&ks->writeq))
			wake_up_interruptible_poll(&ks->writeq, EPOLLOUT | EPOLLWRNORM);
	}
}

/* kbus_start_sending - @msg is now @ks's pending ALL_OR_WAIT send. */
void kbus_start_sending(struct kbus_ksock *ks, struct kbus_msg *msg)
{
	lockdep_assert_held(&ks->dev->lock);
	ks->pending = msg;
	WRITE_ONCE(ks->sending, true);
	list_add_tail(&ks->sending_node, &ks->dev->senders);
}

/* kbus_stop_sending - drop @ks's pending send, if it has one. */
void kbus_stop_sending(struct kbus_ksock *ks)
{
	lockdep_assert_held(&ks->dev->lock);
	if (!ks->sending)
		return;
	list_del_init(&ks->sending_node);
	kbus_msg_put(ks->pending);
	kbus_status_release(&ks->pending_status);
	ks->pending = NULL;
	WRITE_ONCE(ks->sending, false);
}

/*
 * Queue entries come from a cache of their own (SLAB_ACCOUNT): a message
 * to many listeners takes one from it per listener, each charged to its
 * listener's memory cgroup (kbus_prepare).
 */
static struct kmem_cache *kbus_qentry_cache;

int kbus_qentry_cache_init(void)
{
	kbus_qentry_cache = KMEM_CACHE(kbus_qentry, SLAB_ACCOUNT);
	return kbus_qentry_cache ? 0 : -ENOMEM;
}

void kbus_qentry_cache_exit(void)
{
	kmem_cache_destroy(kbus_qentry_cache);
}

void kbus_qentry_free(struct kbus_qentry *e)
{
	kmem_cache_free(kbus_qentry_cache, e);
}

struct kbus_qentry *kbus_qentry_alloc(gfp_t gfp)
{
	return kmem_cache_alloc(kbus_qentry_cache, gfp);
}

/* kbus_status_reserve - the message and queue entry of a status, ahead. */
int kbus_status_reserve(struct kbus_status *st)
{
	st->msg = kbus_status_alloc();
	st->entry = st->msg ? kbus_qentry_alloc(KBUS_GFP_USER) : NULL;
	if (st->entry)
		return 0;
	kbus_msg_put(st->msg);
	st->msg = NULL;
	return -ENOMEM;
}

/* kbus_status_release - a reserved status that is no longer needed. */
void kbus_status_release(struct kbus_status *st)
{
	kbus_msg_put(st->msg);
	if (st->entry)
		kbus_qentry_free(st->entry);
	st->msg = NULL;
	st->entry = NULL;
}

static void kbus_queue_entry(struct kbus_ksock *ks, struct kbus_qentry *e, struct kbus_msg *msg,
			     struct kbus_binding *binding, u32 flags)
{
	bool woken;

	e->msg = kbus_msg_get(msg);
	e->binding = binding;
	e->flags = flags;
	spin_lock(&ks->qlock);
	/*
	 * A second copy of the message for this Ksock, the first still
	 * queued: its reader was woken for the first.
	 */
	woken = ks->queue_len && kbus_id_eq(ks->last_pushed, msg->id);
	/* binding->queued is in queue order too: UNBIND answers in it. */
	if (msg->flags & KBUS_BIT_URGENT) {
		list_add(&e->node, &ks->queue);
		if (binding)
			list_add(&e->bnode, &binding->queued);
	} else {
		list_add_tail(&e->node, &ks->queue);
		if (binding)
			list_add_tail(&e->bnode, &binding->queued);
	}
	WRITE_ONCE(ks->queue_len, ks->queue_len + 1);
	WRITE_ONCE(ks->queue_bytes, ks->queue_bytes + kbus_msg_bytes(msg));
	ks->last_pushed = msg->id;
	spin_unlock(&ks->qlock);
	if (woken)
		return;
	/*
	 * Readers wait with no lock held: the barrier in wq_has_sleeper
	 * orders the queue_len store above before the look at the wait
	 * queue, pairing with the one in prepare_to_wait, so a RECVMSG that
	 * registers now either sees the message or is woken (docs/kbus.md
	 * §18.2). Keyed, so a poller waiting only to write stays asleep.
	 * Requests and replies wake the reader as pipes and Unix sockets do,
	 * with the sync hint: their sender usually waits next (for the reply,
	 * or for the next request), so the scheduler may hand it the CPU
	 * rather than wake it on another one; a round trip gained about 40%
	 * under TCG. An announcement's sender goes on sending, so it gets no
	 * hint.
	 */
	if (!wq_has_sleeper(&ks->readq))
		return;
	if ((msg->flags & KBUS_BIT_WANT_A_REPLY) || msg->in_reply_to.serial_num)
		wake_up_interruptible_sync_poll(&ks->readq, EPOLLIN | EPOLLRDNORM);
	else
		wake_up_interruptible_poll(&ks->readq, EPOLLIN | EPOLLRDNORM);
}

/*
 * kbus_push - queue a copy of @msg in the entry @e, allocated by the
 * caller, without a capacity check (status messages, set-aside moves,
 * replayed bind events). With @check_once, MSGONLYONCE may skip it, and
 * @e is freed.
 */
void kbus_push(struct kbus_ksock *ks, struct kbus_qentry *e, struct kbus_msg *msg,
	       struct kbus_binding *binding, u32 flags, bool check_once)
{
	lockdep_assert_held(&ks->dev->lock);
	if (check_once && ks->only_once && kbus_id_eq(ks->last_pushed, msg->id)) {
		kbus_qentry_free(e);
		return;
	}
	kbus_queue_entry(ks, e, msg, binding, flags);
}

static struct kbus_outstanding *kbus_outstanding_find(const struct kbus_ksock *ks,
						      struct kbus_msg_id id)
{
	struct hlist_head *chain = kbus_idset_chain(ks->dev, &ks->outstanding, id);
	struct kbus_outstanding *o;

	if (!chain)
		return NULL;
	hlist_for_each_entry(o, chain, n.node)
		if (kbus_id_eq(o->n.id, id))
			return o;
	return NULL;
}

bool kbus_outstanding_has(const struct kbus_ksock *ks, struct kbus_msg_id id)
{
	lockdep_assert_held(&ks->dev->lock);
	return kbus_outstanding_find(ks, id);
}

static void kbus_outstanding_put(struct kbus_outstanding *o)
{
	if (!o)
		return;
	kbus_status_release(&o->status);
	kfree(o);
}

/* Forget the outstanding request @o; its reserved status goes with it. */
static void kbus_outstanding_drop(struct kbus_ksock *ks, struct kbus_outstanding *o)
{
	kbus_idset_del(&ks->outstanding, &o->n);
	kbus_outstanding_put(o);
	kbus_wake_senders(ks->dev);
}

void kbus_outstanding_remove(struct kbus_ksock *ks, struct kbus_msg_id id)
{
	struct kbus_outstanding *o;

	lockdep_assert_held(&ks->dev->lock);
	o = kbus_outstanding_find(ks, id);
	if (o)
		kbus_outstanding_drop(ks, o);
}

/* kbus_outstanding_free - a closing Ksock's outstanding requests. */
void kbus_outstanding_free(struct kbus_ksock *ks)
{
	struct kbus_outstanding *o;
	struct hlist_node *tmp;
	u32 i;

	lockdep_assert_held(&ks->dev->lock);
	for (i = 0; ks->outstanding.heads && i < (1U << ks->outstanding.bits); i++) {
		hlist_for_each_entry_safe(o, tmp, &ks->outstanding.heads[i], n.node)
			kbus_outstanding_put(o);
		cond_resched();
	}
	kbus_idset_free(&ks->outstanding);
}

/*
 * Make room for one more outstanding request before anything is queued:
 * the record, with the status the request may need, and room for it in
 * the set (MAXMSGS bounds the set, not the page allocator).
 */
static int kbus_outstanding_reserve(struct kbus_ksock *ks, struct kbus_outstanding **op)
{
	int err;

	err = kbus_idset_reserve(ks->dev, &ks->outstanding);
	if (err || *op)
		return err;
	*op = kzalloc(sizeof(**op), KBUS_GFP_USER);
	if (!*op)
		return -ENOMEM;
	return kbus_status_reserve(&(*op)->status);
}

static void kbus_outstanding_add(struct kbus_ksock *ks, struct kbus_msg_id id,
				 struct kbus_outstanding **op)
{
	struct kbus_outstanding *o = *op;

	*op = NULL;
	o->n.id = id;
	kbus_idset_add(ks->dev, &ks->outstanding, &o->n);
	if (ks->outstanding.count > ks->max_outstanding)
		ks->max_outstanding = ks->outstanding.count;
}

static void kbus_unreplied_remove(struct kbus_ksock *ks, struct kbus_msg_id id, u32 from)
{
	struct hlist_head *chain = kbus_idset_chain(ks->dev, &ks->unreplied_ids, id);
	struct kbus_unreplied *u;

	if (!chain)
		return;
	hlist_for_each_entry(u, chain, n.node) {
		if (kbus_id_eq(u->n.id, id) && u->from == from) {
			kbus_idset_del(&ks->unreplied_ids, &u->n);
			list_del(&u->node);
			kfree(u);
			return;
		}
	}
}

/* Queue the reserved status @st as @name to @target, which now owns it. */
static void kbus_status_queue(struct kbus_ksock *target, struct kbus_status *st,
			      const char *name, u32 from, struct kbus_msg_id in_reply_to)
{
	struct kbus_dev *dev = target->dev;
	struct kbus_msg *msg = st->msg;

	/* Reserved with the request: never missing, unless this module is wrong. */
	if (WARN_ON_ONCE(!msg || !st->entry))
		return;
	kbus_status_fill(dev, msg, name);
	msg->from = from;
	msg->to = target->id;
	msg->in_reply_to = in_reply_to;
	kbus_push(target, st->entry, msg, NULL, msg->flags, false);
	/* The queue holds its own reference now. */
	kbus_msg_put(msg);
	st->msg = NULL;
	st->entry = NULL;
	if (dev->verbose)
		pr_info_ratelimited("kbus%u: %s to ksock %u for [%u:%u]\n", dev->index, name,
				    target->id, in_reply_to.network_id, in_reply_to.serial_num);
}

/*
 * kbus_send_status - a status reply from KBUS to the Ksock @to in place of
 * the reply to @in_reply_to, sent only while @to still awaits that reply,
 * from the status reserved with the request. No capacity check: the slot
 * was reserved too.
 */
void kbus_send_status(struct kbus_dev *dev, const char *name, u32 from, u32 to,
		      struct kbus_msg_id in_reply_to)
{
	struct kbus_ksock *target = kbus_find_ksock(dev, to);
	struct kbus_outstanding *o;

	lockdep_assert_held(&dev->lock);
	if (!target)
		return;
	o = kbus_outstanding_find(target, in_reply_to);
	if (!o)
		return;
	kbus_status_queue(target, &o->status, name, from, in_reply_to);
	kbus_outstanding_drop(target, o);
}

/* The last copy of a message made for a receiver in another cgroup. */
struct kbus_copy {
	struct mem_cgroup	*memcg;
	struct kbus_msg		*msg;
};

/*
 * kbus_prepare - the queue entry for a copy of @msg to @ks, charged to
 * @ks's memory cgroup, added to @pool in the order kbus_commit takes them.
 * A receiver in another cgroup than the sender's gets a copy of the message
 * of its own, charged to it too; @copy keeps the last such copy for the
 * next receivers in the same cgroup. Fails with ENOMEM when @ks's cgroup
 * is at its limit: the receiver, not the sender, is short of memory.
 *
 * A listener's entry is allocated without reclaim (KBUS_GFP_LISTENER): a
 * listener at its limit just misses the message, as a datagram socket
 * does, and costs the sender no reclaim in a cgroup not the sender's. The
 * replier of a request and the sender a reply goes to may reclaim
 * (KBUS_GFP_RECEIVER): one each per message.
 */
#define KBUS_GFP_LISTENER	(GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN)
#define KBUS_GFP_RECEIVER	(KBUS_GFP_USER | __GFP_NOWARN)

static int kbus_prepare(struct kbus_ksock *sender, struct kbus_ksock *ks, struct kbus_msg *msg,
			struct kbus_copy *copy, struct list_head *pool, gfp_t gfp)
{
	struct mem_cgroup *old = set_active_memcg(ks->memcg);
	struct kbus_qentry *e = kbus_qentry_alloc(gfp);
	struct kbus_msg *own = NULL;

	if (e && ks->memcg != sender->memcg) {
		if (!copy->msg || copy->memcg != ks->memcg) {
			own = kbus_msg_clone(msg);
			if (own) {
				kbus_msg_put(copy->msg);
				copy->msg = own;
				copy->memcg = ks->memcg;
			}
		}
		own = copy->msg && copy->memcg == ks->memcg ? kbus_msg_get(copy->msg) : NULL;
		if (!own) {
			kbus_qentry_free(e);
			e = NULL;
		}
	}
	set_active_memcg(old);
	if (!e)
		return -ENOMEM;
	e->msg = own;	/* NULL: the message itself */
	list_add_tail(&e->node, pool);
	return 0;
}

/* @n entries for a bind event's copies, charged to the binder. */
static int kbus_prealloc(struct list_head *pool, u32 n)
{
	struct kbus_qentry *e;

	while (n--) {
		e = kbus_qentry_alloc(KBUS_GFP_USER);
		if (!e)
			return -ENOMEM;
		e->msg = NULL;
		list_add(&e->node, pool);
		cond_resched();
	}
	return 0;
}

static struct kbus_qentry *kbus_take(struct list_head *pool)
{
	struct kbus_qentry *e = list_first_entry(pool, struct kbus_qentry, node);

	list_del(&e->node);
	return e;
}

static void kbus_free_pool(struct list_head *pool)
{
	struct kbus_qentry *e, *tmp;

	list_for_each_entry_safe(e, tmp, pool, node) {
		kbus_msg_put(e->msg);
		kbus_qentry_free(e);
		cond_resched();
	}
}

/* Who a message goes to, as kbus_collect found them and the checks left them. */
struct kbus_recipients {
	struct kbus_binding	**listeners;	/* NULL entries miss the message */
	u32			n;
	struct kbus_binding	*replier;	/* of a request, else NULL */
	struct kbus_ksock	*target;	/* of a reply, else NULL */
	struct kbus_outstanding	*outstanding;	/* a request's record, reserved */
};

/*
 * kbus_check_recipients - every check that can refuse @msg, before anything
 * is queued: the replier of a request, the sender of the request a reply
 * answers, room in every queue as the send flags demand (§9.1), and each
 * copy's queue entry, charged to its receiver (kbus_prepare), into @pool.
 * A receiver whose cgroup is at its limit has no room, as a full one.
 * Listeners without room are dropped from @r unless the flags forbid it. A
 * request's reply slot is reserved here; it is used only once the message
 * is queued.
 */
static int kbus_check_recipients(struct kbus_ksock *sender, struct kbus_msg *msg,
				 struct kbus_recipients *r, struct list_head *pool)
{
	bool request = msg->flags & KBUS_BIT_WANT_A_REPLY;
	bool reply = !kbus_id_zero(msg->in_reply_to);
	bool all_or_wait = msg->flags & KBUS_BIT_ALL_OR_WAIT;
	bool all_or_fail = msg->flags & KBUS_BIT_ALL_OR_FAIL;
	int full = all_or_wait ? -EAGAIN : -EBUSY;
	struct kbus_ksock *short_of_memory = NULL;
	struct kbus_copy copy = { };
	int err = 0;
	u32 i;

	/*
	 * Room for the reply in the sender's own queue: the first SEND checks
	 * this before it issues an id; a retry of a pending send must too.
	 */
	if (request && kbus_ksock_full(sender, 0))
		return -ENOLCK;
	if (request && !r->replier)
		return -EADDRNOTAVAIL;
	if (reply) {
		r->target = kbus_find_ksock(sender->dev, msg->to);
		if (!r->target)
			return -EADDRNOTAVAIL;
		if (!kbus_outstanding_has(r->target, msg->in_reply_to))
			return -ECONNREFUSED;
		/* A reply has its slot reserved, whatever its size. */
		if (kbus_ksock_full(r->target, 1) ||
		    kbus_prepare(sender, r->target, msg, &copy, pool, KBUS_GFP_RECEIVER)) {
			err = full;
			goto out;
		}
	}
	if (request) {
		if (msg->to && r->replier->ksock->id != msg->to) {
			err = -EPIPE;
			goto out;
		}
		if (kbus_no_room(r->replier->ksock, msg) ||
		    kbus_prepare(sender, r->replier->ksock, msg, &copy, pool, KBUS_GFP_RECEIVER)) {
			err = full;
			goto out;
		}
		err = kbus_outstanding_reserve(sender, &r->outstanding);
		if (err)
			goto out;
	}
	for (i = 0; i < r->n; i++) {
		struct kbus_ksock *ks = r->listeners[i]->ksock;

		/* A Ksock bound many times that ran short is not asked again. */
		if (ks != short_of_memory && !kbus_no_room(ks, msg)) {
			if (!kbus_prepare(sender, ks, msg, &copy, pool, KBUS_GFP_LISTENER))
				continue;
			short_of_memory = ks;
		}
		if (all_or_wait || all_or_fail) {
			err = full;
			goto out;
		}
		r->listeners[i] = NULL;	/* no room: this listener misses it */
	}
out:
	kbus_msg_put(copy.msg);
	return err;
}

/*
 * Queue the next entry of @pool, for @ks, with its own copy of @msg if
 * kbus_prepare made one. With @check_once (a listener's copy), MSGONLYONCE
 * may skip it, and the entry is freed.
 */
static void kbus_commit_one(struct kbus_ksock *ks, struct list_head *pool, struct kbus_msg *msg,
			    struct kbus_binding *binding, u32 flags, bool check_once)
{
	struct kbus_qentry *e = kbus_take(pool);
	struct kbus_msg *own = e->msg;

	if (check_once && ks->only_once && kbus_id_eq(ks->last_pushed, msg->id))
		kbus_qentry_free(e);
	else
		kbus_queue_entry(ks, e, own ? own : msg, binding, flags);
	kbus_msg_put(own);
}

/*
 * kbus_commit - queue the copies of a checked message, from @pool, which
 * holds an entry for each, in order: nothing can fail now.
 */
static void kbus_commit(struct kbus_ksock *sender, struct kbus_msg *msg,
			struct kbus_recipients *r, struct list_head *pool)
{
	struct kbus_dev *dev = sender->dev;
	u32 plain = msg->flags & ~KBUS_BIT_WANT_YOU_TO_REPLY;
	u32 i;

	if (r->target) {
		kbus_commit_one(r->target, pool, msg, NULL, plain, false);
		kbus_outstanding_remove(r->target, msg->in_reply_to);
		kbus_unreplied_remove(sender, msg->in_reply_to, msg->to);
	}
	if (msg->flags & KBUS_BIT_WANT_A_REPLY) {
		kbus_commit_one(r->replier->ksock, pool, msg, r->replier,
				msg->flags | KBUS_BIT_WANT_YOU_TO_REPLY, false);
		kbus_outstanding_add(sender, msg->id, &r->outstanding);
	}
	for (i = 0; i < r->n; i++) {
		if (r->listeners[i])
			kbus_commit_one(r->listeners[i]->ksock, pool, msg, r->listeners[i], plain,
					true);
		cond_resched();	/* a fan-out may reach millions of bindings */
	}
	if (dev->verbose)
		pr_info_ratelimited("kbus%u: ksock %u sent [%u:%u] %s flags %#x\n", dev->index,
				    sender->id, msg->id.network_id, msg->id.serial_num, msg->name,
				    msg->flags);
}

/*
 * kbus_deliver - deliver @msg from @sender to everyone it is for, or to
 * nobody: every check is made, and every queue entry allocated, before
 * anything is queued (§9.1).
 */
int kbus_deliver(struct kbus_ksock *sender, struct kbus_msg *msg)
{
	struct kbus_binding *stack[KBUS_COLLECT_STACK];
	struct kbus_recipients r = { };
	LIST_HEAD(pool);
	int err;

	lockdep_assert_held(&sender->dev->lock);
	err = kbus_collect(sender->dev, msg, stack, ARRAY_SIZE(stack), &r.listeners, &r.n,
			   &r.replier, KBUS_GFP_USER);
	if (err)
		return err;
	err = kbus_check_recipients(sender, msg, &r, &pool);
	if (!err)
		kbus_commit(sender, msg, &r, &pool);
	kbus_free_pool(&pool);
	kbus_outstanding_put(r.outstanding);
	if (r.listeners != stack)
		kvfree(r.listeners);
	return err;
}

/*
 * kbus_send - the SEND ioctl (§8.2). On success and on EAGAIN the message
 * id is stored in @id.
 */
int kbus_send(struct kbus_ksock *ks, struct kbus_msg_id *id)
{
	struct kbus_msg *msg;
	int err;

	lockdep_assert_held(&ks->dev->lock);
	if (ks->sending) {
		/* A retry of the pending ALL_OR_WAIT send, same id. */
		msg = ks->pending;
		err = kbus_deliver(ks, msg);
		*id = msg->id;
		if (err != -EAGAIN)
			kbus_stop_sending(ks);
		return err;
	}

	err = kbus_finish_write(ks, &msg);
	if (err)
		return err;
	if ((msg->flags & KBUS_BIT_WANT_A_REPLY) && kbus_ksock_full(ks, 0)) {
		kbus_msg_put(msg);
		return -ENOLCK;
	}
	msg->from = ks->id;
	if (msg->id.network_id == 0)
		msg->id = kbus_next_id(ks->dev);
	ks->last_sent = msg->id;

	err = kbus_deliver(ks, msg);
	if (err == 0 || err == -EAGAIN)
		*id = msg->id;
	if (err == -EAGAIN) {
		/*
		 * A pending request that fails later still gets its status, and
		 * a pending reply whose requester goes gets Disappeared (§16.12).
		 */
		if (((msg->flags & KBUS_BIT_WANT_A_REPLY) || !kbus_id_zero(msg->in_reply_to)) &&
		    kbus_status_reserve(&ks->pending_status)) {
			kbus_msg_put(msg);
			return -ENOMEM;
		}
		kbus_start_sending(ks, msg);
		return err;
	}
	kbus_msg_put(msg);
	return err;
}

/*
 * kbus_poll_retry - poll's write side while an ALL_OR_WAIT send is pending:
 * try again; not writable while it still has to wait (§8.4).
 */
__poll_t kbus_poll_retry(struct kbus_ksock *ks)
{
	struct kbus_msg *msg = ks->pending;
	int err;

	if (!ks->sending)
		return EPOLLOUT | EPOLLWRNORM;
	err = kbus_deliver(ks, msg);
	if (err == -EAGAIN)
		return 0;
	if (err == -EADDRNOTAVAIL)
		kbus_status_queue(ks, &ks->pending_status, KBUS_MSG_NAME_REPLIER_DISAPPEARED, 0,
				  msg->id);
	else if (err && (msg->flags & KBUS_BIT_WANT_A_REPLY))
		kbus_status_queue(ks, &ks->pending_status, KBUS_MSG_NAME_ERROR_SENDING, 0, msg->id);
	kbus_stop_sending(ks);
	return EPOLLOUT | EPOLLWRNORM;
}

static struct kbus_msg *kbus_bind_event_msg(struct kbus_dev *dev, bool is_bind, u32 binder,
					    const char *name, u32 name_len, gfp_t gfp)
{
	struct kbus_replier_bind_event_data *ev;
	struct kbus_msg *msg;

	msg = kbus_msg_synthetic(dev, KBUS_MSG_NAME_REPLIER_BIND_EVENT, KBUS_BIT_ALL_OR_FAIL,
				 sizeof(*ev) + KBUS_PADDED_NAME_LEN(name_len), gfp);
	if (!msg)
		return NULL;
	ev = (struct kbus_replier_bind_event_data *)msg->data;
	ev->is_bind = is_bind;
	ev->binder = binder;
	ev->name_len = name_len;
	memcpy(ev->rest, name, name_len);
	return msg;
}

/* The last set-aside entry for @ks, or NULL. */
static struct kbus_setaside *kbus_last_setaside(struct kbus_ksock *ks)
{
	struct kbus_setaside *s;

	if (!ks->num_setaside)
		return NULL;
	list_for_each_entry_reverse(s, &ks->dev->setaside, node)
		if (s->ksock == ks)
			return s;
	return NULL;
}

static void kbus_add_setaside(struct kbus_dev *dev, struct kbus_ksock *ks,
			      struct kbus_binding *binding, struct kbus_msg *msg, bool lost)
{
	/* Bounded: see KBUS_MAX_UNSENT_UNBIND_MESSAGES and kbus_set_aside. */
	struct kbus_setaside *s = kmalloc(sizeof(*s), KBUS_GFP_MUST);

	s->entry = kbus_qentry_alloc(KBUS_GFP_MUST);
	s->ksock = ks;
	s->binding = binding;
	s->msg = kbus_msg_get(msg);
	s->lost = lost;
	list_add_tail(&s->node, &dev->setaside);
	dev->num_setaside++;
	WRITE_ONCE(ks->num_setaside, ks->num_setaside + 1);
	wake_up_interruptible(&ks->readq);
}

/*
 * Keep an unbind event that could not be broadcast, for each listener
 * (§11.3). Past the list's limit, listeners get one UnbindEventsLost each.
 */
static void kbus_set_aside(struct kbus_dev *dev, struct kbus_msg *event,
			   struct kbus_binding **listeners, u32 n)
{
	struct kbus_msg *lost = NULL;
	struct kbus_setaside *last;
	u32 i;

	if (!dev->setaside_tragic && n + dev->num_setaside <= KBUS_MAX_UNSENT_UNBIND_MESSAGES) {
		for (i = 0; i < n; i++)
			kbus_add_setaside(dev, listeners[i]->ksock, listeners[i], event, false);
		return;
	}
	dev->setaside_tragic = true;
	for (i = 0; i < n; i++) {
		last = kbus_last_setaside(listeners[i]->ksock);
		if (last && last->lost)
			continue;
		if (!lost)
			lost = kbus_msg_synthetic(dev, KBUS_MSG_NAME_UNBIND_EVENTS_LOST, 0, 0,
						  KBUS_GFP_MUST);
		kbus_add_setaside(dev, listeners[i]->ksock, listeners[i], lost, true);
	}
	kbus_msg_put(lost);
}

/*
 * kbus_bind_event - broadcast a ReplierBindEvent to its listeners, all or
 * none (it is sent ALL_OR_FAIL): -EAGAIN if a listener is full. With
 * @must_succeed (a closing Ksock's unbinds) it is set aside instead.
 */
int kbus_bind_event(struct kbus_dev *dev, bool is_bind, u32 binder, const char *name,
		    u32 name_len, bool must_succeed)
{
	struct kbus_binding *stack[KBUS_COLLECT_STACK];
	gfp_t gfp = must_succeed ? KBUS_GFP_MUST : KBUS_GFP_USER;
	struct kbus_binding **listeners, *unused;
	struct kbus_msg *msg;
	LIST_HEAD(pool);
	u32 n, i;
	int err;

	lockdep_assert_held(&dev->lock);
	msg = kbus_bind_event_msg(dev, is_bind, binder, name, name_len, gfp);
	if (!msg)
		return -ENOMEM;
	err = kbus_collect(dev, msg, stack, ARRAY_SIZE(stack), &listeners, &n, &unused, gfp);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		if (kbus_ksock_full(listeners[i]->ksock, 0)) {
			err = -EAGAIN;
			break;
		}
	}
	if (!err)
		err = kbus_prealloc(&pool, n);
	if (err && must_succeed) {
		kbus_set_aside(dev, msg, listeners, n);
		err = 0;
	} else if (!err) {
		for (i = 0; i < n; i++) {
			struct kbus_ksock *ks = listeners[i]->ksock;

			if (ks->only_once && kbus_id_eq(ks->last_pushed, msg->id))
				continue;
			kbus_queue_entry(ks, kbus_take(&pool), msg, listeners[i], msg->flags);
		}
	}
	kbus_free_pool(&pool);
	if (listeners != stack)
		kvfree(listeners);
out:
	kbus_msg_put(msg);
	return err;
}

/*
 * kbus_replay_binds - REPORTREPLIERBINDS=1: queue a bind event for every
 * existing replier binding, newest first, straight onto @ks; -EBUSY when
 * @ks fills up, -ENOMEM when its memory cgroup does: the events are
 * charged to it, and its queue bounds them.
 */
int kbus_replay_binds(struct kbus_ksock *ks)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_binding *b;
	struct kbus_qentry *e;
	struct kbus_msg *msg;

	lockdep_assert_held(&ks->dev->lock);
	list_for_each_entry(b, &dev->bindings, dev_node) {
		if (kbus_binding_is_cursor(b) || !b->is_replier)
			continue;
		if (kbus_ksock_full(ks, 0))
			return -EBUSY;
		e = kbus_qentry_alloc(KBUS_GFP_USER);
		msg = e ? kbus_bind_event_msg(dev, true, b->ksock->id, b->name, b->name_len,
					      KBUS_GFP_USER) : NULL;
		if (!msg) {
			if (e)
				kbus_qentry_free(e);
			return -ENOMEM;
		}
		kbus_push(ks, e, msg, NULL, msg->flags, true);
		kbus_msg_put(msg);
	}
	return 0;
}

static void kbus_free_setaside(struct kbus_dev *dev, struct kbus_setaside *s)
{
	list_del(&s->node);
	WRITE_ONCE(s->ksock->num_setaside, s->ksock->num_setaside - 1);
	dev->num_setaside--;
	if (!dev->num_setaside)
		dev->setaside_tragic = false;
	kbus_msg_put(s->msg);
	if (s->entry)
		kbus_qentry_free(s->entry);
	kfree(s);
}

/* Move the oldest event set aside for @ks onto the tail of its queue. */
void kbus_move_setaside(struct kbus_ksock *ks)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_setaside *s;

	lockdep_assert_held(&ks->dev->lock);
	if (!ks->num_setaside)
		return;
	list_for_each_entry(s, &dev->setaside, node) {
		if (s->ksock != ks)
			continue;
		/* Events are never URGENT, so this goes to the tail. */
		kbus_push(ks, s->entry, s->msg, s->binding, s->msg->flags, true);
		s->entry = NULL;
		kbus_free_setaside(dev, s);
		return;
	}
}

/*
 * kbus_drop_setaside - with @all, forget every event set aside for @ks;
 * otherwise the binding @binding is going away: entries that name it stay
 * (as in the original, which delivers them later) but no longer refer to it.
 */
void kbus_drop_setaside(struct kbus_ksock *ks, struct kbus_binding *binding, bool all)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_setaside *s, *tmp;

	lockdep_assert_held(&ks->dev->lock);
	if (!ks->num_setaside)
		return;
	list_for_each_entry_safe(s, tmp, &dev->setaside, node) {
		if (s->ksock != ks)
			continue;
		if (all)
			kbus_free_setaside(dev, s);
		else if (s->binding == binding)
			s->binding = NULL;
	}
}

/*
 * kbus_remove_queued - UNBIND: remove the copies queued through @binding,
 * already out of the table; each request among them gets
 * $.KBUS.Replier.Unbound for its sender. A replier may hold a million
 * requests, so the device is let go every KBUS_UNBIND_SLICE copies and
 * other Ksocks go on meanwhile (docs/kbus.md §18.3); @binding's own list
 * of its copies stays right across the gaps, as whatever takes one off
 * the queue (a read of another thread of this Ksock) takes it off that
 * list too.
 */
#define KBUS_UNBIND_SLICE	256

u32 kbus_remove_queued(struct kbus_ksock *ks, struct kbus_binding *binding)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_qentry *e;
	u32 removed = 0;

	lockdep_assert_held(&dev->lock);
	for (;;) {
		spin_lock(&ks->qlock);
		e = list_first_entry_or_null(&binding->queued, struct kbus_qentry, bnode);
		if (e)
			kbus_unqueue(ks, e);
		spin_unlock(&ks->qlock);
		if (!e)
			break;
		removed++;
		if (e->flags & KBUS_BIT_WANT_YOU_TO_REPLY)
			kbus_send_status(dev, KBUS_MSG_NAME_REPLIER_UNBOUND, ks->id,
					 e->msg->from, e->msg->id);
		kbus_msg_put(e->msg);
		kbus_qentry_free(e);
		if (removed % KBUS_UNBIND_SLICE == 0) {
			kbus_wake_senders(dev);
			/* The binding is gone already: the UNBIND finishes. */
			kbus_yield_lock(dev);
		}
	}
	if (removed)
		kbus_wake_senders(dev);
	return removed;
}
