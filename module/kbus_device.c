// SPDX-License-Identifier: GPL-2.0
/*
 * KBUS devices: module load and unload, the character device region, the
 * "kbus" class and the /dev/kbusN nodes.
 *
 * Device nodes are created with mode kbus_dev_mode (default 0666, what KBUS
 * installations have always given /dev/kbus* through a udev rule); load the
 * module with e.g. kbus_dev_mode=0660 to tighten it.
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

static ushort kbus_dev_mode = 0666;
module_param(kbus_dev_mode, ushort, 0444);
MODULE_PARM_DESC(kbus_dev_mode, "Permission bits of /dev/kbusN nodes (default 0666)");

static dev_t kbus_devt;
static struct class *kbus_class;
static struct kbus_dev *kbus_devices[KBUS_MAX_NUM_DEVICES];
static unsigned int kbus_num_created;

static int kbus_open(struct inode *inode, struct file *file)
{
	struct kbus_dev *dev = container_of(inode->i_cdev, struct kbus_dev, cdev);
	struct kbus_ksock *ksock;

	ksock = kzalloc(sizeof(*ksock), GFP_KERNEL);
	if (!ksock)
		return -ENOMEM;
	ksock->dev = dev;
	ksock->pid = task_pid_nr(current);

	if (mutex_lock_interruptible(&dev->lock)) {
		kfree(ksock);
		return -ERESTARTSYS;
	}
	if (++dev->next_ksock_id == 0)
		dev->next_ksock_id = 1;
	ksock->id = dev->next_ksock_id;
	list_add(&ksock->node, &dev->ksocks);
	mutex_unlock(&dev->lock);

	file->private_data = ksock;
	return 0;
}

static int kbus_release(struct inode *inode, struct file *file)
{
	struct kbus_ksock *ksock = file->private_data;
	struct kbus_dev *dev = ksock->dev;

	mutex_lock(&dev->lock);
	list_del(&ksock->node);
	mutex_unlock(&dev->lock);
	kfree(ksock);
	return 0;
}

static const struct file_operations kbus_fops = {
	.owner		= THIS_MODULE,
	.open		= kbus_open,
	.release	= kbus_release,
	.llseek		= no_llseek,
};

static char *kbus_devnode(struct device *dev, umode_t *mode)
{
	if (mode)
		*mode = kbus_dev_mode & 0777;
	return NULL;
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
	INIT_LIST_HEAD(&dev->ksocks);

	cdev_init(&dev->cdev, &kbus_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, MKDEV(MAJOR(kbus_devt), index), 1);
	if (err)
		goto free_dev;

	dev->dev = device_create(kbus_class, NULL, MKDEV(MAJOR(kbus_devt), index),
				 dev, "kbus%u", index);
	if (IS_ERR(dev->dev)) {
		err = PTR_ERR(dev->dev);
		goto del_cdev;
	}
	kbus_devices[index] = dev;
	return 0;

del_cdev:
	cdev_del(&dev->cdev);
free_dev:
	kfree(dev);
	return err;
}

static void kbus_destroy_device(struct kbus_dev *dev)
{
	device_destroy(kbus_class, MKDEV(MAJOR(kbus_devt), dev->index));
	cdev_del(&dev->cdev);
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

	err = alloc_chrdev_region(&kbus_devt, 0, KBUS_MAX_NUM_DEVICES, KBUS_MODNAME);
	if (err)
		return err;

	kbus_class = class_create(THIS_MODULE, KBUS_MODNAME);
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
	pr_info("%u device(s), mode %04o\n", kbus_num_created, kbus_dev_mode & 0777);
	return 0;

destroy:
	kbus_destroy_all();
	class_destroy(kbus_class);
unregister:
	unregister_chrdev_region(kbus_devt, KBUS_MAX_NUM_DEVICES);
	return err;
}

static void __exit kbus_exit(void)
{
	kbus_destroy_all();
	class_destroy(kbus_class);
	unregister_chrdev_region(kbus_devt, KBUS_MAX_NUM_DEVICES);
}

module_init(kbus_init);
module_exit(kbus_exit);

MODULE_DESCRIPTION("KBUS lightweight kernel-mediated message system");
MODULE_LICENSE("Dual MPL/GPL");
