// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS bindings: the device's table of bound names, and finding the
 * recipients of a message in it. What a binding's arrival or departure
 * means for the rest of the device (bind events, set-aside events, queued
 * messages, waiting senders) is kbus_bind.c's, above this table.
 *
 * Every binding is on three lists: the device's list, newest first (the
 * order KBUS delivers in and /proc shows), its Ksock's list (for close), and
 * a hash table keyed by the bound name or wildcard string. Finding the
 * recipients of a message named "$.a.b.c" looks up only the keys that can
 * match it: the name itself, "$.a.b.%" and "$.*", "$.a.*", "$.a.b.*" (one
 * per level), so a send costs the same whatever else is bound on the
 * device.
 *
 * Keys are hashed with hsiphash under a key drawn at random for each
 * device, so nobody can choose names that pile up in one bucket (say the
 * "$.*" one every send looks at). The hash is chained by name segment: the
 * hash of "$.a.b" is computed from that of "$.a" and the bytes "b", and a
 * key's hash is that of its segments with how it ends ("*", "%" or the
 * exact name) mixed in, so one pass over a message name gives the hashes
 * of all the keys that can match it.
 *
 * All functions here run under the device lock and the exported ones assert
 * it (lockdep), except kbus_bindings_init and kbus_bindings_free, which run
 * while nothing else can reach the device.
 */
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>
#include <linux/string.h>
#include <linux/mm.h>
#include "kbus_internal.h"

#define KBUS_HASH_MIN_BITS	6
/* 2^22 buckets (32 MiB of table) once there are 8 M bindings. */
#define KBUS_HASH_MAX_BITS	22

/* How a key ends: a listener's ".*" or ".%", or the name itself. */
#define KBUS_KEY_EXACT		0

/* The chained hash of the segments so far, after one more segment. */
static u32 kbus_hash_segment(const struct kbus_dev *dev, u32 prev, const char *seg, u32 len)
{
	hsiphash_key_t key = dev->hash_key;

	key.key[0] ^= prev;
	return hsiphash(seg, len, &key);
}

/* The hash of a key: its segments' chained hash and how it ends. */
static u32 kbus_hash_key(const struct kbus_dev *dev, u32 segments, u32 end)
{
	return hsiphash_2u32(segments, end, &dev->hash_key);
}

/*
 * The chained hash of the dot-separated segments in @name[0..@len), which
 * neither starts nor ends with a dot.
 */
static u32 kbus_hash_segments(const struct kbus_dev *dev, const char *name, u32 len)
{
	u32 h = 0, start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			h = kbus_hash_segment(dev, h, name + start, i - start);
			start = i + 1;
		}
	}
	return h;
}

/* The hash of a bound name or wildcard, as kbus_visit_matches computes it. */
static u32 kbus_hash(const struct kbus_dev *dev, const char *name, u32 len)
{
	if (len >= 3 && name[len - 2] == '.' && (name[len - 1] == '*' || name[len - 1] == '%'))
		return kbus_hash_key(dev, kbus_hash_segments(dev, name, len - 2), name[len - 1]);
	return kbus_hash_key(dev, kbus_hash_segments(dev, name, len), KBUS_KEY_EXACT);
}

static struct hlist_head *kbus_bucket(struct kbus_dev *dev, u32 hash)
{
	return &dev->hash[hash & ((1U << dev->hash_bits) - 1)];
}

int kbus_bindings_init(struct kbus_dev *dev)
{
	xa_init_flags(&dev->user_bindings, XA_FLAGS_ACCOUNT);
	dev->max_user_bindings = kbus_max_user_bindings;
	get_random_bytes(&dev->hash_key, sizeof(dev->hash_key));
	dev->hash_bits = KBUS_HASH_MIN_BITS;
	dev->hash = kvcalloc(1U << dev->hash_bits, sizeof(*dev->hash), GFP_KERNEL);
	return dev->hash ? 0 : -ENOMEM;
}

void kbus_bindings_free(struct kbus_dev *dev)
{
	xa_destroy(&dev->user_bindings);
	kvfree(dev->hash);
	dev->hash = NULL;
}

/* Double the table when it gets crowded; on failure keep the old one. */
static void kbus_hash_grow(struct kbus_dev *dev)
{
	u32 bits = dev->hash_bits + 1;
	struct hlist_head *table;
	struct kbus_binding *b;

	if (dev->num_bindings <= (2U << dev->hash_bits) || bits > KBUS_HASH_MAX_BITS)
		return;
	table = kvcalloc(1U << bits, sizeof(*table), KBUS_GFP_USER);
	if (!table)
		return;
	/* Oldest first, so that each bucket stays newest first. */
	list_for_each_entry_reverse(b, &dev->bindings, dev_node) {
		if (kbus_binding_is_cursor(b))
			continue;
		hlist_del(&b->hash_node);
		hlist_add_head(&b->hash_node, &table[b->hash & ((1U << bits) - 1)]);
	}
	kvfree(dev->hash);
	dev->hash = table;
	dev->hash_bits = bits;
}

struct kbus_binding *kbus_find_replier_exact(struct kbus_dev *dev, const char *name,
					     u32 name_len)
{
	u32 hash = kbus_hash(dev, name, name_len);
	struct kbus_binding *b;

	lockdep_assert_held(&dev->lock);
	hlist_for_each_entry(b, kbus_bucket(dev, hash), hash_node)
		if (b->is_replier && b->name_len == name_len && !memcmp(b->name, name, name_len))
			return b;
	return NULL;
}

/*
 * kbus_binding_alloc - a binding of @name (@len bytes, a checked name or
 * wildcard) for a replier or a listener, not yet in the table.
 */
struct kbus_binding *kbus_binding_alloc(const char *name, u32 len, bool replier)
{
	struct kbus_binding *b = kzalloc(struct_size(b, name, len + 1), KBUS_GFP_USER);

	if (!b)
		return NULL;
	memcpy(b->name, name, len);
	b->name[len] = '\0';
	b->name_len = len;
	b->is_replier = replier;
	INIT_LIST_HEAD(&b->queued);
	if (name[len - 1] == '*')
		b->match = KBUS_MATCH_STAR;
	else if (name[len - 1] == '%')
		b->match = KBUS_MATCH_PERCENT;
	else
		b->match = KBUS_MATCH_EXACT;
	return b;
}

/* kbus_binding_insert - put @b, @ks's newest binding, into the table. */
void kbus_binding_insert(struct kbus_ksock *ks, struct kbus_binding *b)
{
	struct kbus_dev *dev = ks->dev;

	lockdep_assert_held(&dev->lock);
	b->ksock = ks;
	b->hash = kbus_hash(dev, b->name, b->name_len);
	b->seq = ++dev->bind_seq;
	list_add(&b->dev_node, &dev->bindings);
	list_add(&b->ksock_node, &ks->bindings);
	hlist_add_head(&b->hash_node, kbus_bucket(dev, b->hash));
	dev->num_bindings++;
	kbus_hash_grow(dev);
}

/*
 * kbus_user_bindings_charge - count @b, about to be bound by @uid, a caller
 * without the device's privileges, against that user's bindings on the
 * device (docs/kbus.md §18.5): -ENOSPC when the user already holds
 * max_user_bindings. Each binding can cost every matching send a copy
 * made under the device lock, so one user's bindings must not make every
 * other user's sends as slow as it likes.
 */
int kbus_user_bindings_charge(struct kbus_dev *dev, struct kbus_binding *b, kuid_t uid)
{
	u32 user = from_kuid(&init_user_ns, uid);
	void *held;
	unsigned long n;
	int err;

	lockdep_assert_held(&dev->lock);
	held = xa_load(&dev->user_bindings, user);
	n = held ? xa_to_value(held) : 0;
	if (dev->max_user_bindings && n >= dev->max_user_bindings)
		return -ENOSPC;
	err = xa_err(xa_store(&dev->user_bindings, user, xa_mk_value(n + 1), KBUS_GFP_USER));
	if (err)
		return err;
	b->limited = true;
	b->user = user;
	return 0;
}

/* kbus_user_bindings_uncharge - @b goes: its user holds one binding fewer. */
void kbus_user_bindings_uncharge(struct kbus_dev *dev, struct kbus_binding *b)
{
	unsigned long n;

	lockdep_assert_held(&dev->lock);
	if (!b->limited)
		return;
	b->limited = false;
	n = xa_to_value(xa_load(&dev->user_bindings, b->user));
	if (n <= 1)
		xa_erase(&dev->user_bindings, b->user);
	else
		/* Replacing an entry allocates nothing, so it cannot fail. */
		xa_store(&dev->user_bindings, b->user, xa_mk_value(n - 1), GFP_NOWAIT);
}

/*
 * kbus_binding_unlink - take @b out of the table and its Ksock's list: no
 * send finds it any more, and no UNBIND. The copies it brought may still
 * be queued (b->queued); the caller frees @b once they are gone.
 */
void kbus_binding_unlink(struct kbus_dev *dev, struct kbus_binding *b)
{
	lockdep_assert_held(&dev->lock);
	kbus_user_bindings_uncharge(dev, b);
	list_del(&b->dev_node);
	list_del(&b->ksock_node);
	hlist_del(&b->hash_node);
	dev->num_bindings--;
}

/*
 * kbus_binding_newest - @ks's most recent binding of exactly @name as a
 * replier or a listener, or NULL: the one an UNBIND removes.
 */
struct kbus_binding *kbus_binding_newest(struct kbus_ksock *ks, bool replier, const char *name,
					 u32 len)
{
	struct kbus_binding *b, *found = NULL;

	lockdep_assert_held(&ks->dev->lock);
	list_for_each_entry(b, &ks->bindings, ksock_node) {
		if (b->is_replier == replier && b->name_len == len && !memcmp(b->name, name, len)) {
			if (!found || b->seq > found->seq)
				found = b;
		}
	}
	return found;
}

/*
 * kbus_bindings_detach - take every binding of @ks out of the table: the
 * listeners' are freed, the repliers' are moved onto @repliers, oldest
 * first, for the caller to report and kfree.
 */
void kbus_bindings_detach(struct kbus_ksock *ks, struct list_head *repliers)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_binding *b, *tmp;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry_safe(b, tmp, &ks->bindings, ksock_node) {
		kbus_user_bindings_uncharge(dev, b);
		list_del(&b->dev_node);
		hlist_del(&b->hash_node);
		dev->num_bindings--;
		if (b->is_replier) {
			/* the Ksock's list is newest first: oldest ends up first */
			list_move(&b->ksock_node, repliers);
		} else {
			list_del(&b->ksock_node);
			kfree(b);
		}
		cond_resched();	/* a Ksock may have millions of bindings */
	}
}

/* Does @b, a binding to "<prefix>.*" or "<prefix>.%", have key @key? */
static bool kbus_key_is(const struct kbus_binding *b, const char *name, u32 prefix_len, char last)
{
	return b->name_len == prefix_len + 1 && b->name[prefix_len] == last &&
	       !memcmp(b->name, name, prefix_len);
}

struct kbus_recipients {
	struct kbus_binding	**list;
	u32			n;
	struct kbus_binding	*replier;
	bool			want_replier;
};

static void kbus_consider(struct kbus_recipients *c, struct kbus_binding *b)
{
	if (!b->is_replier) {
		if (c->list)
			c->list[c->n] = b;
		c->n++;
		return;
	}
	if (!c->want_replier)
		return;
	if (!c->replier || b->match > c->replier->match ||
	    (b->match == c->replier->match && b->seq > c->replier->seq))
		c->replier = b;
}

/* The bindings with key hash @key whose name is "<@name's first @prefix_len bytes><@last>". */
static void kbus_visit_key(struct kbus_dev *dev, u32 key, const char *name, u32 prefix_len,
			   char last, struct kbus_recipients *c)
{
	struct kbus_binding *b;

	hlist_for_each_entry(b, kbus_bucket(dev, key), hash_node)
		if (b->hash == key && kbus_key_is(b, name, prefix_len, last))
			kbus_consider(c, b);
}

/* Visit every binding that matches @name, in no particular order. */
static void kbus_visit_matches(struct kbus_dev *dev, const char *name, u32 len,
			       struct kbus_recipients *c)
{
	const char *last_dot = strrchr(name, '.');
	struct kbus_binding *b;
	u32 h = 0, start = 0, i, key;

	for (i = 0; i < len; i++) {
		if (name[i] != '.')
			continue;
		/* "<segments so far>.*", and ".%" at the last level. */
		h = kbus_hash_segment(dev, h, name + start, i - start);
		start = i + 1;
		kbus_visit_key(dev, kbus_hash_key(dev, h, '*'), name, i + 1, '*', c);
		if (name + i == last_dot)
			kbus_visit_key(dev, kbus_hash_key(dev, h, '%'), name, i + 1, '%', c);
	}
	key = kbus_hash_key(dev, kbus_hash_segment(dev, h, name + start, len - start),
			    KBUS_KEY_EXACT);
	hlist_for_each_entry(b, kbus_bucket(dev, key), hash_node)
		if (b->hash == key && b->name_len == len && !memcmp(b->name, name, len))
			kbus_consider(c, b);
}

/* Buckets are newest first, so matches of one key arrive in order. */
static bool kbus_newest_first(struct kbus_binding **list, u32 n)
{
	u32 i;

	for (i = 1; i < n; i++)
		if (list[i - 1]->seq < list[i]->seq)
			return false;
	return true;
}

static int kbus_cmp_newest_first(const void *a, const void *b)
{
	const struct kbus_binding *x = *(const struct kbus_binding * const *)a;
	const struct kbus_binding *y = *(const struct kbus_binding * const *)b;

	return x->seq < y->seq ? 1 : (x->seq > y->seq ? -1 : 0);
}

/*
 * kbus_collect - the recipients of @msg: its listener bindings in device
 * order (newest first, duplicates included) and for a request the replier:
 * the most specific class wins (exact > % > *), the newest binding within a
 * class (§2.3). The list is put in @buf when it fits, else in a new array
 * allocated with @gfp; the caller kvfree()s *@listp when it is not @buf.
 */
int kbus_collect(struct kbus_dev *dev, const struct kbus_msg *msg, struct kbus_binding **buf,
		 u32 buf_len, struct kbus_binding ***listp, u32 *nlisteners,
		 struct kbus_binding **replier, gfp_t gfp)
{
	struct kbus_recipients c = { .want_replier = msg->flags & KBUS_BIT_WANT_A_REPLY };
	u32 count;

	lockdep_assert_held(&dev->lock);
	kbus_visit_matches(dev, msg->name, msg->name_len, &c);
	count = c.n;
	*replier = c.replier;
	*listp = buf;
	*nlisteners = 0;
	if (!count)
		return 0;
	/*
	 * A big fan-out gets a virtually contiguous array, charged to the
	 * sender; a closing Ksock's unbind events must not be lost to a
	 * failed allocation, and their number is bounded by its bindings.
	 */
	c.list = count <= buf_len ? buf : kvmalloc_array(count, sizeof(*c.list), gfp);
	if (!c.list)
		return -ENOMEM;
	c.n = 0;
	c.want_replier = false;
	kbus_visit_matches(dev, msg->name, msg->name_len, &c);
	if (!kbus_newest_first(c.list, c.n))
		sort(c.list, c.n, sizeof(*c.list), kbus_cmp_newest_first, NULL);
	*listp = c.list;
	*nlisteners = c.n;
	return 0;
}

/* The most bindings in one bucket: what a send may have to walk past. */
u32 kbus_hash_longest_chain(struct kbus_dev *dev)
{
	struct kbus_binding *b;
	u32 i, n, longest = 0;

	lockdep_assert_held(&dev->lock);
	for (i = 0; i < (1U << dev->hash_bits); i++) {
		n = 0;
		hlist_for_each_entry(b, &dev->hash[i], hash_node)
			n++;
		longest = max(longest, n);
	}
	return longest;
}
