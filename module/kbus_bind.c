// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS BIND, UNBIND and a closing Ksock's bindings: what a binding's
 * arrival or departure means for the rest of the device. A replier's
 * binding is announced to the bind-event listeners (docs/kbus.md §11); a
 * binding's departure takes the messages that came through it off its
 * Ksock's queue, drops the events set aside for it, and lets senders that
 * wait for room try again.
 *
 * The names come in already copied from user space and checked
 * (kbus_ksock.c does that before taking the device lock); the table itself
 * is kbus_bindings.c's. Everything here runs under the device lock.
 */
#include <linux/cred.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "kbus_internal.h"

static bool kbus_is_bind_event_name(const char *name, u32 name_len)
{
	return name_len == sizeof(KBUS_MSG_NAME_REPLIER_BIND_EVENT) - 1 &&
	       !memcmp(name, KBUS_MSG_NAME_REPLIER_BIND_EVENT, name_len);
}

/*
 * kbus_bind - bind @ks to @name as a replier or a listener. A replier's
 * name must be free, and when bind events are on, the event must reach
 * every listener or the BIND fails with EAGAIN and changes nothing. A
 * @limited caller (not the node's owner, no CAP_SYS_ADMIN) may hold only
 * max_user_bindings bindings on the device (ENOSPC, docs/kbus.md §18.5).
 */
int kbus_bind(struct kbus_ksock *ks, bool replier, const char *name, u32 name_len, bool limited)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_binding *b;
	int err;

	lockdep_assert_held(&dev->lock);
	b = kbus_binding_alloc(name, name_len, replier);
	if (!b)
		return -ENOMEM;
	if (replier && kbus_is_bind_event_name(name, name_len)) {
		err = -EBADMSG;
		goto free;
	}
	if (replier && kbus_find_replier_exact(dev, name, name_len)) {
		err = -EADDRINUSE;
		goto free;
	}
	if (limited) {
		err = kbus_user_bindings_charge(dev, b, current_fsuid());
		if (err)
			goto free;
	}
	if (replier && dev->report_binds) {
		err = kbus_bind_event(dev, true, ks->id, name, name_len, false);
		if (err)
			goto free;
	}
	kbus_binding_insert(ks, b);
	/* A more specific replier may take a request that waits for room. */
	if (replier)
		kbus_wake_senders(dev);
	if (dev->verbose)
		pr_info_ratelimited("kbus%u: ksock %u bound %s %s\n", dev->index, ks->id,
				    replier ? "replier" : "listener", name);
	return 0;

free:
	kbus_user_bindings_uncharge(dev, b);
	kfree(b);
	return err;
}

/*
 * kbus_unbind - remove @ks's most recent binding of exactly @name (EINVAL
 * when there is none), with what came through it: its queued messages and
 * the events set aside for it. A replier's unbinding is announced as its
 * binding was, and fails in the same way.
 */
int kbus_unbind(struct kbus_ksock *ks, bool replier, const char *name, u32 name_len)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_binding *b;
	u32 removed;
	int err;

	lockdep_assert_held(&dev->lock);
	/*
	 * Unbinding the exact event name drops every unbind event set aside
	 * for this Ksock, even if the UNBIND itself then fails (docs/kbus.md §17.1).
	 */
	if (kbus_is_bind_event_name(name, name_len))
		kbus_drop_setaside(ks, NULL, true);

	b = kbus_binding_newest(ks, replier, name, name_len);
	if (!b)
		return -EINVAL;
	if (replier && dev->report_binds) {
		err = kbus_bind_event(dev, false, ks->id, name, name_len, false);
		if (err)
			return err;
	}
	/*
	 * Out of the table first, so that nothing more comes through it;
	 * then its copies go, in slices (kbus_remove_queued), and it is
	 * freed once the last has gone.
	 */
	kbus_binding_unlink(dev, b);
	kbus_drop_setaside(ks, b, false);
	removed = kbus_remove_queued(ks, b);
	kfree(b);
	if (removed)
		kbus_move_setaside(ks);
	/*
	 * A pending send may no longer need this Ksock's room, even if no
	 * queued copy went with the binding.
	 */
	kbus_wake_senders(dev);
	if (dev->verbose)
		pr_info_ratelimited("kbus%u: ksock %u unbound %s %s\n", dev->index, ks->id,
				    replier ? "replier" : "listener", name);
	return 0;
}

/*
 * kbus_unbind_all - remove every binding of a closing Ksock. Replier
 * bindings are reported with the never-failing path (events set aside for
 * listeners that are full). The Ksock's queue is already empty.
 */
void kbus_unbind_all(struct kbus_ksock *ks)
{
	struct kbus_dev *dev = ks->dev;
	struct kbus_binding *b, *tmp;
	LIST_HEAD(repliers);

	lockdep_assert_held(&dev->lock);
	kbus_bindings_detach(ks, &repliers);
	/* Newest replier binding first, as the device's list and /proc have them. */
	list_for_each_entry_safe_reverse(b, tmp, &repliers, ksock_node) {
		if (dev->report_binds)
			kbus_bind_event(dev, false, ks->id, b->name, b->name_len, true);
		list_del(&b->ksock_node);
		kfree(b);
	}
}
