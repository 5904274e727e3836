// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS id sets: the requests a Ksock awaits replies to, and the requests it
 * owes replies to, found by message id in constant time, so that a reply,
 * or a close that owes a status for each of a million queued requests,
 * does work in proportion to what it answers (docs/kbus.md §18.3).
 *
 * A set is a table of hash chains keyed with the device's random key, as
 * the name table is, so no choice of ids makes them share a chain. The
 * table grows (doubling) before a member is added, where an allocation may
 * still fail with ENOMEM; adding and removing never allocate.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include "kbus_internal.h"

#define KBUS_IDSET_MIN_BITS	4

static u32 kbus_idset_hash(const struct kbus_dev *dev, const struct kbus_idset *s,
			   struct kbus_msg_id id)
{
	return hsiphash_2u32(id.network_id, id.serial_num, &dev->hash_key) &
	       ((1U << s->bits) - 1);
}

/*
 * kbus_idset_reserve - room for one more member: the table is grown while
 * it would hold more members than chains.
 */
int kbus_idset_reserve(struct kbus_dev *dev, struct kbus_idset *s)
{
	struct hlist_head *heads;
	struct kbus_idnode *n;
	struct hlist_node *tmp;
	u32 bits, old, i;

	if (s->heads && s->count < (1U << s->bits))
		return 0;
	bits = s->heads ? s->bits + 1 : KBUS_IDSET_MIN_BITS;
	heads = kvmalloc_array(1U << bits, sizeof(*heads), KBUS_GFP_USER);
	if (!heads)
		return -ENOMEM;
	for (i = 0; i < (1U << bits); i++)
		INIT_HLIST_HEAD(&heads[i]);
	old = s->heads ? 1U << s->bits : 0;
	s->bits = bits;
	for (i = 0; i < old; i++) {
		hlist_for_each_entry_safe(n, tmp, &s->heads[i], node) {
			hlist_del(&n->node);
			hlist_add_head(&n->node, &heads[kbus_idset_hash(dev, s, n->id)]);
		}
	}
	kvfree(s->heads);
	s->heads = heads;
	return 0;
}

/* kbus_idset_add - add @n, for which kbus_idset_reserve made room. */
void kbus_idset_add(struct kbus_dev *dev, struct kbus_idset *s, struct kbus_idnode *n)
{
	hlist_add_head(&n->node, &s->heads[kbus_idset_hash(dev, s, n->id)]);
	s->count++;
}

void kbus_idset_del(struct kbus_idset *s, struct kbus_idnode *n)
{
	hlist_del(&n->node);
	s->count--;
}

/* The chain where members with @id are; NULL if the set never had any. */
struct hlist_head *kbus_idset_chain(const struct kbus_dev *dev, const struct kbus_idset *s,
				    struct kbus_msg_id id)
{
	return s->heads ? &s->heads[kbus_idset_hash(dev, s, id)] : NULL;
}

/* The number of chains, for /proc: those it will start with, while none. */
u32 kbus_idset_size(const struct kbus_idset *s)
{
	return 1U << (s->heads ? s->bits : KBUS_IDSET_MIN_BITS);
}

/* kbus_idset_free - the table; its members are the caller's to free first. */
void kbus_idset_free(struct kbus_idset *s)
{
	kvfree(s->heads);
	s->heads = NULL;
	s->bits = 0;
	s->count = 0;
}
