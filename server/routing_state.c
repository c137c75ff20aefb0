/*
 * routing_state: the routing engine in force (see routing_state.h).
 *
 * One statement reads the rules version, the enabled rules and the enabled categories
 * together (one snapshot); the core validates each rule and builds an immutable Router.
 * Rules and categories of a disabled department are left out, so nothing is routed to
 * it. db/reloader does the rest: LISTEN rules_changed (sent by the rules version
 * trigger of migration 003, and for departments and categories by 008) reloads at once,
 * a version check every few seconds backs it up, and a failed load keeps the last good
 * router, so routing goes on through a database outage.
 */
#include "routing_state.h"

#include <stdlib.h>

#include <json-c/json.h>

#include "db/reloader.h"
#include "log.h"

static void *routing_state_build_cb(const PGresult *res);
static void routing_state_free_cb(void *router);
static Router *routing_state_build(const char *rules_text, const char *cats_text);
static size_t routing_state_parse_rules(json_object *arr, RouterRule *rules);
static size_t routing_state_parse_categories(json_object *arr, RouterCategory *cats);

static const ReloaderConfig routing_state_config = {
	.name = "routing_state",
	.what = "rules",
	.version_sql = "SELECT version FROM rules_version",
	/* One statement, so that the version, the rules and the categories are one snapshot. */
	.load_sql = "SELECT v.version, "
		    "  (SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name, "
		    "       'priority', r.priority, 'enabled', r.enabled, 'department', r.department, "
		    "       'match', r.match, 'shipped', r.shipped) ORDER BY r.id), '[]')::text "
		    "     FROM rules r JOIN departments d ON d.code = r.department "
		    "    WHERE r.enabled AND d.enabled), "
		    "  (SELECT coalesce(jsonb_agg(jsonb_build_array(c.code, c.department) ORDER BY c.code), '[]')::text "
		    "     FROM categories c JOIN departments d ON d.code = c.department "
		    "    WHERE c.enabled AND d.enabled) "
		    "FROM rules_version v",
	.build = routing_state_build_cb,
	.free = routing_state_free_cb,
	.poll_ms = 3000, /* NOTIFY normally comes first */
	.channel = "rules_changed",
};

static Reloader reloader;

/*
 *********************************
 * Public functions
 *********************************
 */

bool
routing_state_start(App *app)
{
	return reloader_start(&reloader, &routing_state_config, app->base, app->pool, app->listener);
}

const Router *
routing_state_current(void)
{
	return reloader_current(&reloader);
}

void
routing_state_reload(void)
{
	reloader_reload(&reloader);
}

void
routing_state_reload_then(void (*done)(void *arg), void *arg)
{
	reloader_reload_then(&reloader, done, arg);
}

void
routing_state_stop(void)
{
	reloader_stop(&reloader);
}

/*
 *********************************
 * Building
 *********************************
 */

/* The loaded row (version, rules, categories) as a Router; NULL when refused. */
static void *
routing_state_build_cb(const PGresult *res)
{
	Router *router = routing_state_build(PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));

	if (router)
		log_info("routing_state: %s rules version %s: %zu enabled rules, %zu keywords",
			 routing_state_current() ? "reloaded" : "loaded", PQgetvalue(res, 0, 0),
			 router_rule_count(router), router_keyword_count(router));
	return router;
}

static void
routing_state_free_cb(void *router)
{
	router_free(router);
}

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
		/* not part of a rule body: the core would refuse the field */
		bool shipped = json_object_get_boolean(json_object_object_get(row, "shipped"));

		json_object_object_del(row, "shipped");
		router_rule_init(&rules[n]);
		if (!router_rule_from_json(row, &rules[n], &err)) {
			log_error("routing_state: stored rule %lld refused at %s (%s); skipped", (long long)id,
				  err.field, err.message);
			continue;
		}
		rules[n].shipped = shipped;
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
