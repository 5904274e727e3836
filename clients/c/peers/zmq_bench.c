// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * The ZeroMQ peer of the raw-ABI benchmark (docs/benchmark.md, "Peers"):
 * the work kbus_bench.c measures on KBUS, done with Debian's libzmq over
 * ipc:// (a Unix socket under it): announcements 1 -> 1 and fan-out with
 * PUB/SUB, round trips with REQ/REP, 64-byte messages. It prints its
 * figures as kbus_bench.c does, one per line:
 *
 *   figure<TAB>NAME<TAB>UNIT<TAB>SAMPLE SAMPLE ...
 *
 *   zmq-bench [-r REPEATS] [-n MESSAGES] [-p SOCKET-PATH-PREFIX]
 *
 * No message is dropped: the high-water marks are off (0), so a publisher
 * queues what its subscribers have not taken yet, as KBUS's sender waits
 * for room. A SUB socket hears a PUB only once its subscription has
 * reached it, so every measurement first publishes probes until each
 * subscriber has heard one; probes start with 'P', measured messages
 * with 'M', and receivers pass over probes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "../bench_figures.h"

#define DATA_LEN	64
#define MAX_MSG		4096

static int repeats = 5;
static long messages = 20000;
static const char *prefix = "/tmp/kbus-zmq-bench";
static void *ctx;
static unsigned int endpoints;	/* each measurement binds a fresh endpoint */

static void die(const char *what)
{
	fprintf(stderr, "zmq-bench: %s: %s\n", what, zmq_strerror(zmq_errno()));
	exit(1);
}

static void set_int(void *s, int option, int value)
{
	if (zmq_setsockopt(s, option, &value, sizeof(value)) < 0)
		die("zmq_setsockopt");
}

/* A socket of @type with no high-water marks and no linger at close. */
static void *socket_of(int type)
{
	void *s = zmq_socket(ctx, type);

	if (!s)
		die("zmq_socket");
	set_int(s, ZMQ_SNDHWM, 0);
	set_int(s, ZMQ_RCVHWM, 0);
	set_int(s, ZMQ_LINGER, 0);
	return s;
}

static void next_endpoint(char *buf, size_t len)
{
	snprintf(buf, len, "ipc://%s-%d-%u", prefix, (int)getpid(), endpoints++);
}

static void send_bytes(void *s, char kind)
{
	char data[DATA_LEN];

	memset(data, 0, sizeof(data));
	data[0] = kind;
	while (zmq_send(s, data, sizeof(data), 0) < 0)
		if (zmq_errno() != EINTR)
			die("zmq_send");
}

/* Receives the next measured message, passing over probes. */
static void recv_measured(void *s)
{
	char buf[MAX_MSG];
	int n;

	for (;;) {
		n = zmq_recv(s, buf, sizeof(buf), 0);
		if (n < 0) {
			if (zmq_errno() == EINTR)
				continue;
			die("zmq_recv");
		}
		if (n != DATA_LEN) {
			fprintf(stderr, "zmq-bench: a message of %d bytes\n", n);
			exit(1);
		}
		if (buf[0] == 'M')
			return;
	}
}

/* Publishes probes until every subscriber in @subs has heard one. */
static void join(void *pub, void **subs, int count)
{
	char *heard = calloc(count, 1);
	char buf[MAX_MSG];
	int left = count, i;

	if (!heard)
		die("calloc");
	while (left) {
		send_bytes(pub, 'P');
		usleep(1000);
		for (i = 0; i < count; i++)
			while (!heard[i] && zmq_recv(subs[i], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
				heard[i] = 1;
				left--;
			}
	}
	free(heard);
}

static void *subscriber(const char *endpoint)
{
	void *s = socket_of(ZMQ_SUB);

	if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0) < 0)
		die("ZMQ_SUBSCRIBE");
	if (zmq_connect(s, endpoint) < 0)
		die("zmq_connect");
	return s;
}

struct side {
	void *s;
	long n;
};

static void *announce_receiver(void *arg)
{
	struct side *side = arg;
	long i;

	for (i = 0; i < side->n; i++)
		recv_measured(side->s);
	return NULL;
}

/* Announcements 1 -> 1 per second: a publisher here, a subscriber in a
 * thread of its own. */
static double announcements(int unused)
{
	char endpoint[256];
	struct side side = { .n = messages };
	void *pub = socket_of(ZMQ_PUB);
	double start;
	pthread_t t;
	long i;

	(void)unused;
	next_endpoint(endpoint, sizeof(endpoint));
	if (zmq_bind(pub, endpoint) < 0)
		die("zmq_bind");
	side.s = subscriber(endpoint);
	join(pub, &side.s, 1);
	start = now();
	if (pthread_create(&t, NULL, announce_receiver, &side))
		die("pthread_create");
	for (i = 0; i < side.n; i++)
		send_bytes(pub, 'M');
	pthread_join(t, NULL);
	start = side.n / (now() - start);
	zmq_close(side.s);
	zmq_close(pub);
	return start;
}

static void *replier(void *arg)
{
	struct side *side = arg;
	long i;

	for (i = 0; i < side->n; i++) {
		recv_measured(side->s);
		send_bytes(side->s, 'M');
	}
	return NULL;
}

/* Request -> reply round trips per second: REQ here, REP in a thread. */
static double round_trips(int unused)
{
	char endpoint[256];
	struct side side = { .n = messages / 4 };
	void *req = socket_of(ZMQ_REQ);
	double start;
	pthread_t t;
	long i;

	(void)unused;
	side.s = socket_of(ZMQ_REP);
	next_endpoint(endpoint, sizeof(endpoint));
	if (zmq_bind(side.s, endpoint) < 0)
		die("zmq_bind");
	if (zmq_connect(req, endpoint) < 0)
		die("zmq_connect");
	start = now();
	if (pthread_create(&t, NULL, replier, &side))
		die("pthread_create");
	for (i = 0; i < side.n; i++) {
		send_bytes(req, 'M');
		recv_measured(req);
	}
	pthread_join(t, NULL);
	start = side.n / (now() - start);
	zmq_close(req);
	zmq_close(side.s);
	return start;
}

/*
 * Fan-out, as kbus_bench.c measures it: one thread publishes each message
 * and then takes it from every subscriber, so the figure is the work of a
 * delivery: microseconds per delivery.
 */
static double fan_out(int listeners)
{
	long n = listeners >= 100 ? messages / 100 : messages / 10;
	void *pub = socket_of(ZMQ_PUB);
	char endpoint[256];
	double start;
	void **subs;
	long i;
	int l;

	subs = calloc(listeners, sizeof(*subs));
	if (!subs)
		die("calloc");
	next_endpoint(endpoint, sizeof(endpoint));
	if (zmq_bind(pub, endpoint) < 0)
		die("zmq_bind");
	for (l = 0; l < listeners; l++)
		subs[l] = subscriber(endpoint);
	join(pub, subs, listeners);
	start = now();
	for (i = 0; i < n; i++) {
		send_bytes(pub, 'M');
		for (l = 0; l < listeners; l++)
			recv_measured(subs[l]);
	}
	start = (now() - start) * 1e6 / ((double)n * listeners);
	for (l = 0; l < listeners; l++)
		zmq_close(subs[l]);
	zmq_close(pub);
	free(subs);
	return start;
}

int main(int argc, char **argv)
{
	static const int fans[] = { 1, 10, 100 };
	char name[160];
	unsigned int i;
	int opt;

	while ((opt = getopt(argc, argv, "r:n:p:")) != -1) {
		switch (opt) {
		case 'r':
			repeats = atoi(optarg);
			break;
		case 'n':
			messages = atol(optarg);
			break;
		case 'p':
			prefix = optarg;
			break;
		default:
			fprintf(stderr, "usage: zmq-bench [-r REPEATS] [-n MESSAGES] [-p SOCKET-PATH-PREFIX]\n");
			return 2;
		}
	}
	if (repeats < 1 || messages < 100) {
		fprintf(stderr, "zmq-bench: -r must be at least 1 and -n at least 100\n");
		return 2;
	}
	ctx = zmq_ctx_new();
	if (!ctx)
		die("zmq_ctx_new");
	figure("c peer: ZeroMQ announcements 1->1, 64 B, PUB/SUB over ipc", "msg/s", announcements, 0, repeats);
	figure("c peer: ZeroMQ request->reply round trips, REQ/REP over ipc", "rt/s", round_trips, 0, repeats);
	for (i = 0; i < sizeof(fans) / sizeof(fans[0]); i++) {
		snprintf(name, sizeof(name), "c peer: ZeroMQ fan-out to %d listener(s), time per delivery, PUB/SUB over ipc",
			 fans[i]);
		figure(name, "µs", fan_out, fans[i], repeats);
	}
	zmq_ctx_term(ctx);
	return 0;
}
