// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * A KBUS client in plain C, on nothing but the uapi header's structures,
 * numbers and helpers and the system calls open, write, ioctl, poll and
 * read: what a program written for the original KBUS does. The rig builds
 * it for every target and specs/api runs it against the module, and
 * against Go programs on the same bus.
 *
 *   kbus-client send NAME DATA          send an announcement, print its id
 *   kbus-client request NAME DATA       send a request, print the reply
 *   kbus-client listen NAME COUNT       print COUNT messages matching NAME
 *   kbus-client reply NAME DATA COUNT   answer COUNT requests with DATA
 *
 * listen and reply print "ready" once bound. Exit status: 0 success, 1 a
 * system call failed, 2 bad usage, 3 a status message instead of a reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kbus_defns.h>
#include "kbus_device.h"

static const char *device = "/dev/kbus0";

static int fail(const char *what)
{
	fprintf(stderr, "kbus-client: %s: %s\n", what, strerror(errno));
	return 1;
}

static int open_ksock(int flags)
{
	int fd = open(device, flags);

	if (fd < 0)
		exit(fail(device));
	return fd;
}

static int bind_to(int fd, const char *name, int replier)
{
	struct kbus_bind_request req;

	memset(&req, 0, sizeof(req));
	req.is_replier = replier;
	req.name_len = strlen(name);
	req.name = (char *)name;
	return ioctl(fd, KBUS_IOC_BIND, &req);
}

/*
 * Sends a message in the pointy form: the header points at the name and
 * data, which KBUS copies at SEND.
 */
static int send_pointy(int fd, const char *name, const char *data, kbus_u32 flags,
		       const struct kbus_message_header *in_reply_to, struct kbus_msg_id *id)
{
	struct kbus_message_header hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.start_guard = KBUS_MSG_START_GUARD;
	hdr.end_guard = KBUS_MSG_END_GUARD;
	hdr.flags = flags;
	hdr.name_len = strlen(name);
	hdr.name = (char *)name;
	hdr.data_len = strlen(data);
	hdr.data = hdr.data_len ? (void *)data : NULL;
	if (in_reply_to) {
		hdr.to = in_reply_to->from;
		hdr.in_reply_to = in_reply_to->id;
	}
	if (write(fd, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		return -1;
	return ioctl(fd, KBUS_IOC_SEND, id);
}

/*
 * Sends a message in the entire form: header, padded name, padded data and
 * the final end guard in one buffer, laid out with the header's macros.
 */
static int send_entire(int fd, const char *name, const char *data, kbus_u32 flags,
		       struct kbus_msg_id *id)
{
	kbus_u32 name_len = strlen(name), data_len = strlen(data);
	size_t len = KBUS_ENTIRE_MSG_LEN(name_len, data_len);
	struct kbus_entire_message *msg = calloc(1, len);
	int ret = -1;

	if (!msg)
		return -1;
	msg->header.start_guard = KBUS_MSG_START_GUARD;
	msg->header.end_guard = KBUS_MSG_END_GUARD;
	msg->header.flags = flags;
	msg->header.name_len = name_len;
	msg->header.data_len = data_len;
	memcpy(kbus_msg_name_ptr(&msg->header), name, name_len);
	memcpy(kbus_msg_data_ptr(&msg->header), data, data_len);
	*kbus_msg_end_ptr(msg) = KBUS_MSG_END_GUARD;
	if (write(fd, msg, len) == (ssize_t)len)
		ret = ioctl(fd, KBUS_IOC_SEND, id);
	free(msg);
	return ret;
}

/* Waits for the next message and reads it whole; the caller frees it. */
static struct kbus_entire_message *next_msg(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct kbus_entire_message *msg;
	kbus_u32 len = 0;
	size_t got = 0;

	for (;;) {
		if (ioctl(fd, KBUS_IOC_NEXTMSG, &len) < 0)
			return NULL;
		if (len)
			break;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return NULL;
	}
	msg = malloc(len);
	if (!msg)
		return NULL;
	while (got < len) {
		ssize_t n = read(fd, (char *)msg + got, len - got);

		if (n <= 0) {
			free(msg);
			return NULL;
		}
		got += n;
	}
	if (msg->header.start_guard != KBUS_MSG_START_GUARD ||
	    *kbus_msg_end_ptr(msg) != KBUS_MSG_END_GUARD) {
		fprintf(stderr, "kbus-client: a message with bad guards\n");
		exit(1);
	}
	return msg;
}

static void print_msg(const struct kbus_entire_message *msg)
{
	const struct kbus_message_header *h = &msg->header;

	printf("%s [%u:%u] from %u flags %#x data '%.*s'\n", kbus_msg_name_ptr(h),
	       h->id.network_id, h->id.serial_num, h->from, h->flags,
	       (int)h->data_len, (const char *)kbus_msg_data_ptr(h));
	fflush(stdout);
}

static void ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

static int cmd_send(const char *name, const char *data)
{
	struct kbus_msg_id id;
	int fd = open_ksock(O_RDWR);

	if (send_entire(fd, name, data, 0, &id) < 0)
		return fail("send");
	printf("[%u:%u]\n", id.network_id, id.serial_num);
	return close(fd) ? fail("close") : 0;
}

static int cmd_request(const char *name, const char *data)
{
	struct kbus_entire_message *msg;
	struct kbus_msg_id id;
	int fd = open_ksock(O_RDWR);

	if (send_pointy(fd, name, data, KBUS_BIT_WANT_A_REPLY, NULL, &id) < 0)
		return fail("send the request");
	for (;;) {
		msg = next_msg(fd);
		if (!msg)
			return fail("read the reply");
		if (msg->header.in_reply_to.network_id == id.network_id &&
		    msg->header.in_reply_to.serial_num == id.serial_num)
			break;
		free(msg);
	}
	print_msg(msg);
	if (!strncmp(kbus_msg_name_ptr(&msg->header), "$.KBUS.", 7))
		return 3;
	free(msg);
	return close(fd) ? fail("close") : 0;
}

static int cmd_listen(const char *name, long count)
{
	int fd = open_ksock(O_RDONLY);

	if (bind_to(fd, name, 0) < 0)
		return fail("bind");
	ready();
	while (count-- > 0) {
		struct kbus_entire_message *msg = next_msg(fd);

		if (!msg)
			return fail("read");
		print_msg(msg);
		free(msg);
	}
	return close(fd) ? fail("close") : 0;
}

static int cmd_reply(const char *name, const char *data, long count)
{
	int fd = open_ksock(O_RDWR);

	if (bind_to(fd, name, 1) < 0)
		return fail("bind");
	ready();
	while (count > 0) {
		struct kbus_entire_message *msg = next_msg(fd);
		struct kbus_msg_id id;
		kbus_u32 want = KBUS_BIT_WANT_A_REPLY | KBUS_BIT_WANT_YOU_TO_REPLY;

		if (!msg)
			return fail("read");
		if ((msg->header.flags & want) == want) {
			if (send_pointy(fd, kbus_msg_name_ptr(&msg->header), data, 0, &msg->header, &id) < 0)
				return fail("send the reply");
			count--;
		}
		free(msg);
	}
	return close(fd) ? fail("close") : 0;
}

int main(int argc, char **argv)
{
	device = kbus_device_path();
	if (!device)
		return fail("KBUS_DEVICE");
	if (argc == 4 && !strcmp(argv[1], "send"))
		return cmd_send(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "request"))
		return cmd_request(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "listen"))
		return cmd_listen(argv[2], strtol(argv[3], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "reply"))
		return cmd_reply(argv[2], argv[3], strtol(argv[4], NULL, 10));
	fprintf(stderr, "usage: kbus-client send|request NAME DATA | listen NAME COUNT | reply NAME DATA COUNT\n");
	return 2;
}
