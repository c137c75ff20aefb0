/* db/listen: connect (PQconnectStart/PQconnectPoll), LISTEN on every channel, then read notifications. */
#include "db/listen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "log.h"

#define LISTEN_BACKOFF_MIN_MS 100
#define LISTEN_BACKOFF_MAX_MS 5000

typedef enum ListenState { LISTEN_DOWN, LISTEN_CONNECTING, LISTEN_SUBSCRIBING, LISTEN_READY } ListenState;

typedef struct ListenChannel {
	char name[64];
	DbListenCallback cb;
	void *arg;
} ListenChannel;

struct DbListener {
	struct event_base *base;
	char *conninfo;
	ListenChannel channels[DB_LISTEN_CHANNELS_MAX];
	int nchannels;
	ListenState state;
	PGconn *pg;
	struct event *io;       /* the connection's socket */
	struct event *retry;    /* back-off timer */
	int backoff_ms;
};

static void listen_connect(DbListener *l);
static void listen_fail(DbListener *l, const char *what);
static void listen_watch(DbListener *l, short what);
static void listen_io_cb(evutil_socket_t fd, short what, void *arg);
static void listen_retry_cb(evutil_socket_t fd, short what, void *arg);
static void listen_poll_connect(DbListener *l);
static void listen_read(DbListener *l);

/*
 *********************************
 * Public functions
 *********************************
 */

DbListener *
db_listener_new(struct event_base *base, const char *conninfo)
{
	DbListener *l = calloc(1, sizeof(*l));

	if (!l)
		goto fail;
	l->base = base;
	l->conninfo = strdup(conninfo);
	l->retry = evtimer_new(base, listen_retry_cb, l);
	if (!l->conninfo || !l->retry)
		goto fail;
	l->backoff_ms = LISTEN_BACKOFF_MIN_MS;
	listen_connect(l);
	return l;
fail:
	db_listener_free(l);
	return NULL;
}

bool
db_listener_add(DbListener *l, const char *channel, DbListenCallback cb, void *arg)
{
	ListenChannel *c;

	if (l->nchannels == DB_LISTEN_CHANNELS_MAX || l->state == LISTEN_SUBSCRIBING || l->state == LISTEN_READY ||
	    strlen(channel) >= sizeof(c->name))
		return false;
	c = &l->channels[l->nchannels++];
	snprintf(c->name, sizeof(c->name), "%s", channel);
	c->cb = cb;
	c->arg = arg;
	return true;
}

void
db_listener_free(DbListener *l)
{
	if (!l)
		return;
	if (l->io)
		event_free(l->io);
	if (l->retry)
		event_free(l->retry);
	PQfinish(l->pg);
	free(l->conninfo);
	free(l);
}

bool
db_listener_ready(const DbListener *l)
{
	return l && l->state == LISTEN_READY;
}

/*
 *********************************
 * Connection state machine
 *********************************
 */

static void
listen_connect(DbListener *l)
{
	l->pg = PQconnectStart(l->conninfo);
	if (!l->pg || PQstatus(l->pg) == CONNECTION_BAD || PQsetnonblocking(l->pg, 1) != 0) {
		listen_fail(l, "connect");
		return;
	}
	l->state = LISTEN_CONNECTING;
	listen_watch(l, EV_WRITE);
}

/* Drop the connection and try again after the back-off. */
static void
listen_fail(DbListener *l, const char *what)
{
	struct timeval tv = {l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000};

	if (l->state == LISTEN_READY)
		log_warn("db listener: %s failed: %s", what, l->pg ? PQerrorMessage(l->pg) : "");
	if (l->io) {
		event_free(l->io);
		l->io = NULL;
	}
	PQfinish(l->pg);
	l->pg = NULL;
	l->state = LISTEN_DOWN;
	evtimer_add(l->retry, &tv);
	l->backoff_ms = l->backoff_ms * 2 > LISTEN_BACKOFF_MAX_MS ? LISTEN_BACKOFF_MAX_MS : l->backoff_ms * 2;
}

/* Watch the socket (it may change across reconnects) for what. */
static void
listen_watch(DbListener *l, short what)
{
	if (l->io)
		event_free(l->io);
	l->io = event_new(l->base, PQsocket(l->pg), what | EV_PERSIST, listen_io_cb, l);
	if (!l->io || event_add(l->io, NULL) != 0)
		listen_fail(l, "watch");
}

static void
listen_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	listen_connect(arg);
}

static void
listen_io_cb(evutil_socket_t fd, short what, void *arg)
{
	DbListener *l = arg;

	(void)fd;
	(void)what;
	if (l->state == LISTEN_CONNECTING)
		listen_poll_connect(l);
	else
		listen_read(l);
}

static void
listen_poll_connect(DbListener *l)
{
	char sql[DB_LISTEN_CHANNELS_MAX * 80] = "SELECT 1";
	size_t len = strlen(sql);

	switch (PQconnectPoll(l->pg)) {
	case PGRES_POLLING_READING:
		listen_watch(l, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		listen_watch(l, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		listen_fail(l, "connect");
		return;
	}
	/* One round trip: "SELECT 1; LISTEN \"a\"; LISTEN \"b\"" (SELECT 1 when nobody listens). */
	for (int i = 0; i < l->nchannels; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "; LISTEN \"%s\"", l->channels[i].name);
	if (!PQsendQuery(l->pg, sql) || PQflush(l->pg) != 0) {
		listen_fail(l, "listen");
		return;
	}
	l->state = LISTEN_SUBSCRIBING;
	listen_watch(l, EV_READ);
}

/* Results of the LISTEN, then notifications, as long as the connection lives. */
static void
listen_read(DbListener *l)
{
	PGnotify *n;

	if (!PQconsumeInput(l->pg) || PQstatus(l->pg) == CONNECTION_BAD) {
		listen_fail(l, "read");
		return;
	}
	while (l->state == LISTEN_SUBSCRIBING && !PQisBusy(l->pg)) {
		PGresult *res = PQgetResult(l->pg);
		bool ok;

		if (!res) {
			l->state = LISTEN_READY;
			l->backoff_ms = LISTEN_BACKOFF_MIN_MS;
			for (int i = 0; i < l->nchannels; i++)
				l->channels[i].cb(NULL, l->channels[i].arg);
			break;
		}
		ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (!ok) {
			listen_fail(l, "listen");
			return;
		}
	}
	while ((n = PQnotifies(l->pg))) {
		for (int i = 0; i < l->nchannels; i++)
			if (strcmp(n->relname, l->channels[i].name) == 0)
				l->channels[i].cb(n->extra, l->channels[i].arg);
		PQfreemem(n);
	}
}
