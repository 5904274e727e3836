/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device a client opens when it is not told which: /dev/kbusN for the
 * number N in $KBUS_DEVICE, else /dev/kbus0 (docs/kbus.md §14.5).
 */
#ifndef KBUS_DEVICE_H
#define KBUS_DEVICE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The path to open, or NULL (errno EINVAL) if $KBUS_DEVICE is no number. */
static inline const char *kbus_device_path(void)
{
	static char path[32];
	const char *env = getenv("KBUS_DEVICE");
	unsigned long n;
	char *end;

	if (!env || !*env)
		return "/dev/kbus0";
	errno = 0;
	n = strtoul(env, &end, 10);
	if (errno || *end || env[0] == '-' || n > 255) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(path, sizeof(path), "/dev/kbus%lu", n);
	return path;
}

#endif
