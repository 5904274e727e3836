// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS /proc files: /proc/kbus/bindings and /proc/kbus/stats, covering every
 * device, in the original's formats (§12), which existing tools parse.
 *
 * Readers take kbus_devices_lock, then each device's lock in turn, and
 * wait for either interruptibly: a reader stuck behind a busy device can
 * be interrupted or killed (ERESTARTSYS). Output goes to the seq_file's
 * buffer; seq_read copies it to the reader after the locks are dropped.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "kbus_internal.h"

static struct proc_dir_entry *kbus_proc_dir;

#define KBUS_BINDINGS_HEADER \
	"# <device> is bound to <Ksock-ID> in <process-PID> as <Replier|Listener> for <message-name>\n"

/* The longest line of a binding (see kbus_bindings_show) without its name. */
#define KBUS_BINDING_LINE_MAX	(10 + 2 + 10 + 1 + 20 + 2 + 1 + 2 + 1)

static int kbus_bindings_show(struct seq_file *m, void *v)
{
	struct kbus_binding *b;
	struct kbus_dev *dev;
	unsigned int i;

	if (mutex_lock_interruptible(&kbus_devices_lock))
		return -ERESTARTSYS;
	for (i = 0; i < kbus_num_devs(); i++) {
		dev = kbus_get_dev(i);
		seq_puts(m, KBUS_BINDINGS_HEADER);
		if (mutex_lock_interruptible(&dev->lock))
			goto interrupted;
		list_for_each_entry(b, &dev->bindings, dev_node)
			seq_printf(m, "%3u: %8u %8lu  %c  %.*s\n", dev->index, b->ksock->id,
				   (unsigned long)b->ksock->pid, b->is_replier ? 'R' : 'L',
				   (int)b->name_len, b->name);
		mutex_unlock(&dev->lock);
	}
	mutex_unlock(&kbus_devices_lock);
	return 0;

interrupted:
	mutex_unlock(&kbus_devices_lock);
	return -ERESTARTSYS;
}

/*
 * kbus_bindings_size - room for the whole bindings listing, from each
 * device's count of bindings and of their names' bytes. seq_file formats a
 * single_open file again from the start each time its buffer proves too
 * small, doubling it: a listing of a million bindings was formatted some
 * fourteen times, each under the devices' locks. Sized first, it is
 * formatted once, unless bindings were added in between.
 */
static size_t kbus_bindings_size(void)
{
	size_t size = PAGE_SIZE;
	struct kbus_dev *dev;
	unsigned int i;

	if (mutex_lock_interruptible(&kbus_devices_lock))
		return size;
	for (i = 0; i < kbus_num_devs(); i++) {
		dev = kbus_get_dev(i);
		if (mutex_lock_interruptible(&dev->lock))
			break;
		size += sizeof(KBUS_BINDINGS_HEADER) + dev->bindings_name_bytes +
			(size_t)dev->num_bindings * KBUS_BINDING_LINE_MAX;
		mutex_unlock(&dev->lock);
	}
	mutex_unlock(&kbus_devices_lock);
	return size;
}

static int kbus_bindings_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, kbus_bindings_show, NULL, kbus_bindings_size());
}

static const struct proc_ops kbus_bindings_ops = {
	.proc_open	= kbus_bindings_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

static void kbus_ksock_stats(struct seq_file *m, struct kbus_ksock *ks)
{
	seq_printf(m, "    ksock %u last msg %u:%u queue %u of %u\n", ks->id,
		   ks->last_sent.network_id, ks->last_sent.serial_num, ks->queue_len,
		   ks->max_messages);
	seq_printf(m, "      read byte %u of %u, wrote byte %u of %s (%sfinished), %ssending\n",
		   ks->read_pos, ks->read_len, READ_ONCE(ks->wshown.pos),
		   kbus_wpart_name(READ_ONCE(ks->wshown.part)),
		   READ_ONCE(ks->wshown.complete) ? "" : "not ", ks->sending ? "" : "not ");
	seq_printf(m, "      outstanding requests %u (size %u, max %u), unsent replies %u (max %u)\n",
		   ks->outstanding.count, kbus_idset_size(&ks->outstanding),
		   ks->max_outstanding, ks->unreplied_ids.count, ks->max_unreplied);
}

static int kbus_stats_show(struct seq_file *m, void *v)
{
	struct kbus_ksock *ks;
	struct kbus_dev *dev;
	unsigned int i;

	if (mutex_lock_interruptible(&kbus_devices_lock))
		return -ERESTARTSYS;
	for (i = 0; i < kbus_num_devs(); i++) {
		dev = kbus_get_dev(i);
		if (mutex_lock_interruptible(&dev->lock))
			goto interrupted;
		seq_printf(m, "dev %2u: next ksock %u next msg %u unsent unbindings %u%s\n",
			   dev->index, dev->next_ksock_id, dev->next_serial, dev->num_setaside,
			   dev->setaside_tragic ? "(gone tragic)" : "");
		list_for_each_entry(ks, &dev->ksocks, node)
			kbus_ksock_stats(m, ks);
		mutex_unlock(&dev->lock);
	}
	mutex_unlock(&kbus_devices_lock);
	return 0;

interrupted:
	mutex_unlock(&kbus_devices_lock);
	return -ERESTARTSYS;
}

int kbus_proc_init(void)
{
	kbus_proc_dir = proc_mkdir("kbus", NULL);
	if (!kbus_proc_dir)
		return -ENOMEM;
	if (!proc_create("bindings", 0444, kbus_proc_dir, &kbus_bindings_ops) ||
	    !proc_create_single("stats", 0444, kbus_proc_dir, kbus_stats_show)) {
		proc_remove(kbus_proc_dir);
		return -ENOMEM;
	}
	return 0;
}

void kbus_proc_exit(void)
{
	proc_remove(kbus_proc_dir);
}
