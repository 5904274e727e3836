/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KBUS internal definitions shared by the module's source files.
 */
#ifndef _KBUS_INTERNAL_H
#define _KBUS_INTERNAL_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/kbus_defns.h>

#define KBUS_MAX_NUM_DEVICES	256
#define KBUS_DEF_NUM_DEVICES	1

/* One KBUS device: a separate bus with its own Ksocks, bindings and ids. */
struct kbus_dev {
	struct cdev		cdev;
	struct device		*dev;
	unsigned int		index;
	struct mutex		lock;		/* serialises everything below */
	struct list_head	ksocks;		/* open Ksocks, newest first */
	u32			next_ksock_id;
};

/* One open file on a KBUS device. */
struct kbus_ksock {
	struct kbus_dev		*dev;
	struct list_head	node;		/* in dev->ksocks */
	u32			id;
	pid_t			pid;
};

#endif /* _KBUS_INTERNAL_H */
