/*
 * routing_state: the routing engine in force (see routing_state.h).
 *
 * Loading: one statement reads the rules version, the enabled rules and the enabled
 * categories together (one snapshot), the core validates each rule and builds an
 * immutable Router, and the pointer is swapped; the old router is freed at once,
 * since readers hold it only within one loop callback. Rules and categories of a
 * disabled department are left out, so nothing is routed to it.
 *
 * Watching: LISTEN rules_changed (sent by the rules version trigger of migration 003,
 * and for departments and categories by 008) reloads at once; the pool calls the
 * listener with a NULL payload after (re)connecting, meaning "changes may have been
 * missed": reload too. A timer backs this up: until the first load succeeds it retries
 * quickly, afterwards it compares the cheap rules version every few seconds. A failed
 * poll or load keeps the last good router: routing goes on through a database outage.
 */
#include "routing_state.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "log.h"

/* How often a loaded server compares versions (NOTIFY normally comes first). */
#define ROUTING_STATE_POLL_MS 3000
/* How often a server without a router yet tries to load one. */
#define ROUTING_STATE_RETRY_MS 50
/* Loads in a row whose result may be stale and is dropped for a newer one (see load_cb). */
#define ROUTING_STATE_MAX_DROPS 3

typedef struct RoutingState {
	App *app;              /* NULL when stopped */
	struct event *timer;
	Router *router;        /* NULL until the first load */
	bool busy;             /* a poll or load is waiting for the database */
	bool reload_wanted;    /* a reload was asked for while busy */
	bool db_trouble;       /* the last attempt failed (log the outage once) */
	int drops;             /* possibly stale load results dropped in a row */
	long long version;     /* rules version the router was built from */
} RoutingState;

static RoutingState state;

static const char sql_version[] = "SELECT version FROM rules_version";

/* One statement, so that the version, the rules and the categories are one snapshot. */
static const char sql_load[] =
	"SELECT v.version, "
	"  (SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name, "
	"       'priority', r.priority, 'enabled', r.enabled, 'department', r.department, "
	"       'match', r.match) ORDER BY r.id), '[]')::text "
	"     FROM rules r JOIN departments d ON d.code = r.department "
	"    WHERE r.enabled AND d.enabled), "
	"  (SELECT coalesce(jsonb_agg(jsonb_build_array(c.code, c.department) ORDER BY c.code), '[]')::text "
	"     FROM categories c JOIN departments d ON d.code = c.department "
	"    WHERE c.enabled AND d.enabled) "
	"FROM rules_version v";

static void routing_state_arm(void);
static void routing_state_tick_cb(evutil_socket_t fd, short what, void *arg);
static void routing_state_notify_cb(const char *channel, const char *payload, void *arg);
static void routing_state_submit(const char *sql, DbCallback cb);
static void routing_state_version_cb(const DbResult *r, void *arg);
static void routing_state_load_cb(const DbResult *r, void *arg);
static void routing_state_settle(bool ok, const char *what);
static Router *routing_state_build(const char *rules_text, const char *cats_text);
static size_t routing_state_parse_rules(json_object *arr, RouterRule *rules);
static size_t routing_state_parse_categories(json_object *arr, RouterCategory *cats);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
routing_state_start(App *app)
{
	memset(&state, 0, sizeof(state));
	state.app = app;
	state.timer = evtimer_new(app->base, routing_state_tick_cb, NULL);
	if (!state.timer) {
		state.app = NULL;
		return false;
	}
	/* Without a listener (the pool has one channel only) the version poll still works. */
	if (!db_pool_listen(app->pool, "rules_changed", routing_state_notify_cb, NULL))
		log_warn("routing_state: cannot LISTEN rules_changed; relying on the version check");
	routing_state_arm();
	return true;
}

const Router *
routing_state_current(void)
{
	return state.router;
}

void
routing_state_reload(void)
{
	if (!state.app)
		return;
	if (state.busy) {
		/* What is in flight may predate the change: load again when it ends. */
		state.reload_wanted = true;
		return;
	}
	routing_state_submit(sql_load, routing_state_load_cb);
}

void
routing_state_stop(void)
{
	if (state.timer)
		event_free(state.timer);
	state.timer = NULL;
	/* Callbacks still queued in the pool, and notifications, see app == NULL. */
	state.app = NULL;
	router_free(state.router);
	state.router = NULL;
}

/*
 *********************************
 * Loading
 *********************************
 */

/* Schedule the next tick: soon while nothing is loaded, at the poll interval after. */
static void
routing_state_arm(void)
{
	int ms = state.router ? ROUTING_STATE_POLL_MS : ROUTING_STATE_RETRY_MS;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (state.timer)
		evtimer_add(state.timer, &tv);
}

static void
routing_state_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!state.busy) {
		if (state.router)
			routing_state_submit(sql_version, routing_state_version_cb);
		else
			routing_state_submit(sql_load, routing_state_load_cb);
	}
	routing_state_arm();
}

/* NOTIFY rules_changed: the payload is the new version; NULL after a (re)connect. */
static void
routing_state_notify_cb(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)arg;
	if (!state.app || !state.router)
		return; /* the first load is under way or retried by the timer */
	if (payload && strtoll(payload, NULL, 10) == state.version)
		return; /* a load already has it */
	routing_state_reload();
}

static void
routing_state_submit(const char *sql, DbCallback cb)
{
	state.busy = db_pool_submit(state.app->pool, sql, 0, NULL, cb, NULL);
	/* Not submitted (database away or queue full): the next tick tries again, and its
	 * version check notices any change a lost reload was meant to pick up. */
	if (!state.busy && state.router) /* at start the pool is still connecting: no news */
		routing_state_settle(false, cb == routing_state_load_cb ? "load" : "version check");
}

static void
routing_state_version_cb(const DbResult *r, void *arg)
{
	(void)arg;
	if (!state.app)
		return;
	state.busy = false;
	if (r->status != DB_OK || PQntuples(r->res) != 1) {
		routing_state_settle(false, "version check");
		return;
	}
	routing_state_settle(true, "version check");
	if (state.reload_wanted || strtoll(PQgetvalue(r->res, 0, 0), NULL, 10) != state.version) {
		state.reload_wanted = false;
		routing_state_submit(sql_load, routing_state_load_cb);
	}
}

static void
routing_state_load_cb(const DbResult *r, void *arg)
{
	Router *next;

	(void)arg;
	if (!state.app)
		return;
	state.busy = false;
	if (r->status != DB_OK || PQntuples(r->res) != 1) {
		routing_state_settle(false, "load");
		goto again;
	}
	routing_state_settle(true, "load");
	/* A reload asked for while this load ran may be about a change this snapshot
	 * predates. Swapping it in would let a writer waiting for the swap (api/rules.c)
	 * answer too early; load again instead, a few times at most so that a storm of
	 * changes cannot keep the router old for long. */
	if (state.reload_wanted && state.router && state.drops < ROUTING_STATE_MAX_DROPS) {
		state.drops++;
		goto again;
	}
	state.drops = 0;
	next = routing_state_build(PQgetvalue(r->res, 0, 1), PQgetvalue(r->res, 0, 2));
	if (!next) {
		log_error("routing_state: cannot build the router (out of memory or unreadable rows); "
			  "keeping the previous one");
		goto again;
	}
	log_info("routing_state: %s rules version %s: %zu enabled rules, %zu keywords",
		 state.router ? "reloaded" : "loaded", PQgetvalue(r->res, 0, 0), router_rule_count(next),
		 router_keyword_count(next));
	router_free(state.router);
	state.router = next;
	state.version = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
again:
	if (state.reload_wanted) {
		state.reload_wanted = false;
		routing_state_submit(sql_load, routing_state_load_cb);
	}
}

/* Log an outage once when it starts and once when it ends. */
static void
routing_state_settle(bool ok, const char *what)
{
	if (!ok && !state.db_trouble)
		log_warn("routing_state: %s failed; keeping %s", what,
			 state.router ? "the last loaded rules" : "503 answers until rules load");
	else if (ok && state.db_trouble)
		log_info("routing_state: the database answers again");
	state.db_trouble = !ok;
}

/*
 *********************************
 * Building
 *********************************
 */

/*
 * A router from the loader's two JSON arrays: rule objects, and [code, department]
 * pairs. A stored rule the core refuses (written around the API) is left out and
 * logged rather than blocking every later change. NULL when the text is not the
 * expected JSON or when out of memory.
 */
static Router *
routing_state_build(const char *rules_text, const char *cats_text)
{
	json_object *rules_json = json_tokener_parse(rules_text);
	json_object *cats_json = json_tokener_parse(cats_text);
	RouterRule *rules = NULL;
	RouterCategory *cats = NULL;
	Router *router = NULL;
	size_t nrules = 0, ncats;

	if (!json_object_is_type(rules_json, json_type_array) || !json_object_is_type(cats_json, json_type_array))
		goto done;
	/* +1: calloc(0) may return NULL. */
	rules = calloc(json_object_array_length(rules_json) + 1, sizeof(*rules));
	cats = calloc(json_object_array_length(cats_json) + 1, sizeof(*cats));
	if (!rules || !cats)
		goto done;
	nrules = routing_state_parse_rules(rules_json, rules);
	ncats = routing_state_parse_categories(cats_json, cats);
	router = router_build(rules, nrules, cats, ncats);
done:
	for (size_t i = 0; i < nrules; i++)
		router_rule_clear(&rules[i]);
	free(rules);
	free(cats);
	json_object_put(rules_json);
	json_object_put(cats_json);
	return router;
}

/* Validate each stored rule with the core into rules[]; returns how many were kept. */
static size_t
routing_state_parse_rules(json_object *arr, RouterRule *rules)
{
	size_t n = 0;
	ApiError err;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *row = json_object_array_get_idx(arr, i);
		int64_t id = json_object_get_int64(json_object_object_get(row, "id"));

		router_rule_init(&rules[n]);
		if (!router_rule_from_json(row, &rules[n], &err)) {
			log_error("routing_state: stored rule %lld refused at %s (%s); skipped", (long long)id,
				  err.field, err.message);
			continue;
		}
		rules[n++].id = id;
	}
	return n;
}

/* The [code, department] pairs as RouterCategory values borrowing the JSON's strings. */
static size_t
routing_state_parse_categories(json_object *arr, RouterCategory *cats)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *pair = json_object_array_get_idx(arr, i);
		const char *code = json_object_get_string(json_object_array_get_idx(pair, 0));
		const char *dept = json_object_get_string(json_object_array_get_idx(pair, 1));

		if (code && dept)
			cats[n++] = (RouterCategory){code, dept};
	}
	return n;
}
