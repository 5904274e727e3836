// SPDX-License-Identifier: GPL-2.0 OR MPL-1.1
/*
 * The D-Bus peer of the raw-ABI benchmark (docs/benchmark.md, "Peers"):
 * the work kbus_bench.c measures on KBUS, done with Debian's libdbus
 * through a dbus-daemon: announcements 1 -> 1 and fan-out as signals that
 * listeners hear through a match rule, round trips as method calls to a
 * well-known name, each carrying 64 bytes. It prints its figures as
 * kbus_bench.c does, one per line:
 *
 *   figure<TAB>NAME<TAB>UNIT<TAB>SAMPLE SAMPLE ...
 *
 *   dbus-bench -a BUS-ADDRESS [-r REPEATS] [-n MESSAGES]
 *
 * Every connection is a private one of its own, registered on the bus
 * (Hello), as separate processes' would be.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dbus/dbus.h>
#include "../bench_figures.h"

#define DATA_LEN	64
#define PATH		"/org/kbus/Bench"
#define IFACE		"org.kbus.Bench"
#define NAME		"org.kbus.Bench"
#define MATCH		"type='signal',interface='" IFACE "',member='Announce'"

static int repeats = 5;
static long messages = 20000;
static const char *address;

static void die_error(const char *what, DBusError *err)
{
	fprintf(stderr, "dbus-bench: %s: %s\n", what, dbus_error_is_set(err) ? err->message : "failed");
	exit(1);
}

static void die(const char *what)
{
	fprintf(stderr, "dbus-bench: %s\n", what);
	exit(1);
}

static DBusConnection *connect_bus(void)
{
	DBusConnection *c;
	DBusError err;

	dbus_error_init(&err);
	c = dbus_connection_open_private(address, &err);
	if (!c)
		die_error("connecting", &err);
	if (!dbus_bus_register(c, &err))
		die_error("Hello", &err);
	dbus_connection_set_exit_on_disconnect(c, FALSE);
	return c;
}

static void disconnect(DBusConnection *c)
{
	dbus_connection_close(c);
	dbus_connection_unref(c);
}

static void listen_to_announcements(DBusConnection *c)
{
	DBusError err;

	dbus_error_init(&err);
	dbus_bus_add_match(c, MATCH, &err);
	if (dbus_error_is_set(&err))
		die_error("AddMatch", &err);
}

/* Appends the 64 bytes every message carries. */
static void append_data(DBusMessage *m)
{
	static const unsigned char data[DATA_LEN];
	const unsigned char *p = data;

	if (!dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p, DATA_LEN, DBUS_TYPE_INVALID))
		die("out of memory");
}

static void announce(DBusConnection *c)
{
	DBusMessage *m = dbus_message_new_signal(PATH, IFACE, "Announce");

	if (!m)
		die("out of memory");
	append_data(m);
	if (!dbus_connection_send(c, m, NULL))
		die("out of memory");
	dbus_message_unref(m);
}

/*
 * The next message on @c that is a method call to Echo (@call) or the
 * Announce signal; others (NameAcquired, ...) are passed over. Blocks.
 */
static DBusMessage *next(DBusConnection *c, int call)
{
	DBusMessage *m;

	for (;;) {
		m = dbus_connection_pop_message(c);
		if (!m) {
			if (!dbus_connection_read_write(c, -1))
				die("disconnected");
			continue;
		}
		if (call ? dbus_message_is_method_call(m, IFACE, "Echo") :
			   dbus_message_is_signal(m, IFACE, "Announce"))
			return m;
		dbus_message_unref(m);
	}
}

struct side {
	DBusConnection *c;
	long n;
};

static void *announce_receiver(void *arg)
{
	struct side *s = arg;
	long i;

	for (i = 0; i < s->n; i++)
		dbus_message_unref(next(s->c, 0));
	return NULL;
}

/* Announcements 1 -> 1 per second: a sender here, a listener in a thread
 * of its own. */
static double announcements(int unused)
{
	struct side s = { .n = messages };
	DBusConnection *sender = connect_bus();
	double start;
	pthread_t t;
	long i;

	(void)unused;
	s.c = connect_bus();
	listen_to_announcements(s.c);
	start = now();
	if (pthread_create(&t, NULL, announce_receiver, &s))
		die("pthread_create");
	for (i = 0; i < s.n; i++)
		announce(sender);
	dbus_connection_flush(sender);
	pthread_join(t, NULL);
	start = s.n / (now() - start);
	disconnect(s.c);
	disconnect(sender);
	return start;
}

static void *replier(void *arg)
{
	struct side *s = arg;
	DBusMessage *m, *reply;
	long i;

	for (i = 0; i < s->n; i++) {
		m = next(s->c, 1);
		reply = dbus_message_new_method_return(m);
		if (!reply)
			die("out of memory");
		append_data(reply);
		if (!dbus_connection_send(s->c, reply, NULL))
			die("out of memory");
		dbus_connection_flush(s->c);
		dbus_message_unref(reply);
		dbus_message_unref(m);
	}
	return NULL;
}

/* Request -> reply round trips per second: method calls from here to a
 * replier that owns the bus name, in a thread of its own. */
static double round_trips(int unused)
{
	struct side s = { .n = messages / 4 };
	DBusConnection *asker = connect_bus();
	DBusMessage *m, *reply;
	DBusError err;
	double start;
	pthread_t t;
	long i;

	(void)unused;
	dbus_error_init(&err);
	s.c = connect_bus();
	if (dbus_bus_request_name(s.c, NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
	    DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
		die_error("RequestName", &err);
	start = now();
	if (pthread_create(&t, NULL, replier, &s))
		die("pthread_create");
	for (i = 0; i < s.n; i++) {
		m = dbus_message_new_method_call(NAME, PATH, IFACE, "Echo");
		if (!m)
			die("out of memory");
		append_data(m);
		reply = dbus_connection_send_with_reply_and_block(asker, m, DBUS_TIMEOUT_INFINITE, &err);
		if (!reply)
			die_error("Echo", &err);
		dbus_message_unref(reply);
		dbus_message_unref(m);
	}
	pthread_join(t, NULL);
	start = s.n / (now() - start);
	disconnect(s.c);
	disconnect(asker);
	return start;
}

/*
 * Fan-out, as kbus_bench.c measures it: one thread sends each signal and
 * then takes it from every listener, so the figure is the work of a
 * delivery: microseconds per delivery.
 */
static double fan_out(int listeners)
{
	long n = listeners >= 100 ? messages / 100 : messages / 10;
	DBusConnection *sender = connect_bus();
	DBusConnection **ls;
	double start;
	long i;
	int l;

	ls = calloc(listeners, sizeof(*ls));
	if (!ls)
		die("out of memory");
	for (l = 0; l < listeners; l++) {
		ls[l] = connect_bus();
		listen_to_announcements(ls[l]);
	}
	start = now();
	for (i = 0; i < n; i++) {
		announce(sender);
		dbus_connection_flush(sender);
		for (l = 0; l < listeners; l++)
			dbus_message_unref(next(ls[l], 0));
	}
	start = (now() - start) * 1e6 / ((double)n * listeners);
	for (l = 0; l < listeners; l++)
		disconnect(ls[l]);
	disconnect(sender);
	free(ls);
	return start;
}

int main(int argc, char **argv)
{
	static const int fans[] = { 1, 10, 100 };
	char name[160];
	unsigned int i;
	int opt;

	while ((opt = getopt(argc, argv, "a:r:n:")) != -1) {
		switch (opt) {
		case 'a':
			address = optarg;
			break;
		case 'r':
			repeats = atoi(optarg);
			break;
		case 'n':
			messages = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: dbus-bench -a BUS-ADDRESS [-r REPEATS] [-n MESSAGES]\n");
			return 2;
		}
	}
	if (!address || repeats < 1 || messages < 100) {
		fprintf(stderr, "dbus-bench: -a is needed, -r must be at least 1 and -n at least 100\n");
		return 2;
	}
	if (!dbus_threads_init_default())
		die("out of memory");
	figure("c peer: D-Bus announcements 1->1, 64 B, signals through dbus-daemon", "msg/s", announcements, 0, repeats);
	figure("c peer: D-Bus request->reply round trips, method calls through dbus-daemon", "rt/s",
	       round_trips, 0, repeats);
	for (i = 0; i < sizeof(fans) / sizeof(fans[0]); i++) {
		snprintf(name, sizeof(name),
			 "c peer: D-Bus fan-out to %d listener(s), time per delivery, signals through dbus-daemon",
			 fans[i]);
		figure(name, "µs", fan_out, fans[i], repeats);
	}
	return 0;
}
