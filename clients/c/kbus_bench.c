// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * The raw-ABI benchmark: KBUS measured from C, with no Go runtime between
 * the program and the module, through the original call sequence (write +
 * SEND, poll + NEXTMSG + read), through SENDMSG and RECVMSG, and with RECVMANY
 * taking several messages a call (docs/kbus.md §7.1), beside the
 * kernel's own IPC (a SOCK_SEQPACKET socketpair, a POSIX message queue)
 * doing the same work. kbusbench runs it in the guest and reads its
 * figures, one per line:
 *
 *   figure<TAB>NAME<TAB>UNIT<TAB>SAMPLE SAMPLE ...
 *
 *   kbus-bench [-r REPEATS] [-n MESSAGES]
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/kbus_defns.h>
#include "kbus_device.h"
#include "bench_figures.h"

#define DATA_LEN	64
#define MAX_MSG		4096
/* RECVMANY's buffer: room for some 400 of the benchmark's messages. */
#define MANY_BUF	(64 * 1024)
/* The fan-out with RECVMANY sends this many messages, then each listener
 * takes them in one call. */
#define BURST		16

/* How a side receives: the original calls, RECVMSG, or RECVMANY (all but
 * the original calls send with SENDMSG). */
enum { ORIGINAL, ONECALL, MANY };

static const char *device = "/dev/kbus0";
static int repeats = 5;
static long messages = 20000;
/* How many 64-byte messages a socketpair holds: the listener's queue gets
 * as many, so that KBUS and the floor batch alike. */
static kbus_u32 batch;

static void die(const char *what)
{
	fprintf(stderr, "kbus-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_ksock(void)
{
	int fd = open(device, O_RDWR);

	if (fd < 0)
		die(device);
	return fd;
}

static void bind_to(int fd, const char *name, int replier)
{
	struct kbus_bind_request req;

	memset(&req, 0, sizeof(req));
	req.is_replier = replier;
	req.name_len = strlen(name);
	req.name = (char *)name;
	if (ioctl(fd, KBUS_IOC_BIND, &req) < 0)
		die("bind");
}

/* A message in the entire form, to be sent again and again. */
struct message {
	struct kbus_entire_message *m;
	size_t len;
};

static struct message build(const char *name, kbus_u32 flags)
{
	struct message msg;
	kbus_u32 name_len = strlen(name);

	msg.len = KBUS_ENTIRE_MSG_LEN(name_len, DATA_LEN);
	msg.m = calloc(1, msg.len);
	if (!msg.m)
		die("calloc");
	msg.m->header.start_guard = KBUS_MSG_START_GUARD;
	msg.m->header.end_guard = KBUS_MSG_END_GUARD;
	msg.m->header.flags = flags;
	msg.m->header.name_len = name_len;
	msg.m->header.data_len = DATA_LEN;
	memcpy(kbus_msg_name_ptr(&msg.m->header), name, name_len);
	*kbus_msg_end_ptr(msg.m) = KBUS_MSG_END_GUARD;
	return msg;
}

/* Wait until a pending ALL_OR_WAIT send has gone. */
static void wait_sent(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	while (poll(&p, 1, -1) < 0 || !(p.revents & POLLOUT))
		if (errno != EINTR && errno)
			die("poll");
}

/* The original sequence: write() and SEND. */
static void send_original(int fd, const struct message *msg)
{
	struct kbus_msg_id id;

	if (write(fd, msg->m, msg->len) != (ssize_t)msg->len)
		die("write");
	if (ioctl(fd, KBUS_IOC_SEND, &id) < 0) {
		if (errno != EAGAIN)
			die("send");
		wait_sent(fd);
	}
}

static void send_onecall(int fd, const struct message *msg)
{
	if (ioctl(fd, KBUS_IOC_SENDMSG, msg->m) < 0) {
		if (errno != EAGAIN)
			die("sendmsg");
		wait_sent(fd);
	}
}

/* The original sequence: poll until readable, NEXTMSG, read(). */
static kbus_u32 recv_original(int fd, char *buf)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	kbus_u32 len;

	for (;;) {
		if (ioctl(fd, KBUS_IOC_NEXTMSG, &len) < 0)
			die("nextmsg");
		if (len)
			break;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die("poll");
	}
	if (read(fd, buf, len) != (ssize_t)len)
		die("read");
	return len;
}

static kbus_u32 recv_onecall(int fd, char *buf, kbus_u32 timeout_ms)
{
	struct kbus_receive r = { .len = MAX_MSG, .timeout_ms = timeout_ms, .buf = buf };
	int n;

	do
		n = ioctl(fd, KBUS_IOC_RECVMSG, &r);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("recvmsg");
	return n;
}

/* Every queued message that fits in @len bytes, with RECVMANY: how many. */
static kbus_u32 recv_many(int fd, char *buf, kbus_u32 len, kbus_u32 timeout_ms)
{
	struct kbus_receive_many r = { .len = len, .timeout_ms = timeout_ms, .buf = buf };
	int n;

	do
		n = ioctl(fd, KBUS_IOC_RECVMANY, &r);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("recvmany");
	return n;
}

/* What the two threads of a measurement share. */
struct side {
	int fd;		/* the thread's end: listener, replier, or socket */
	int sock;	/* this end: sender, asker, or socket */
	mqd_t mq;
	int onecall;	/* ORIGINAL, ONECALL or MANY */
	long n;
	struct message msg;	/* the replier's reply */
};

/*
 * Runs @receive in a thread of its own while @send runs here, and returns
 * @s->n over the time both took: messages or round trips per second.
 */
static double per_second(struct side *s, void *(*receive)(void *), void (*send)(struct side *))
{
	double start = now();
	pthread_t t;

	if (pthread_create(&t, NULL, receive, s))
		die("pthread_create");
	send(s);
	pthread_join(t, NULL);
	return s->n / (now() - start);
}

static void *announce_receiver(void *arg)
{
	struct side *s = arg;
	char buf[MAX_MSG];
	char *many;
	long i;

	if (s->onecall == MANY) {
		many = malloc(MANY_BUF);
		if (!many)
			die("malloc");
		for (i = 0; i < s->n; )
			i += recv_many(s->fd, many, MANY_BUF, KBUS_WAIT_FOREVER);
		free(many);
		return NULL;
	}
	for (i = 0; i < s->n; i++) {
		if (s->onecall)
			recv_onecall(s->fd, buf, KBUS_WAIT_FOREVER);
		else
			recv_original(s->fd, buf);
	}
	return NULL;
}

static void announce_sender(struct side *s)
{
	long i;

	for (i = 0; i < s->n; i++) {
		if (s->onecall)
			send_onecall(s->sock, &s->msg);
		else
			send_original(s->sock, &s->msg);
	}
}

/* Announcements 1 -> 1 per second. */
static double announcements(int onecall)
{
	struct side s = { .onecall = onecall, .n = messages };
	double rate;

	s.sock = open_ksock();	/* the sender */
	s.fd = open_ksock();
	bind_to(s.fd, "$.Bench.C", 0);
	if (ioctl(s.fd, KBUS_IOC_MAXMSGS, &batch) < 0)
		die("maxmsgs");
	s.msg = build("$.Bench.C", KBUS_BIT_ALL_OR_WAIT);
	rate = per_second(&s, announce_receiver, announce_sender);
	close(s.sock);
	close(s.fd);
	free(s.msg.m);
	return rate;
}

static kbus_u32 socketpair_capacity(void)
{
	char data[DATA_LEN] = { 0 };
	kbus_u32 n = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		die("socketpair");
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
	while (send(sv[0], data, sizeof(data), 0) == DATA_LEN)
		n++;
	close(sv[0]);
	close(sv[1]);
	return n;
}

static void *socket_receiver(void *arg)
{
	struct side *s = arg;
	char buf[MAX_MSG];
	long i;

	for (i = 0; i < s->n; i++)
		if (recv(s->fd, buf, sizeof(buf), 0) != DATA_LEN)
			die("recv");
	return NULL;
}

static void socket_sender(struct side *s)
{
	char data[DATA_LEN] = { 0 };
	long i;

	for (i = 0; i < s->n; i++)
		if (send(s->sock, data, sizeof(data), 0) != DATA_LEN)
			die("send");
}

/* The floor: the same bytes 1 -> 1 through a socketpair. */
static double socketpair_floor(void)
{
	struct side s = { .n = messages };
	int sv[2];
	double rate;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		die("socketpair");
	s.sock = sv[0];
	s.fd = sv[1];
	rate = per_second(&s, socket_receiver, socket_sender);
	close(sv[0]);
	close(sv[1]);
	return rate;
}

static void *mq_receiver(void *arg)
{
	struct side *s = arg;
	char buf[MAX_MSG];
	long i;

	for (i = 0; i < s->n; i++)
		if (mq_receive(s->mq, buf, sizeof(buf), NULL) != DATA_LEN)
			die("mq_receive");
	return NULL;
}

static void mq_sender(struct side *s)
{
	char data[DATA_LEN] = { 0 };
	long i;

	for (i = 0; i < s->n; i++)
		if (mq_send(s->mq, data, sizeof(data), 0) < 0)
			die("mq_send");
}

static double mqueue_floor(void)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = MAX_MSG };
	struct side s = { .n = messages };
	double rate;

	mq_unlink("/kbus-bench");
	s.mq = mq_open("/kbus-bench", O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (s.mq == (mqd_t)-1)
		die("mq_open");
	rate = per_second(&s, mq_receiver, mq_sender);
	mq_close(s.mq);
	mq_unlink("/kbus-bench");
	return rate;
}

static void *replier(void *arg)
{
	struct side *s = arg;
	struct kbus_message_header *req;
	char buf[MAX_MSG];
	long i;

	req = (struct kbus_message_header *)buf;
	for (i = 0; i < s->n; i++) {
		if (s->onecall)
			recv_onecall(s->fd, buf, KBUS_WAIT_FOREVER);
		else
			recv_original(s->fd, buf);
		s->msg.m->header.to = req->from;
		s->msg.m->header.in_reply_to = req->id;
		s->msg.m->header.id.network_id = 0;
		if (s->onecall)
			send_onecall(s->fd, &s->msg);
		else
			send_original(s->fd, &s->msg);
	}
	return NULL;
}

static void asker(struct side *s)
{
	struct message req = build("$.Bench.C.Ping", KBUS_BIT_WANT_A_REPLY);
	char buf[MAX_MSG];
	long i;

	for (i = 0; i < s->n; i++) {
		if (s->onecall) {
			send_onecall(s->sock, &req);
			recv_onecall(s->sock, buf, KBUS_WAIT_FOREVER);
		} else {
			send_original(s->sock, &req);
			recv_original(s->sock, buf);
		}
	}
	free(req.m);
}

/* Request -> reply round trips per second. */
static double round_trips(int onecall)
{
	struct side s = { .onecall = onecall, .n = messages / 4 };
	double rate;

	s.sock = open_ksock();	/* the asker */
	s.fd = open_ksock();
	bind_to(s.fd, "$.Bench.C.Ping", 1);
	s.msg = build("$.Bench.C.Ping", 0);
	rate = per_second(&s, replier, asker);
	close(s.sock);
	close(s.fd);
	free(s.msg.m);
	return rate;
}

static void *socket_echo(void *arg)
{
	struct side *s = arg;
	char buf[MAX_MSG];
	long i;

	for (i = 0; i < s->n; i++) {
		if (recv(s->fd, buf, sizeof(buf), 0) != DATA_LEN)
			die("recv");
		if (send(s->fd, buf, DATA_LEN, 0) != DATA_LEN)
			die("send");
	}
	return NULL;
}

static void socket_pinger(struct side *s)
{
	char buf[MAX_MSG] = { 0 };
	long i;

	for (i = 0; i < s->n; i++) {
		if (send(s->sock, buf, DATA_LEN, 0) != DATA_LEN)
			die("send");
		if (recv(s->sock, buf, sizeof(buf), 0) != DATA_LEN)
			die("recv");
	}
}

static double socketpair_ping_pong(void)
{
	struct side s = { .n = messages / 4 };
	int sv[2];
	double rate;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		die("socketpair");
	s.sock = sv[0];
	s.fd = sv[1];
	rate = per_second(&s, socket_echo, socket_pinger);
	close(sv[0]);
	close(sv[1]);
	return rate;
}

/*
 * Fan-out: one thread sends each message and then reads it from every
 * listener, so the figure is the work of a delivery, without wake-ups:
 * microseconds per delivery (the send and every read, over the listeners).
 * With RECVMANY it sends BURST messages, then takes them from each
 * listener in one call.
 */
static double fan_out(int listeners, int how)
{
	long n = listeners >= 100 ? messages / 100 : messages / 10;
	struct message msg = build("$.Bench.C.Fan", 0);
	int sender = open_ksock();
	int burst = how == MANY ? BURST : 1;
	char buf[MAX_MSG];
	double start;
	char *many;
	int *fds;
	long i;
	int l, b;

	n -= n % burst;
	if (n < burst)
		n = burst;
	fds = calloc(listeners, sizeof(*fds));
	many = malloc(MANY_BUF);
	if (!fds || !many)
		die("calloc");
	for (l = 0; l < listeners; l++) {
		fds[l] = open_ksock();
		bind_to(fds[l], "$.Bench.C.Fan", 0);
	}
	start = now();
	for (i = 0; i < n; i += burst) {
		for (b = 0; b < burst; b++) {
			if (how == ORIGINAL)
				send_original(sender, &msg);
			else
				send_onecall(sender, &msg);
		}
		for (l = 0; l < listeners; l++) {
			if (how == MANY) {
				for (b = 0; b < burst; )
					b += recv_many(fds[l], many, MANY_BUF, 0);
			} else if (how == ONECALL) {
				recv_onecall(fds[l], buf, 0);
			} else {
				recv_original(fds[l], buf);
			}
		}
	}
	start = (now() - start) * 1e6 / ((double)n * listeners);
	for (l = 0; l < listeners; l++)
		close(fds[l]);
	close(sender);
	free(many);
	free(fds);
	free(msg.m);
	return start;
}

static double no_arg_socketpair(int unused)
{
	(void)unused;
	return socketpair_floor();
}

static double no_arg_mqueue(int unused)
{
	(void)unused;
	return mqueue_floor();
}

static double no_arg_ping_pong(int unused)
{
	(void)unused;
	return socketpair_ping_pong();
}

static double fan_onecall(int listeners)
{
	return fan_out(listeners, ONECALL);
}

static double fan_original(int listeners)
{
	return fan_out(listeners, ORIGINAL);
}

static double fan_many(int listeners)
{
	return fan_out(listeners, MANY);
}

/*
 * Whether the module has SENDMSG, RECVMSG and RECVMANY (docs/kbus.md
 * §7.1): the original KBUS answers ENOTTY. Without them only the original
 * call sequence and the floors are measured, so that a module from before
 * them can be set against today's on the same figures.
 */
static int has_onecall(void)
{
	struct kbus_receive_many r = { .len = 0 };
	int fd = open_ksock(), ok;

	/* RECVMANY came last: a module with it has the other two. */
	ok = ioctl(fd, KBUS_IOC_RECVMANY, &r) == 0 || errno != ENOTTY;
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	static const int fans[] = { 1, 10, 100, 1000 };
	char name[128];
	unsigned int i;
	int opt, onecall;

	device = kbus_device_path();
	if (!device) {
		perror("kbus-bench: KBUS_DEVICE");
		return 2;
	}
	while ((opt = getopt(argc, argv, "r:n:d:")) != -1) {
		switch (opt) {
		case 'r':
			repeats = atoi(optarg);
			break;
		case 'n':
			messages = atol(optarg);
			break;
		case 'd':
			device = optarg;
			break;
		default:
			fprintf(stderr, "usage: kbus-bench [-r REPEATS] [-n MESSAGES] [-d DEVICE]\n");
			return 2;
		}
	}
	batch = socketpair_capacity();
	onecall = has_onecall();
	if (!onecall)
		fprintf(stderr, "kbus-bench: the module has no SENDMSG/RECVMSG/RECVMANY: the original calls alone\n");
	figure("c: announcements 1->1, 64 B, write+SEND / poll+NEXTMSG+read", "msg/s", announcements, ORIGINAL, repeats);
	if (onecall) {
		figure("c: announcements 1->1, 64 B, SENDMSG / RECVMSG", "msg/s", announcements, ONECALL, repeats);
		figure("c: announcements 1->1, 64 B, SENDMSG / RECVMANY", "msg/s", announcements, MANY, repeats);
	}
	figure("c floor: SOCK_SEQPACKET socketpair 1->1, 64 B", "msg/s", no_arg_socketpair, 0, repeats);
	figure("c floor: POSIX message queue 1->1, 64 B", "msg/s", no_arg_mqueue, 0, repeats);
	figure("c: request->reply round trips, original calls", "rt/s", round_trips, ORIGINAL, repeats);
	if (onecall)
		figure("c: request->reply round trips, SENDMSG / RECVMSG", "rt/s", round_trips, ONECALL, repeats);
	figure("c floor: SOCK_SEQPACKET socketpair ping-pong", "rt/s", no_arg_ping_pong, 0, repeats);
	for (i = 0; i < sizeof(fans) / sizeof(fans[0]); i++) {
		snprintf(name, sizeof(name), "c: fan-out to %d listener(s), time per delivery, original calls", fans[i]);
		figure(name, "µs", fan_original, fans[i], repeats);
		if (!onecall)
			continue;
		snprintf(name, sizeof(name), "c: fan-out to %d listener(s), time per delivery, SENDMSG / RECVMSG",
			 fans[i]);
		figure(name, "µs", fan_onecall, fans[i], repeats);
		snprintf(name, sizeof(name),
			 "c: fan-out to %d listener(s), time per delivery, SENDMSG / RECVMANY, bursts of 16",
			 fans[i]);
		figure(name, "µs", fan_many, fans[i], repeats);
	}
	return 0;
}
