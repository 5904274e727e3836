// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * KBUS devices: module load and unload, the character device region, the
 * "kbus" class, the /dev/kbusN nodes and NEWDEVICE.
 *
 * Device nodes are created with mode kbus_dev_mode, by default 0660: the
 * node's owner and group (root, or what a udev rule gives them, the kbus
 * group with the kbus-dkms package) may use the bus, nobody else
 * (docs/kbus.md §18.5). A product that wants every process on the bus
 * loads the module with kbus_dev_mode=0666.
 */
#define KBUS_MODNAME "kbus"
#define pr_fmt(fmt) KBUS_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include "kbus_internal.h"

static int kbus_num_devices = KBUS_DEF_NUM_DEVICES;
module_param(kbus_num_devices, int, 0444);
MODULE_PARM_DESC(kbus_num_devices, "Number of KBUS devices created at load (1..256)");

static ushort kbus_dev_mode = 0660;
module_param(kbus_dev_mode, ushort, 0444);
MODULE_PARM_DESC(kbus_dev_mode, "Permission bits of /dev/kbusN nodes (default 0660)");

unsigned int kbus_max_queue_bytes = KBUS_DEF_MAX_QUEUE_BYTES;
module_param(kbus_max_queue_bytes, uint, 0444);
MODULE_PARM_DESC(kbus_max_queue_bytes,
		 "Bytes of messages one Ksock's queue may hold (4096..1073741824)");

unsigned int kbus_max_user_bindings = KBUS_DEF_MAX_USER_BINDINGS;
module_param(kbus_max_user_bindings, uint, 0444);
MODULE_PARM_DESC(kbus_max_user_bindings,
		 "Bindings one unprivileged user may hold on a new device (0: no limit)");

static dev_t kbus_devt;
static struct class *kbus_class;

/* The devices, by index; kbus_devices_lock protects the table. */
DEFINE_MUTEX(kbus_devices_lock);
static struct kbus_dev *kbus_devices[KBUS_MAX_NUM_DEVICES];
static unsigned int kbus_num_created;

/* Callers hold kbus_devices_lock. */
unsigned int kbus_num_devs(void)
{
	return kbus_num_created;
}

/* Callers hold kbus_devices_lock. */
struct kbus_dev *kbus_get_dev(unsigned int index)
{
	return index < kbus_num_created ? kbus_devices[index] : NULL;
}

static char *kbus_devnode(kbus_devnode_dev *dev, umode_t *mode)
{
	if (mode)
		*mode = kbus_dev_mode & 0777;
	return NULL;
}

/*
 * /sys/class/kbus/kbusN/name_hash: the name table's size and its longest
 * bucket, so that a test can see that crafted names do not pile up.
 */
static ssize_t name_hash_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct kbus_dev *dev = dev_get_drvdata(d);
	ssize_t n;

	if (kbus_lock_interruptible(dev))
		return -ERESTARTSYS;
	n = sysfs_emit(buf, "buckets %u bindings %u longest %u\n", 1U << dev->hash_bits,
		       dev->num_bindings, kbus_hash_longest_chain(dev));
	mutex_unlock(&dev->lock);
	return n;
}

/* Root only: it walks the whole table under the device lock. */
static DEVICE_ATTR_ADMIN_RO(name_hash);

/*
 * /sys/class/kbus/kbusN/max_user_bindings: how many bindings one user
 * without the device's privileges may hold on it (docs/kbus.md §18.5);
 * 0 lifts the limit. Bindings already made stay when it is lowered.
 */
static ssize_t max_user_bindings_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct kbus_dev *dev = dev_get_drvdata(d);

	return sysfs_emit(buf, "%u\n", READ_ONCE(dev->max_user_bindings));
}

static ssize_t max_user_bindings_store(struct device *d, struct device_attribute *attr,
				       const char *buf, size_t count)
{
	struct kbus_dev *dev = dev_get_drvdata(d);
	u32 val;
	int err;

	err = kstrtou32(buf, 0, &val);
	if (err)
		return err;
	if (kbus_lock_interruptible(dev))
		return -ERESTARTSYS;
	WRITE_ONCE(dev->max_user_bindings, val);
	mutex_unlock(&dev->lock);
	return count;
}

static DEVICE_ATTR_RW(max_user_bindings);

static struct attribute *kbus_dev_attrs[] = {
	&dev_attr_name_hash.attr,
	&dev_attr_max_user_bindings.attr,
	NULL,
};
ATTRIBUTE_GROUPS(kbus_dev);

enum kbus_lock_how { KBUS_LOCK_PLAIN, KBUS_LOCK_INTR, KBUS_LOCK_KILL };

/*
 * kbus_lock_how - take the device lock. An uncontended lock costs one try;
 * a caller that has to wait is counted in lock_waiting until it has the
 * lock (or gave up), and the last to stop waiting wakes a holder that let
 * the lock go for the waiters' sake (kbus_yield_lock). One function for
 * the three kinds of wait, so that each branch exists once.
 */
static int kbus_lock_how(struct kbus_dev *dev, enum kbus_lock_how how)
{
	int err = 0;

	if (mutex_trylock(&dev->lock))
		return 0;
	atomic_inc(&dev->lock_waiting);
	switch (how) {
	case KBUS_LOCK_PLAIN:
		mutex_lock(&dev->lock);
		break;
	case KBUS_LOCK_INTR:
		err = mutex_lock_interruptible(&dev->lock);
		break;
	case KBUS_LOCK_KILL:
		err = mutex_lock_killable(&dev->lock);
		break;
	}
	/* The decrement orders the count before the look at the sleepers. */
	if (atomic_dec_and_test(&dev->lock_waiting) && waitqueue_active(&dev->lock_turn))
		wake_up(&dev->lock_turn);
	return err;
}

void kbus_lock(struct kbus_dev *dev)
{
	kbus_lock_how(dev, KBUS_LOCK_PLAIN);
}

int kbus_lock_interruptible(struct kbus_dev *dev)
{
	return kbus_lock_how(dev, KBUS_LOCK_INTR);
}

int kbus_lock_killable(struct kbus_dev *dev)
{
	return kbus_lock_how(dev, KBUS_LOCK_KILL);
}

/*
 * The longest a holder that yields waits for the waiters to have the lock:
 * long enough for a woken waiter on another CPU to run, short enough that
 * a stream of new waiters delays a long job by only this much a slice.
 */
#define KBUS_TURN_JIFFIES	max_t(unsigned long, msecs_to_jiffies(2), 1)

/*
 * kbus_yield_lock - let the device lock go in the middle of a long job,
 * let those waiting for it now have it first, and take it again. A mutex
 * given up and taken straight back is usually taken by its holder again,
 * before a woken waiter runs; so the holder waits until no one is waiting
 * (each counted by kbus_lock and its kin until it has the lock), for at
 * most KBUS_TURN_JIFFIES, and then queues behind them.
 */
void kbus_yield_lock(struct kbus_dev *dev)
{
	lockdep_assert_held(&dev->lock);
	mutex_unlock(&dev->lock);
	if (atomic_read(&dev->lock_waiting))
		wait_event_timeout(dev->lock_turn, !atomic_read(&dev->lock_waiting),
				   KBUS_TURN_JIFFIES);
	else
		cond_resched();
	mutex_lock(&dev->lock);
}

static int kbus_create_device(unsigned int index)
{
	struct kbus_dev *dev;
	int err;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->index = index;
	mutex_init(&dev->lock);
	atomic_set(&dev->lock_waiting, 0);
	init_waitqueue_head(&dev->lock_turn);
	xa_init_flags(&dev->ksock_ids, XA_FLAGS_ACCOUNT);
	INIT_LIST_HEAD(&dev->bindings);
	INIT_LIST_HEAD(&dev->setaside);
	INIT_LIST_HEAD(&dev->senders);
	dev->max_message_size = KBUS_DEF_MAX_MESSAGE_SIZE;
	err = kbus_bindings_init(dev);
	if (err)
		goto free_dev;

	cdev_init(&dev->cdev, &kbus_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, MKDEV(MAJOR(kbus_devt), index), 1);
	if (err)
		goto free_dev;

	dev->dev = device_create_with_groups(kbus_class, NULL, MKDEV(MAJOR(kbus_devt), index),
					     dev, kbus_dev_groups, "kbus%u", index);
	if (IS_ERR(dev->dev)) {
		err = PTR_ERR(dev->dev);
		goto del_cdev;
	}
	kbus_devices[index] = dev;
	return 0;

del_cdev:
	cdev_del(&dev->cdev);
free_dev:
	kbus_bindings_free(dev);
	kfree(dev);
	return err;
}

/*
 * kbus_new_device - NEWDEVICE: add the device with the next index. Its node
 * appears asynchronously (devtmpfs/udev).
 */
int kbus_new_device(u32 *index)
{
	int err;

	if (mutex_lock_interruptible(&kbus_devices_lock))
		return -ERESTARTSYS;
	if (kbus_num_created >= KBUS_MAX_NUM_DEVICES) {
		err = -EINVAL;
		goto out;
	}
	err = kbus_create_device(kbus_num_created);
	if (!err)
		*index = kbus_num_created++;
out:
	mutex_unlock(&kbus_devices_lock);
	return err;
}

static void kbus_destroy_device(struct kbus_dev *dev)
{
	device_destroy(kbus_class, MKDEV(MAJOR(kbus_devt), dev->index));
	cdev_del(&dev->cdev);
	/* No Ksock can be open: each holds a reference on the module. */
	WARN_ON(!xa_empty(&dev->ksock_ids) || !list_empty(&dev->bindings));
	xa_destroy(&dev->ksock_ids);
	kbus_bindings_free(dev);
	mutex_destroy(&dev->lock);
	kfree(dev);
}

static void kbus_destroy_all(void)
{
	unsigned int i;

	for (i = 0; i < kbus_num_created; i++) {
		kbus_destroy_device(kbus_devices[i]);
		kbus_devices[i] = NULL;
	}
	kbus_num_created = 0;
}

static int __init kbus_init(void)
{
	unsigned int i;
	int err;

	if (kbus_num_devices < 1 || kbus_num_devices > KBUS_MAX_NUM_DEVICES) {
		pr_err("kbus_num_devices=%d is outside 1..%d\n",
		       kbus_num_devices, KBUS_MAX_NUM_DEVICES);
		return -EINVAL;
	}
	if (kbus_max_queue_bytes < KBUS_MIN_MAX_QUEUE_BYTES ||
	    kbus_max_queue_bytes > KBUS_MAX_MAX_QUEUE_BYTES) {
		pr_err("kbus_max_queue_bytes=%u is outside %u..%u\n", kbus_max_queue_bytes,
		       KBUS_MIN_MAX_QUEUE_BYTES, KBUS_MAX_MAX_QUEUE_BYTES);
		return -EINVAL;
	}

	err = kbus_qentry_cache_init();
	if (err)
		return err;
	err = alloc_chrdev_region(&kbus_devt, 0, KBUS_MAX_NUM_DEVICES, KBUS_MODNAME);
	if (err)
		goto cache;

	kbus_class = kbus_class_create(KBUS_MODNAME);
	if (IS_ERR(kbus_class)) {
		err = PTR_ERR(kbus_class);
		goto unregister;
	}
	kbus_class->devnode = kbus_devnode;

	for (i = 0; i < kbus_num_devices; i++) {
		err = kbus_create_device(i);
		if (err)
			goto destroy;
		kbus_num_created++;
	}
	err = kbus_proc_init();
	if (err)
		goto destroy;
	pr_info("%u device(s), mode %04o\n", kbus_num_created, kbus_dev_mode & 0777);
	return 0;

destroy:
	kbus_destroy_all();
	class_destroy(kbus_class);
unregister:
	unregister_chrdev_region(kbus_devt, KBUS_MAX_NUM_DEVICES);
cache:
	kbus_qentry_cache_exit();
	return err;
}

static void __exit kbus_exit(void)
{
	kbus_proc_exit();
	kbus_destroy_all();
	class_destroy(kbus_class);
	unregister_chrdev_region(kbus_devt, KBUS_MAX_NUM_DEVICES);
	kbus_qentry_cache_exit();
}

module_init(kbus_init);
module_exit(kbus_exit);

MODULE_DESCRIPTION("KBUS lightweight kernel-mediated message system");
/* "Dual MPL/GPL" is the SPDX lines' GPL-2.0 OR MPL-1.1, as the original declared. */
MODULE_LICENSE("Dual MPL/GPL");
MODULE_VERSION(KBUS_VERSION);
