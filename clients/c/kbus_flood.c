// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * Floods KBUS until it refuses with ENOMEM, for the memory-pressure specs
 * (docs/testing.md), which start it inside a memory cgroup. It is C, one
 * thread, with every buffer it uses touched before the flood starts, so
 * that at the cgroup's limit the allocation that fails is KBUS's (which
 * must say ENOMEM) and not a page fault of this process (which would call
 * the OOM killer).
 *
 *   kbus-flood replay     REPORTREPLIERBINDS=1 over and over: a bind
 *                         event queued for every replier binding each time
 *   kbus-flood requests   requests to $.Flood.Service, whose replier does
 *                         not read; each holds a reply slot and its status
 *
 * It prints "ENOMEM CALLS QUEUED" (calls that succeeded, messages queued
 * here), or why the flood did not end that way (exit 1). With requests it
 * then waits for end of file on its input (the spec closes the replier
 * meanwhile) and prints "statuses N", the GoneAway statuses it read.
 *
 *   kbus-flood hoard N S  the hostile suite's hoarding listener: binds
 *                         "$.*" N times on a read-only Ksock with room for
 *                         a million messages and never reads. It prints
 *                         "ready", waits for a line, sleeps S seconds,
 *                         prints "done queued Q" (what its queue holds)
 *                         and keeps its queue until end of file. Its
 *                         cgroup fills with what others send it: nothing
 *                         it needs is left to fault in by then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <linux/kbus_defns.h>
#include "kbus_device.h"

#define ROUNDS		8000		/* replay rounds if KBUS never refuses */
#define REQUESTS	(ROUNDS * 64)
#define BALLAST		(1 << 20)

static char out[256];
static char buf[4096];
static char data[512];
static const char service[] = "$.Flood.Service";

static void say(const char *fmt, unsigned long a, unsigned long b)
{
	int n = snprintf(out, sizeof(out), fmt, a, b);

	if (n > 0 && write(1, out, n) < 0)
		_exit(2);
}

/* Touch what the stack will need, before memory runs short. */
static void touch_stack(void)
{
	volatile char pad[64 * 1024];

	memset((char *)pad, 0, sizeof(pad));
}

static int send_request(int fd)
{
	struct kbus_message_header h;
	struct kbus_msg_id id;

	memset(&h, 0, sizeof(h));
	h.start_guard = KBUS_MSG_START_GUARD;
	h.end_guard = KBUS_MSG_END_GUARD;
	h.flags = KBUS_BIT_WANT_A_REPLY;
	h.name_len = sizeof(service) - 1;
	h.name = (char *)service;
	h.data_len = sizeof(data);
	h.data = data;
	if (write(fd, &h, sizeof(h)) != sizeof(h))
		return -1;
	return ioctl(fd, KBUS_IOC_SEND, &id);
}

static int hoard(unsigned long bindings, unsigned int seconds)
{
	static const char all[] = "$.*";
	struct kbus_bind_request b = { 0, sizeof(all) - 1, (char *)all };
	const char *device = kbus_device_path();
	unsigned int v = 1 << 20, queued = 0;
	unsigned long i;
	int fd;

	fd = device ? open(device, O_RDONLY) : -1;
	if (fd < 0 || ioctl(fd, KBUS_IOC_MAXMSGS, &v) < 0)
		return 1;
	for (i = 0; i < bindings; i++)
		if (ioctl(fd, KBUS_IOC_BIND, &b) < 0)
			return 1;
	/*
	 * Every page in now, copy-on-write ones copied: a write to the C
	 * library's data the first time sleep() runs faulted on arm64 once
	 * the cgroup was full, and the OOM killer ended the hoarder.
	 */
	if (mlockall(MCL_CURRENT) < 0) {
		say("mlockall: errno %lu%.0lu\n", errno, 0);
		return 1;
	}
	say("ready\n", 0, 0);
	if (read(0, buf, sizeof(buf)) <= 0)
		return 1;
	sleep(seconds);
	ioctl(fd, KBUS_IOC_NUMMSGS, &queued);
	say("done queued %lu%.0lu\n", queued, 0);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int v, queued = 0;
	unsigned long n, limit;
	int replay, fd, err = 0;
	const char *device;
	char *ballast;

	memset(buf, 0, sizeof(buf));
	memset(data, 'x', sizeof(data));
	say("", 0, 0);
	touch_stack();
	if (argc == 4 && !strcmp(argv[1], "hoard"))
		return hoard(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
	if (argc != 2 || (strcmp(argv[1], "replay") && strcmp(argv[1], "requests"))) {
		say("usage: kbus-flood replay|requests|hoard BINDINGS SECONDS\n", 0, 0);
		return 2;
	}
	replay = !strcmp(argv[1], "replay");
	ballast = mmap(NULL, BALLAST, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ballast == MAP_FAILED)
		return 1;
	memset(ballast, 1, BALLAST);
	device = kbus_device_path();
	fd = device ? open(device, O_RDWR) : -1;
	if (fd < 0)
		return 1;
	v = 1 << 24;
	if (ioctl(fd, KBUS_IOC_MAXMSGS, &v) < 0)
		return 1;

	limit = replay ? ROUNDS : REQUESTS;
	for (n = 0; n < limit; n++) {
		int r;

		if (replay) {
			v = 1;
			r = ioctl(fd, KBUS_IOC_REPORTREPLIERBINDS, &v);
		} else {
			r = send_request(fd);
		}
		if (r < 0) {
			err = errno;
			break;
		}
	}
	munmap(ballast, BALLAST);
	ioctl(fd, KBUS_IOC_NUMMSGS, &queued);
	if (err != ENOMEM) {
		if (err)
			say("other error: errno %lu after %lu calls\n", err, n);
		else
			say("no error after %lu calls%.0lu\n", n, 0);
		return 1;
	}
	say("ENOMEM %lu %lu\n", n, queued);
	if (replay)
		return 0;

	while (read(0, buf, sizeof(buf)) > 0)
		;
	n = 0;
	for (;;) {
		const struct kbus_message_header *h = (const void *)buf;
		unsigned int len = 0;

		if (ioctl(fd, KBUS_IOC_NEXTMSG, &len) <= 0 || len == 0 || len > sizeof(buf))
			break;
		if (read(fd, buf, len) != (ssize_t)len)
			break;
		if (h->name_len == sizeof(KBUS_MSG_NAME_REPLIER_GONEAWAY) - 1 &&
		    !memcmp(buf + sizeof(*h), KBUS_MSG_NAME_REPLIER_GONEAWAY, h->name_len))
			n++;
	}
	say("statuses %lu%.0lu\n", n, 0);
	return 0;
}
