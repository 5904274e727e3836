/* SPDX-License-Identifier: GPL-2.0 OR MPL-1.1 */
/*
 * What differs between the kernels the module is built for (6.1 and 6.12,
 * docs/kbus.md §6): the one place that knows, so that no other file tests
 * a kernel version.
 */
#ifndef _KBUS_COMPAT_H
#define _KBUS_COMPAT_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/version.h>

/* class_create() lost its owner argument in 6.4. */
static inline struct class *kbus_class_create(const char *name)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
	return class_create(THIS_MODULE, name);
#else
	return class_create(name);
#endif
}

/* A class's devnode() is given a const device from 6.2 on. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define kbus_devnode_dev	struct device
#else
#define kbus_devnode_dev	const struct device
#endif

/*
 * no_llseek went in 6.12, where a file without llseek cannot seek
 * (ESPIPE), as no_llseek said before.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define kbus_no_llseek		no_llseek
#else
#define kbus_no_llseek		NULL
#endif

#endif /* _KBUS_COMPAT_H */
