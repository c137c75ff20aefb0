/*
 * http/conn_guard: the connection cap and the request deadline (see conn_guard.h).
 *
 * libevent 2.1 has no hook when evhttp accepts a connection (evhttp_set_newreqcb and
 * evhttp_set_max_connections came in 2.2), and its timeouts restart with every byte. So
 * we make each connection's bufferevent ourselves (evhttp_set_bevcb, called at accept)
 * and, in the same loop pass, before anything is read from it, learn its
 * evhttp_connection: evhttp makes the connection the callback argument of the
 * bufferevent. From then on the connection sits in a table (linear probing on the
 * pointer) with one timer, and its close callback releases both.
 */
#include "http/conn_guard.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"
#include "metrics.h"

/* How long a connection over the cap may take to send the request its 503 answers. */
#define REFUSED_WAIT_S 1

typedef enum ConnState {
	CONN_NEW,      /* accepted; its evhttp_connection not known yet */
	CONN_ADMITTED, /* counts toward max_connections */
	CONN_REFUSED,  /* over the cap: its request gets 503, then it closes */
} ConnState;

typedef struct Conn {
	ConnGuard *guard;
	ConnState state;
	struct bufferevent *bev;         /* CONN_NEW only: referenced until adopted */
	struct evhttp_connection *evcon; /* from the adoption on */
	struct event *timer;             /* the adoption, then the request deadline */
	Req *current;                    /* the request being handled on it, if any */
	bool writing;                    /* an answer is queued and not yet fully written */
	LIST_ENTRY(Conn) fresh;          /* CONN_NEW only */
} Conn;

struct ConnGuard {
	int max_connections;
	int admitted, refused;
	struct timeval deadline;         /* the config's timeout */
	Conn **slots;                    /* evcon -> Conn, open addressing */
	size_t nslots;                   /* power of two, at least 4 * max_connections */
	LIST_HEAD(, Conn) fresh_list;    /* accepted, not adopted yet */
	void (*abandoned)(void *arg);    /* an answer died unwritten with its connection */
	void *abandoned_arg;
};

static struct bufferevent *guard_bev_cb(struct event_base *base, void *arg);
static void guard_timer_cb(evutil_socket_t fd, short what, void *arg);
static void guard_adopt(Conn *c);
static void guard_closed_cb(struct evhttp_connection *evcon, void *arg);
static Conn *guard_find(ConnGuard *g, struct evhttp_connection *evcon);
static void guard_insert(ConnGuard *g, Conn *c);
static void guard_remove(ConnGuard *g, struct evhttp_connection *evcon);
static void guard_conn_free(Conn *c);

/*
 *********************************
 * Public functions
 *********************************
 */

ConnGuard *
conn_guard_new(struct evhttp *http, int max_connections, int timeout_s, void (*abandoned)(void *arg),
	       void *arg)
{
	ConnGuard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->abandoned = abandoned;
	g->abandoned_arg = arg;
	g->max_connections = max_connections;
	g->deadline.tv_sec = timeout_s;
	/* Admitted plus refused stay below half the table, so probe chains stay short. */
	g->nslots = 16;
	while (g->nslots < (size_t)max_connections * 4)
		g->nslots *= 2;
	g->slots = calloc(g->nslots, sizeof(*g->slots));
	if (!g->slots) {
		free(g);
		return NULL;
	}
	LIST_INIT(&g->fresh_list);
	evhttp_set_bevcb(http, guard_bev_cb, g);
	return g;
}

void
conn_guard_free(ConnGuard *g)
{
	Conn *c;

	if (!g)
		return;
	/* evhttp_free has closed every adopted connection (and so freed its Conn); what is
	 * left was accepted in the loop pass that ended the loop. */
	while ((c = LIST_FIRST(&g->fresh_list))) {
		LIST_REMOVE(c, fresh);
		bufferevent_decref(c->bev);
		guard_conn_free(c);
	}
	free(g->slots);
	free(g);
}

bool
conn_guard_request_begin(ConnGuard *g, struct evhttp_connection *evcon, Req *req)
{
	Conn *c = guard_find(g, evcon);

	/* Unknown only when memory ran out at its accept: it cannot be counted, so refuse. */
	if (!c)
		return false;
	evtimer_del(c->timer);
	c->current = req;
	return c->state == CONN_ADMITTED;
}

void
conn_guard_request_end(ConnGuard *g, struct evhttp_connection *evcon, Req *req)
{
	Conn *c = guard_find(g, evcon);

	if (c && c->current == req) {
		c->current = NULL;
		c->writing = true;
	}
}

void
conn_guard_wait_next(ConnGuard *g, struct evhttp_connection *evcon)
{
	Conn *c = guard_find(g, evcon);

	if (c)
		c->writing = false;
	if (c && c->state == CONN_ADMITTED)
		evtimer_add(c->timer, &g->deadline);
}

/*
 *********************************
 * Accept, adoption, deadline, close
 *********************************
 */

/* evhttp calls this at accept for the connection's bufferevent. We cannot refuse here
 * (evhttp would make a bufferevent of its own), so a Conn is made and adopted as soon as
 * evhttp has wrapped the bufferevent in its connection. If memory runs out, the
 * connection goes on untracked and its request is refused. */
static struct bufferevent *
guard_bev_cb(struct event_base *base, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	Conn *c = bev ? calloc(1, sizeof(*c)) : NULL;

	if (!c)
		return bev;
	c->timer = evtimer_new(base, guard_timer_cb, c);
	if (!c->timer) {
		free(c);
		return bev;
	}
	c->guard = arg;
	c->state = CONN_NEW;
	/* Our reference keeps the bufferevent readable should evhttp fail to set the
	 * connection up and free it before the adoption. */
	c->bev = bev;
	bufferevent_incref(bev);
	LIST_INSERT_HEAD(&c->guard->fresh_list, c, fresh);
	/* Active at once, not a zero timeout: this runs in the current loop pass, ahead of
	 * any read on the new socket, which can only come after the next poll. */
	event_active(c->timer, EV_TIMEOUT, 1);
	return bev;
}

static void
guard_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	Conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_NEW) {
		guard_adopt(c);
		return;
	}
	metrics_connection_timed_out();
	log_debug("closing a connection: no complete request within %ld s",
		  (long)(c->state == CONN_ADMITTED ? c->guard->deadline.tv_sec : REFUSED_WAIT_S));
	/* Our own timer, not inside an evhttp callback, so freeing is safe here; the close
	 * callback frees c (and this timer with it). */
	evhttp_connection_free(c->evcon);
}

/* Count the connection, or refuse it, and start its deadline. */
static void
guard_adopt(Conn *c)
{
	ConnGuard *g = c->guard;
	struct timeval refused_wait = {REFUSED_WAIT_S, 0};
	void *cbarg = NULL;

	LIST_REMOVE(c, fresh);
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	c->evcon = cbarg;
	if (c->evcon && evhttp_connection_get_bufferevent(c->evcon) != c->bev) {
		log_error("cannot track a connection: its bufferevent's callback argument is not "
			  "its evhttp_connection (a libevent other than 2.1?); its requests get 503");
		c->evcon = NULL;
	}
	bufferevent_decref(c->bev);
	c->bev = NULL;
	if (!c->evcon) { /* evhttp failed to set it up (and closed it), or see above */
		guard_conn_free(c);
		return;
	}
	if (g->admitted < g->max_connections) {
		c->state = CONN_ADMITTED;
		g->admitted++;
		metrics_connection_opened();
		evtimer_add(c->timer, &g->deadline);
	} else {
		metrics_connection_rejected();
		if (g->refused == g->max_connections) {
			/* Safe: an event of ours, not an evhttp callback; no close callback yet. */
			evhttp_connection_free(c->evcon);
			guard_conn_free(c);
			return;
		}
		c->state = CONN_REFUSED;
		g->refused++;
		evtimer_add(c->timer, &refused_wait);
	}
	guard_insert(g, c);
	evhttp_connection_set_closecb(c->evcon, guard_closed_cb, c);
}

static void
guard_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	Conn *c = arg;
	ConnGuard *g = c->guard;

	if (c->current) {
		/* libevent detaches the unanswered request; our reply will free it unsent. */
		c->current->alive = false;
		if (c->current->on_close)
			c->current->on_close(c->current->on_close_arg);
	}
	if (c->writing) {
		/* libevent 2.1 frees a request whose answer it was still writing without calling its
		 * completion callback: tell the owner, whose count of answers in flight waits on it. */
		g->abandoned(g->abandoned_arg);
	}
	guard_remove(g, evcon);
	if (c->state == CONN_ADMITTED) {
		g->admitted--;
		metrics_connection_closed();
	} else {
		g->refused--;
	}
	guard_conn_free(c);
}

static void
guard_conn_free(Conn *c)
{
	event_free(c->timer);
	free(c);
}

/*
 *********************************
 * The table
 *********************************
 */

static size_t
guard_hash(const void *p, size_t nslots)
{
	uintptr_t v = (uintptr_t)p;

	v ^= v >> 17;
	v *= 0x9E3779B97F4A7C15ull;
	return (size_t)(v >> 7) & (nslots - 1);
}

static Conn *
guard_find(ConnGuard *g, struct evhttp_connection *evcon)
{
	size_t mask = g->nslots - 1;

	for (size_t i = guard_hash(evcon, g->nslots); g->slots[i]; i = (i + 1) & mask)
		if (g->slots[i]->evcon == evcon)
			return g->slots[i];
	return NULL;
}

/* There is always room: at most 2 * max_connections of 4 * max_connections slots are used. */
static void
guard_insert(ConnGuard *g, Conn *c)
{
	size_t mask = g->nslots - 1;
	size_t i = guard_hash(c->evcon, g->nslots);

	while (g->slots[i])
		i = (i + 1) & mask;
	g->slots[i] = c;
}

/* Remove with backward-shift deletion so probing chains stay intact. */
static void
guard_remove(ConnGuard *g, struct evhttp_connection *evcon)
{
	size_t mask = g->nslots - 1;
	size_t i = guard_hash(evcon, g->nslots);

	while (g->slots[i] && g->slots[i]->evcon != evcon)
		i = (i + 1) & mask;
	if (!g->slots[i])
		return;
	g->slots[i] = NULL;
	for (size_t j = (i + 1) & mask; g->slots[j]; j = (j + 1) & mask) {
		size_t home = guard_hash(g->slots[j]->evcon, g->nslots);

		/* Move j back to i when i lies cyclically between j's home and j. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			g->slots[i] = g->slots[j];
			g->slots[j] = NULL;
			i = j;
		}
	}
}
