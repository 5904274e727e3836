// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS /proc files: /proc/kbus/bindings and /proc/kbus/stats, covering every
 * device, in the original's formats (§12), which existing tools parse.
 *
 * Both are read in slices (docs/kbus.md §12.3): seq_file fills its buffer
 * (a page) under kbus_devices_lock and one device's lock, then lets both go
 * and copies the page to the reader. So a listing of a million bindings
 * holds no lock for longer than a page of lines takes, and other Ksocks
 * use the device between slices. Where a slice ends is kept so that the
 * next one starts there at once: in the bindings list by a cursor (a
 * binding with no Ksock, which every other walker of the list steps over),
 * among the Ksocks by id, in the device's table of ids. Bindings and Ksocks
 * that come or go during a long read may be listed or not; none is listed
 * twice. A reader may rewind to the start but not seek elsewhere, since
 * seq_file would seek by formatting everything before the offset in one
 * go. Locks are waited for interruptibly (ERESTARTSYS).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "kbus_internal.h"

static struct proc_dir_entry *kbus_proc_dir;

/*
 * Where a reader is: the record at @pos is device @dev_index's first line
 * when @header is set, else the binding or Ksock @at of that device, which
 * is held only during a slice.
 */
struct kbus_proc_iter {
	loff_t			pos;
	unsigned int		dev_index;
	bool			header;
	bool			table_locked;	/* kbus_devices_lock */
	struct kbus_dev		*locked;	/* the device whose lock is held */
	void			*at;
};

static int kbus_proc_lock_dev(struct kbus_proc_iter *it)
{
	struct kbus_dev *dev = kbus_get_dev(it->dev_index);

	if (kbus_lock_interruptible(dev))
		return -ERESTARTSYS;
	it->locked = dev;
	return 0;
}

/*
 * The start of a slice: the table of devices and the device at the
 * reader's place locked. NULL when every device has been listed.
 */
static void *kbus_proc_start(struct kbus_proc_iter *it)
{
	if (mutex_lock_interruptible(&kbus_devices_lock))
		return ERR_PTR(-ERESTARTSYS);
	it->table_locked = true;
	if (it->dev_index >= kbus_num_devs())
		return NULL;
	if (kbus_proc_lock_dev(it))
		return ERR_PTR(-ERESTARTSYS);
	return it;
}

/*
 * From a device whose records are done, on to the next device's first
 * line; NULL after the last device.
 */
static void *kbus_proc_settle(struct kbus_proc_iter *it)
{
	while (!it->header && !it->at) {
		mutex_unlock(&it->locked->lock);
		it->locked = NULL;
		if (++it->dev_index >= kbus_num_devs())
			return NULL;
		if (kbus_proc_lock_dev(it))
			return ERR_PTR(-ERESTARTSYS);
		it->header = true;
	}
	return it;
}

static void kbus_proc_stop(struct kbus_proc_iter *it)
{
	if (it->locked) {
		mutex_unlock(&it->locked->lock);
		it->locked = NULL;
	}
	if (it->table_locked) {
		mutex_unlock(&kbus_devices_lock);
		it->table_locked = false;
	}
}

static void kbus_proc_rewind(struct kbus_proc_iter *it)
{
	it->pos = 0;
	it->dev_index = 0;
	it->header = true;
	it->at = NULL;
}

/*
 * Only a rewind (to 0) and a look at the position: seq_file reaches any
 * other offset by formatting every line before it under the locks.
 */
static loff_t kbus_proc_lseek(struct file *file, loff_t offset, int whence)
{
	if (!(whence == SEEK_SET && offset == 0) && !(whence == SEEK_CUR && offset == 0))
		return -ESPIPE;
	return seq_lseek(file, offset, whence);
}

/* /proc/kbus/bindings */

#define KBUS_BINDINGS_HEADER \
	"# <device> is bound to <Ksock-ID> in <process-PID> as <Replier|Listener> for <message-name>\n"

/* Between slices the cursor sits just before the record at pos. */
struct kbus_bindings_iter {
	struct kbus_proc_iter	it;
	struct kbus_binding	cursor;		/* last: a binding ends in its name */
};

/* The first binding of @dev's list from @node on, cursors skipped. */
static struct kbus_binding *kbus_binding_from(struct kbus_dev *dev, struct list_head *node)
{
	struct kbus_binding *b;

	for (; node != &dev->bindings; node = node->next) {
		b = list_entry(node, struct kbus_binding, dev_node);
		if (!kbus_binding_is_cursor(b))
			return b;
	}
	return NULL;
}

static void *kbus_bindings_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct kbus_bindings_iter *bi = m->private;
	struct kbus_dev *dev = bi->it.locked;
	struct kbus_binding *b = bi->it.at;

	bi->it.pos = ++*pos;
	bi->it.at = kbus_binding_from(dev, bi->it.header ? dev->bindings.next :
						   b->dev_node.next);
	bi->it.header = false;
	return kbus_proc_settle(&bi->it);
}

/* Take the cursor out of the list it waits in, if any. */
static int kbus_bindings_unpark(struct kbus_bindings_iter *bi)
{
	struct kbus_dev *dev;

	if (list_empty(&bi->cursor.dev_node))
		return 0;
	dev = kbus_get_dev(bi->it.dev_index);
	if (kbus_lock_interruptible(dev))
		return -ERESTARTSYS;
	list_del_init(&bi->cursor.dev_node);
	mutex_unlock(&dev->lock);
	return 0;
}

static void *kbus_bindings_start(struct seq_file *m, loff_t *pos)
{
	struct kbus_bindings_iter *bi = m->private;
	void *v;

	if (!*pos) {
		/* A new read, or a rewind. */
		if (kbus_bindings_unpark(bi))
			return ERR_PTR(-ERESTARTSYS);
		kbus_proc_rewind(&bi->it);
	}
	v = kbus_proc_start(&bi->it);
	if (IS_ERR_OR_NULL(v) || bi->it.header)
		return v;
	/* The binding the last slice stopped at, or the one after it. */
	bi->it.at = kbus_binding_from(bi->it.locked, bi->cursor.dev_node.next);
	list_del_init(&bi->cursor.dev_node);
	return kbus_proc_settle(&bi->it);
}

static void kbus_bindings_stop(struct seq_file *m, void *v)
{
	struct kbus_bindings_iter *bi = m->private;
	struct kbus_binding *b = bi->it.at;

	/* Mark where the next slice starts: before the record not shown. */
	if (bi->it.locked && !bi->it.header && b)
		list_add_tail(&bi->cursor.dev_node, &b->dev_node);
	kbus_proc_stop(&bi->it);
}

static int kbus_bindings_show(struct seq_file *m, void *v)
{
	struct kbus_proc_iter *it = v;
	struct kbus_binding *b = it->at;

	if (it->header)
		seq_puts(m, KBUS_BINDINGS_HEADER);
	else
		seq_printf(m, "%3u: %8u %8lu  %c  %.*s\n", it->dev_index, b->ksock->id,
			   (unsigned long)b->ksock->pid, b->is_replier ? 'R' : 'L',
			   (int)b->name_len, b->name);
	return 0;
}

static const struct seq_operations kbus_bindings_seq_ops = {
	.start	= kbus_bindings_start,
	.next	= kbus_bindings_next,
	.stop	= kbus_bindings_stop,
	.show	= kbus_bindings_show,
};

static int kbus_bindings_open(struct inode *inode, struct file *file)
{
	struct kbus_bindings_iter *bi;

	bi = __seq_open_private(file, &kbus_bindings_seq_ops, sizeof(*bi));
	if (!bi)
		return -ENOMEM;
	kbus_proc_rewind(&bi->it);
	INIT_LIST_HEAD(&bi->cursor.dev_node);
	file->f_mode &= ~FMODE_PREAD;
	return 0;
}

static int kbus_bindings_release(struct inode *inode, struct file *file)
{
	struct kbus_bindings_iter *bi = ((struct seq_file *)file->private_data)->private;
	struct kbus_dev *dev;

	if (!list_empty(&bi->cursor.dev_node)) {
		/* Devices outlive every open /proc file (kbus_exit). */
		mutex_lock(&kbus_devices_lock);
		dev = kbus_get_dev(bi->it.dev_index);
		kbus_lock(dev);
		list_del(&bi->cursor.dev_node);
		mutex_unlock(&dev->lock);
		mutex_unlock(&kbus_devices_lock);
	}
	return seq_release_private(inode, file);
}

static const struct proc_ops kbus_bindings_ops = {
	.proc_open	= kbus_bindings_open,
	.proc_read	= seq_read,
	.proc_lseek	= kbus_proc_lseek,
	.proc_release	= kbus_bindings_release,
};

/* /proc/kbus/stats */

/* Between slices @id is the id of the Ksock at pos, or of the one after. */
struct kbus_stats_iter {
	struct kbus_proc_iter	it;
	unsigned long		id;
};

/* The Ksock of @dev with the lowest id from @si->id on. */
static void *kbus_stats_find(struct kbus_stats_iter *si)
{
	si->it.at = xa_find(&si->it.locked->ksock_ids, &si->id, U32_MAX, XA_PRESENT);
	return kbus_proc_settle(&si->it);
}

static void *kbus_stats_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct kbus_stats_iter *si = m->private;
	struct kbus_ksock *ks = si->it.at;

	si->it.pos = ++*pos;
	if (!si->it.header && ks->id == U32_MAX) {
		si->it.at = NULL;
		return kbus_proc_settle(&si->it);
	}
	si->id = si->it.header ? 0 : (unsigned long)ks->id + 1;
	si->it.header = false;
	return kbus_stats_find(si);
}

static void *kbus_stats_start(struct seq_file *m, loff_t *pos)
{
	struct kbus_stats_iter *si = m->private;
	void *v;

	if (!*pos)
		kbus_proc_rewind(&si->it);
	v = kbus_proc_start(&si->it);
	if (IS_ERR_OR_NULL(v) || si->it.header)
		return v;
	return kbus_stats_find(si);
}

static void kbus_stats_stop(struct seq_file *m, void *v)
{
	struct kbus_stats_iter *si = m->private;

	kbus_proc_stop(&si->it);
}

static int kbus_stats_show(struct seq_file *m, void *v)
{
	struct kbus_proc_iter *it = v;
	struct kbus_dev *dev = it->locked;
	struct kbus_ksock *ks = it->at;
	u32 read_pos, read_len;

	if (it->header) {
		seq_printf(m, "dev %2u: next ksock %u next msg %u unsent unbindings %u%s\n",
			   dev->index, dev->next_ksock_id, dev->next_serial, dev->num_setaside,
			   dev->setaside_tragic ? "(gone tragic)" : "");
		return 0;
	}
	/* Its reader changes these under qlock alone. */
	spin_lock(&ks->qlock);
	read_pos = ks->read_pos;
	read_len = ks->read_len;
	spin_unlock(&ks->qlock);
	seq_printf(m, "    ksock %u last msg %u:%u queue %u of %u\n", ks->id,
		   ks->last_sent.network_id, ks->last_sent.serial_num, READ_ONCE(ks->queue_len),
		   ks->max_messages);
	seq_printf(m, "      read byte %u of %u, wrote byte %u of %s (%sfinished), %ssending\n",
		   read_pos, read_len, READ_ONCE(ks->wshown.pos),
		   kbus_wpart_name(READ_ONCE(ks->wshown.part)),
		   READ_ONCE(ks->wshown.complete) ? "" : "not ", ks->sending ? "" : "not ");
	seq_printf(m, "      outstanding requests %u (size %u, max %u), unsent replies %u (max %u)\n",
		   ks->outstanding.count, kbus_idset_size(&ks->outstanding),
		   ks->max_outstanding, ks->unreplied_ids.count, ks->max_unreplied);
	return 0;
}

static const struct seq_operations kbus_stats_seq_ops = {
	.start	= kbus_stats_start,
	.next	= kbus_stats_next,
	.stop	= kbus_stats_stop,
	.show	= kbus_stats_show,
};

static int kbus_stats_open(struct inode *inode, struct file *file)
{
	struct kbus_stats_iter *si;

	si = __seq_open_private(file, &kbus_stats_seq_ops, sizeof(*si));
	if (!si)
		return -ENOMEM;
	kbus_proc_rewind(&si->it);
	file->f_mode &= ~FMODE_PREAD;
	return 0;
}

static const struct proc_ops kbus_stats_ops = {
	.proc_open	= kbus_stats_open,
	.proc_read	= seq_read,
	.proc_lseek	= kbus_proc_lseek,
	.proc_release	= seq_release_private,
};

int kbus_proc_init(void)
{
	kbus_proc_dir = proc_mkdir("kbus", NULL);
	if (!kbus_proc_dir)
		return -ENOMEM;
	if (!proc_create("bindings", 0444, kbus_proc_dir, &kbus_bindings_ops) ||
	    !proc_create("stats", 0444, kbus_proc_dir, &kbus_stats_ops)) {
		proc_remove(kbus_proc_dir);
		return -ENOMEM;
	}
	return 0;
}

void kbus_proc_exit(void)
{
	proc_remove(kbus_proc_dir);
}
