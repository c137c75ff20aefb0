/*
 * db/reloader: a state built from database rows and kept current (see reloader.h).
 *
 * Loads are numbered as they start. A waiter of reloader_reload_then() waits for the
 * number after the last one started when it arrived: that load begins after the
 * caller's write committed, whether a query is in flight at the time or not.
 */
#include "db/reloader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"

/* How often a reloader without an object yet tries to load one. */
#define RELOADER_RETRY_MS 50

struct ReloaderWaiter {
	ReloaderWaiter *next;
	unsigned long long load; /* the load whose end releases it */
	ReloaderDone done;
	void *arg;
};

static void reloader_arm(Reloader *r);
static void reloader_tick_cb(evutil_socket_t fd, short what, void *arg);
static void reloader_notify_cb(const char *payload, void *arg);
static void reloader_check(Reloader *r);
static void reloader_load(Reloader *r);
static void reloader_check_cb(const DbResult *res, void *arg);
static void reloader_load_cb(const DbResult *res, void *arg);
static bool reloader_answered(Reloader *r, const DbResult *res, const char *what, bool *ok);
static void reloader_swap(Reloader *r, const PGresult *res);
static void reloader_release(Reloader *r, unsigned long long load);
static void reloader_settle(Reloader *r, bool ok, const char *what);
static const char *reloader_version_of(const PGresult *res);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
reloader_start(Reloader *r, const ReloaderConfig *cfg, struct event_base *base, DbPool *pool, DbListener *listener)
{
	memset(r, 0, sizeof(*r));
	r->timer = evtimer_new(base, reloader_tick_cb, r);
	if (!r->timer)
		return false;
	r->cfg = cfg;
	r->pool = pool;
	/* Without the notification the version check still finds every change. */
	if (cfg->channel && !db_listener_add(listener, cfg->channel, reloader_notify_cb, r))
		log_warn("%s: cannot LISTEN %s; relying on the version check", cfg->name, cfg->channel);
	reloader_arm(r);
	return true;
}

void
reloader_stop(Reloader *r)
{
	const ReloaderConfig *cfg = r->cfg;

	if (!cfg)
		return;
	/* First, so that a done calling reloader_reload_then is answered at once. */
	r->cfg = NULL;
	reloader_release(r, ~0ULL);
	event_free(r->timer);
	r->timer = NULL;
	if (r->object)
		cfg->free(r->object);
	r->object = NULL;
}

void *
reloader_current(const Reloader *r)
{
	return r->object;
}

void
reloader_reload(Reloader *r)
{
	if (!r->cfg)
		return;
	if (r->busy) {
		r->reload_wanted = true;
		return;
	}
	reloader_load(r);
}

void
reloader_reload_then(Reloader *r, ReloaderDone done, void *arg)
{
	ReloaderWaiter *w = r->cfg ? malloc(sizeof(*w)) : NULL, **at;

	if (!w) {
		done(arg);
		return;
	}
	*w = (ReloaderWaiter){NULL, r->loads_started + 1, done, arg};
	for (at = &r->waiters; *at; at = &(*at)->next)
		;
	*at = w;
	reloader_reload(r);
}

/*
 *********************************
 * Checking and loading
 *********************************
 */

/* Schedule the next tick: soon while nothing is loaded, at the poll interval after. */
static void
reloader_arm(Reloader *r)
{
	int ms = r->object ? r->cfg->poll_ms : RELOADER_RETRY_MS;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(r->timer, &tv);
}

static void
reloader_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	Reloader *r = arg;

	(void)fd;
	(void)what;
	if (!r->busy) {
		if (r->object && !r->reload_wanted)
			reloader_check(r);
		else
			reloader_load(r);
	}
	reloader_arm(r);
}

/* NOTIFY on the channel: the payload is the new version; NULL after a (re)connect. */
static void
reloader_notify_cb(const char *payload, void *arg)
{
	Reloader *r = arg;

	if (!r->cfg || !r->object)
		return; /* stopped, or the first load is under way and retried by the timer */
	if (payload && strcmp(payload, r->version) == 0)
		return; /* a load already has it */
	reloader_reload(r);
}

/* Only called once loaded: before, the timer loads directly. */
static void
reloader_check(Reloader *r)
{
	r->busy = db_pool_submit(r->pool, r->cfg->version_sql, 0, NULL, reloader_check_cb, r);
	/* Not submitted (database away or queue full): the next tick tries again. */
	if (!r->busy)
		reloader_settle(r, false, "version check");
}

/* Start the next load; when it cannot start, its waiters are released at once. */
static void
reloader_load(Reloader *r)
{
	r->reload_wanted = false;
	r->busy = db_pool_submit(r->pool, r->cfg->load_sql, 0, NULL, reloader_load_cb, r);
	if (r->busy) {
		r->loads_started++;
		return;
	}
	reloader_release(r, r->loads_started + 1);
	/* Before the first load the pool is usually still connecting: no news. */
	if (r->object)
		reloader_settle(r, false, "load");
}

static void
reloader_check_cb(const DbResult *res, void *arg)
{
	Reloader *r = arg;
	bool ok;

	if (!reloader_answered(r, res, "version check", &ok))
		return;
	if (r->reload_wanted || (ok && strcmp(reloader_version_of(res->res), r->version) != 0))
		reloader_load(r);
}

static void
reloader_load_cb(const DbResult *res, void *arg)
{
	Reloader *r = arg;
	bool ok;

	if (!reloader_answered(r, res, "load", &ok))
		return;
	if (ok)
		reloader_swap(r, res->res);
	reloader_release(r, r->loads_started);
	if (r->reload_wanted)
		reloader_load(r);
}

/* A check or load has answered: false when stopped meanwhile, else *ok tells whether
 * it brought its one row. */
static bool
reloader_answered(Reloader *r, const DbResult *res, const char *what, bool *ok)
{
	if (!r->cfg)
		return false;
	r->busy = false;
	*ok = res->status == DB_OK && PQntuples(res->res) == 1;
	reloader_settle(r, *ok, what);
	return true;
}

/* Build from the load's row and put the result in force, or keep the old object. */
static void
reloader_swap(Reloader *r, const PGresult *res)
{
	void *next = r->cfg->build(res);

	if (!next) {
		log_error("%s: cannot build the %s from the database (refused rows, or out of memory); %s %s",
			  r->cfg->name, r->cfg->what, r->object ? "keeping the last loaded" : "503 answers until a good load of the",
			  r->cfg->what);
		return;
	}
	if (r->object)
		r->cfg->free(r->object);
	r->object = next;
	snprintf(r->version, sizeof(r->version), "%s", reloader_version_of(res));
}

/* Call and free every waiter for a load numbered up to `load`. The list is settled
 * before any done runs, since a done may ask for another reload. */
static void
reloader_release(Reloader *r, unsigned long long load)
{
	ReloaderWaiter *ready = NULL, **tail = &ready, **at = &r->waiters, *w;

	while ((w = *at)) {
		if (w->load > load) {
			at = &w->next;
			continue;
		}
		*at = w->next;
		w->next = NULL;
		*tail = w;
		tail = &w->next;
	}
	while ((w = ready)) {
		ready = w->next;
		w->done(w->arg);
		free(w);
	}
}

/* Log an outage once when it starts and once when it ends. */
static void
reloader_settle(Reloader *r, bool ok, const char *what)
{
	if (!ok && !r->db_trouble)
		log_warn("%s: %s failed; %s %s", r->cfg->name, what,
			 r->object ? "keeping the last loaded" : "503 answers until the first load of the", r->cfg->what);
	else if (ok && r->db_trouble)
		log_info("%s: the database answers again", r->cfg->name);
	r->db_trouble = !ok;
}

/* Column 0 of a version or load row; a NULL version reads as "". */
static const char *
reloader_version_of(const PGresult *res)
{
	return PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0);
}
