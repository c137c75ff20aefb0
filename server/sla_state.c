/*
 * sla_state: the SLA policy and the working-day calendar in force (see sla_state.h).
 *
 * One timer drives everything. Until the first load has succeeded it retries
 * quickly (the pool may still be connecting); afterwards it polls the cheap
 * calendar_sla_versions() every few seconds and reloads everything in one
 * statement when either version moved. A failed poll or load keeps the last
 * good state: the server goes on computing deadlines through a database outage.
 * The new Workcal is swapped in whole; readers use it only within one loop
 * callback, so the old one can be freed at the swap.
 *
 * One query is in flight at a time. Loads are numbered as they start; a waiter
 * of sla_state_reload_then() waits for the next number, which begins after its
 * caller's write committed.
 */
#include "sla_state.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "core/sla.h"
#include "core/workcal.h"
#include "log.h"

/* How often a loaded server looks for changes another server made. */
#define SLA_STATE_POLL_MS 2000
/* How often a server without a policy yet tries to load one. */
#define SLA_STATE_RETRY_MS 50

typedef struct SlaWaiter {
	struct SlaWaiter *next;
	unsigned long long load; /* the load whose end releases it */
	void (*done)(void *arg);
	void *arg;
} SlaWaiter;

typedef struct SlaState {
	App *app;                 /* NULL when stopped */
	struct event *timer;
	bool loaded;              /* policy and calendar came from the database at least once */
	bool busy;                /* a poll or load is waiting for the database */
	bool reload_wanted;       /* a forced reload arrived while busy */
	bool db_trouble;          /* the last attempt failed (log the outage once) */
	unsigned long long loads_started;
	SlaWaiter *waiters;
	long long sla_version, calendar_version;
	SlaPolicy policy;
	Workcal *cal;
} SlaState;

static SlaState state;

static const char sql_versions[] = "SELECT sla_version, calendar_version FROM calendar_sla_versions()";

/* One statement, so the versions and the data come from one snapshot. */
static const char sql_load[] =
	"SELECT v.sla_version, v.calendar_version, "
	"  (SELECT policy::text FROM sla_policy), "
	"  (SELECT coalesce(jsonb_object_agg(year::text, jsonb_build_object("
	"     'holidays', to_jsonb(holidays), 'workdays', to_jsonb(workdays))), '{}')::text "
	"     FROM calendar_years) "
	"FROM calendar_sla_versions() v";

static void sla_state_arm(void);
static void sla_state_tick_cb(evutil_socket_t fd, short what, void *arg);
static void sla_state_load(void);
static void sla_state_release(unsigned long long load);
static void sla_state_versions_cb(const DbResult *r, void *arg);
static void sla_state_load_cb(const DbResult *r, void *arg);
static void sla_state_settle(bool ok, const char *what);
static long long sla_state_version_at(PGresult *res, int col);
static bool sla_state_parse_policy(const char *text, SlaPolicy *out);
static Workcal *sla_state_parse_calendar(const char *text);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
sla_state_start(App *app)
{
	memset(&state, 0, sizeof(state));
	sla_policy_default(&state.policy);
	state.app = app;
	state.timer = evtimer_new(app->base, sla_state_tick_cb, NULL);
	if (!state.timer) {
		state.app = NULL;
		return false;
	}
	sla_state_arm();
	return true;
}

void
sla_state_stop(void)
{
	sla_state_release(~0ULL);
	if (state.timer)
		event_free(state.timer);
	state.timer = NULL;
	/* A callback still queued in the pool sees app == NULL and does nothing. */
	state.app = NULL;
	workcal_free(state.cal);
	state.cal = NULL;
	state.loaded = false;
}

void
sla_state_reload(void)
{
	if (!state.app)
		return;
	if (state.busy) {
		/* What is in flight may predate the change: load again when it ends. */
		state.reload_wanted = true;
		return;
	}
	sla_state_load();
}

void
sla_state_reload_then(void (*done)(void *arg), void *arg)
{
	SlaWaiter *w = state.app ? malloc(sizeof(*w)) : NULL;

	if (!w) {
		done(arg);
		return;
	}
	/* Whether a query is in flight or not, the next load to start begins after now. */
	w->load = state.loads_started + 1;
	w->done = done;
	w->arg = arg;
	w->next = state.waiters;
	state.waiters = w;
	sla_state_reload();
}

bool
sla_state_loaded(void)
{
	return state.loaded;
}

bool
sla_state_deadlines(const char *type, bool urgent, time_t at, time_t *sign_by, time_t *contact_by,
		    time_t *finish_by)
{
	if (!state.loaded)
		return false;
	return sla_deadlines(&state.policy, state.cal, type, urgent, at, sign_by, contact_by, finish_by);
}

bool
sla_state_rectify(time_t at, time_t *finish_by)
{
	time_t t;

	if (!state.loaded)
		return false;
	t = sla_rectify_deadline(&state.policy, state.cal, at);
	if (t == (time_t)-1)
		return false;
	*finish_by = t;
	return true;
}

bool
sla_state_extend(time_t finish_by, int workdays, time_t *out)
{
	time_t t;

	if (!state.loaded)
		return false;
	t = sla_extend(state.cal, finish_by, workdays);
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}

double
sla_state_warn_at(void)
{
	return state.policy.warn_at;
}

/*
 *********************************
 * Loading
 *********************************
 */

/* Schedule the next tick: soon while nothing is loaded, at the poll interval after. */
static void
sla_state_arm(void)
{
	int ms = state.loaded ? SLA_STATE_POLL_MS : SLA_STATE_RETRY_MS;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (state.timer)
		evtimer_add(state.timer, &tv);
}

static void
sla_state_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!state.busy) {
		if (state.loaded && !state.reload_wanted)
			state.busy = db_pool_submit(state.app->pool, sql_versions, 0, NULL, sla_state_versions_cb, NULL);
		else
			sla_state_load();
	}
	/* Not submitted (database away or queue full): the next tick tries again. */
	sla_state_arm();
}

/* Start the next load; when it cannot start, its waiters are released at once. */
static void
sla_state_load(void)
{
	state.reload_wanted = false;
	state.busy = db_pool_submit(state.app->pool, sql_load, 0, NULL, sla_state_load_cb, NULL);
	if (state.busy)
		state.loads_started++;
	else
		sla_state_release(state.loads_started + 1);
}

/* Call and free every waiter for a load numbered up to `load`. */
static void
sla_state_release(unsigned long long load)
{
	SlaWaiter **at = &state.waiters, *w;

	while ((w = *at)) {
		if (w->load <= load) {
			*at = w->next;
			w->done(w->arg);
			free(w);
		} else {
			at = &w->next;
		}
	}
}

static void
sla_state_versions_cb(const DbResult *r, void *arg)
{
	(void)arg;
	if (!state.app)
		return;
	state.busy = false;
	if (r->status != DB_OK || PQntuples(r->res) != 1) {
		sla_state_settle(false, "version check");
		if (state.reload_wanted)
			sla_state_load();
		return;
	}
	if (state.reload_wanted || sla_state_version_at(r->res, 0) != state.sla_version ||
	    sla_state_version_at(r->res, 1) != state.calendar_version) {
		sla_state_load();
		return;
	}
	sla_state_settle(true, "version check");
}

static void
sla_state_load_cb(const DbResult *r, void *arg)
{
	SlaPolicy policy;
	Workcal *cal;

	(void)arg;
	if (!state.app)
		return;
	state.busy = false;
	if (r->status != DB_OK || PQntuples(r->res) != 1) {
		sla_state_settle(false, "load");
		goto again;
	}
	if (!sla_state_parse_policy(PQgetisnull(r->res, 0, 2) ? NULL : PQgetvalue(r->res, 0, 2), &policy) ||
	    !(cal = sla_state_parse_calendar(PQgetvalue(r->res, 0, 3)))) {
		log_error("sla_state: the stored SLA policy or calendar is invalid; keeping the previous one");
		goto again;
	}
	workcal_free(state.cal);
	state.cal = cal;
	state.policy = policy;
	state.sla_version = sla_state_version_at(r->res, 0);
	state.calendar_version = sla_state_version_at(r->res, 1);
	if (!state.loaded)
		log_info("sla_state: policy version %lld, calendar version %lld loaded", state.sla_version,
			 state.calendar_version);
	else
		log_info("sla_state: reloaded (policy version %lld, calendar version %lld)", state.sla_version,
			 state.calendar_version);
	state.loaded = true;
	sla_state_settle(true, "load");
again:
	sla_state_release(state.loads_started);
	if (state.reload_wanted)
		sla_state_load();
}

/* Log an outage once when it starts and once when it ends. */
static void
sla_state_settle(bool ok, const char *what)
{
	if (!ok && !state.db_trouble)
		log_warn("sla_state: %s failed; keeping the %s", what,
			 state.loaded ? "last loaded policy and calendar" : "503 answers until one loads");
	else if (ok && state.db_trouble)
		log_info("sla_state: the database answers again");
	state.db_trouble = !ok;
}

static long long
sla_state_version_at(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/* The stored policy; a database without one gets the shipped default. */
static bool
sla_state_parse_policy(const char *text, SlaPolicy *out)
{
	json_object *body;
	ApiError err;
	bool ok;

	if (!text) {
		log_warn("sla_state: no SLA policy stored; using the shipped default");
		sla_policy_default(out);
		return true;
	}
	body = json_tokener_parse(text);
	ok = sla_policy_from_json(body, out, &err);
	if (!ok)
		log_error("sla_state: stored policy refused at %s: %s", err.field, err.message);
	json_object_put(body);
	return ok;
}

/* The calendar from {"2026": {"holidays": [...], "workdays": [...]}, ...};
 * NULL when a year is invalid or out of memory. */
static Workcal *
sla_state_parse_calendar(const char *text)
{
	json_object *all = json_tokener_parse(text);
	WorkcalYear *years = NULL;
	Workcal *cal = NULL;
	size_t n = 0;
	ApiError err;

	if (!all || !json_object_is_type(all, json_type_object))
		goto done;
	years = malloc(sizeof(*years) * ((size_t)json_object_object_length(all) + 1));
	if (!years)
		goto done;
	json_object_object_foreach(all, key, body)
	{
		if (!workcal_year_from_json(atoi(key), body, &years[n], &err)) {
			log_error("sla_state: stored calendar %s refused at %s: %s", key, err.field, err.message);
			goto done;
		}
		n++;
	}
	cal = workcal_new(years, n);
done:
	free(years);
	json_object_put(all);
	return cal;
}
