/*
 * api/sla: read and replace the SLA policy and one year's working-day calendar.
 *
 * Reads come from the database, not from sla_state, so an admin sees what is
 * stored even while another server's change is still on its way to this one.
 * A write stores the canonical text the core produced (sorted dates, canonical
 * durations) through one SQL function call, has sla_state reload, and answers with
 * that same text once the reload is done: the client's next case then gets the new
 * deadlines. Other servers notice the new version by polling.
 */
#include "api/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sla.h"
#include "core/workcal.h"
#include "http/reply.h"
#include "sla_state.h"

static bool sla_path_year(Req *req, int *year);
static void sla_reply_policy_cb(Req *req, PGresult *res);
typedef struct SlaStored {
	Req *req;
	char body[]; /* the stored canonical JSON */
} SlaStored;

static void sla_put_done_cb(Req *req, PGresult *res);
static void sla_reloaded_cb(void *arg);
static void sla_store(Req *req, const char *sql, json_object *canonical, const char *key);

/*
 *********************************
 * Handlers
 *********************************
 */

static void
calendar_get(Req *req)
{
	char year_text[16];
	const char *params[] = {year_text};
	int year;

	if (!sla_path_year(req, &year))
		return;
	if (year < WORKCAL_YEAR_MIN || year > WORKCAL_YEAR_MAX) {
		reply_error(req, 400, "bad_request", NULL, "the year must be %d to %d", WORKCAL_YEAR_MIN,
			    WORKCAL_YEAR_MAX);
		return;
	}
	snprintf(year_text, sizeof(year_text), "%d", year);
	/* A year never stored has weekends only: both lists empty. */
	req_query_reply(req,
		"SELECT 200, coalesce((SELECT jsonb_build_object('holidays', to_jsonb(holidays), "
		"                                               'workdays', to_jsonb(workdays)) "
		"                        FROM calendar_years WHERE year = $1::integer), "
		"                     '{\"holidays\": [], \"workdays\": []}'::jsonb)::text",
		1, params);
}

static void
calendar_put(Req *req)
{
	WorkcalYear y;
	ApiError err;
	char key[16];
	int year;

	if (!sla_path_year(req, &year))
		return;
	if (!workcal_year_from_json(year, req->body, &y, &err)) {
		reply_api_error(req, &err);
		return;
	}
	snprintf(key, sizeof(key), "%d", year);
	sla_store(req, "SELECT $1::text, calendar_put($2::integer, $1::text::jsonb, $3::bigint)",
		  workcal_year_to_json(&y), key);
}

static void
policy_get(Req *req)
{
	req_query(req, "SELECT policy::text FROM sla_policy", 0, NULL, sla_reply_policy_cb);
}

static void
policy_put(Req *req)
{
	SlaPolicy p;
	ApiError err;

	if (!sla_policy_from_json(req->body, &p, &err)) {
		reply_api_error(req, &err);
		return;
	}
	sla_store(req, "SELECT $1::text, sla_policy_put($1::text::jsonb, $2::bigint)", sla_policy_to_json(&p),
		  NULL);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* The {year} segment as a number; answers 400 and returns false when it is not one. */
static bool
sla_path_year(Req *req, int *year)
{
	const char *s = req->path_arg;
	size_t n = strspn(s, "0123456789");

	if (n == 0 || s[n] != '\0' || n > 9) {
		reply_error(req, 400, "bad_request", NULL, "the year in the path must be a number");
		return false;
	}
	*year = atoi(s);
	return true;
}

/* Answer with the stored policy in canonical form (the shipped default when none is stored). */
static void
sla_reply_policy_cb(Req *req, PGresult *res)
{
	json_object *stored = PQntuples(res) == 1 ? json_tokener_parse(PQgetvalue(res, 0, 0)) : NULL;
	json_object *out = NULL;
	SlaPolicy p;
	ApiError err;

	if (PQntuples(res) == 0) {
		sla_policy_default(&p);
	} else if (!sla_policy_from_json(stored, &p, &err)) {
		json_object_put(stored);
		reply_error(req, 500, "internal", NULL, "the stored SLA policy is invalid (%s)", err.field);
		return;
	}
	json_object_put(stored);
	out = sla_policy_to_json(&p);
	if (!out) {
		reply_out_of_memory(req);
		return;
	}
	reply_json(req, 200, out);
}

/*
 * Store a validated body: sql takes $1 the canonical JSON text, then $2 the key
 * (the year) when key is not NULL, then the actor. Takes ownership of canonical.
 */
static void
sla_store(Req *req, const char *sql, json_object *canonical, const char *key)
{
	char actor[24];
	const char *params[3];
	int n = 0;

	if (!canonical) {
		reply_out_of_memory(req);
		return;
	}
	snprintf(actor, sizeof(actor), "%lld", (long long)req->user.id);
	params[n++] = json_object_to_json_string_ext(canonical, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (key)
		params[n++] = key;
	params[n++] = actor;
	req_query(req, sql, n, params, sla_put_done_cb); /* copies the params */
	json_object_put(canonical);
}

/* The write committed: reload this server's state, then answer with what was stored. */
static void
sla_put_done_cb(Req *req, PGresult *res)
{
	const char *body = PQgetvalue(res, 0, 0);
	size_t len = strlen(body);
	SlaStored *st = malloc(sizeof(*st) + len + 1);

	if (!st) {
		/* Committed all the same: the poll will load it within seconds. */
		sla_state_reload();
		reply_json_text(req, 200, body, len);
		return;
	}
	st->req = req;
	memcpy(st->body, body, len + 1);
	sla_state_reload_then(sla_reloaded_cb, st);
}

static void
sla_reloaded_cb(void *arg)
{
	SlaStored *st = arg;

	reply_json_text(st->req, 200, st->body, strlen(st->body));
	free(st);
}

#define ADMIN ROLE_BIT(ROLE_ADMIN)
#define READERS (ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_MANAGER))

static const Route sla_route_list[] = {
	{"GET", "/v1/sla", READERS, BODY_NONE, policy_get},
	{"PUT", "/v1/sla", ADMIN, BODY_JSON, policy_put},
	{"GET", "/v1/calendar/{arg}", READERS, BODY_NONE, calendar_get},
	{"PUT", "/v1/calendar/{arg}", ADMIN, BODY_JSON, calendar_put},
};

const RouteTable *
sla_routes(void)
{
	static const RouteTable table = {sla_route_list, sizeof(sla_route_list) / sizeof(sla_route_list[0])};

	return &table;
}
