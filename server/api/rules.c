/*
 * api/rules: routing rules, the routing dry run, departments and categories
 * (API.md section 3).
 *
 * Rules are validated by the core (router_rule_from_json) and stored in its canonical
 * form through one SQL function of sql/008_rules_stats.sql, which also refuses an
 * unknown or disabled department. Reading a rule adds its dispatch accuracy
 * (派单准确率): "stats": {"dispatched", "returned", "accuracy"}; "stats" is read-only
 * and ignored in a body, so a rule read with GET can be changed and PUT back.
 * PUT merges: fields absent from the body keep their stored values ("match", when
 * present, replaces all seven lists).
 *
 * A write that changes what the router is built from (rules, departments, categories)
 * answers only once a load of the router begun after it committed has ended, so that
 * the change takes effect here "immediately": the next request routes with it. Other
 * servers follow through NOTIFY rules_changed. A dry run before the first load answers
 * 503, as case create does (/readyz waits for that load).
 *
 * Roles: rules are read by admins and managers (supervision of routing accuracy) and
 * written by admins; the dry run, departments and categories are read by every role;
 * departments and categories are written by admins.
 */
#include "api/rules.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/case_input.h"
#include "core/codes.h"
#include "core/route_blend.h"
#include "core/router.h"
#include "core/utf8.h"
#include "http/reply.h"
#include "routing_model.h"
#include "routing_state.h"

/* Catalog limits not fixed by the schema's CHECKs. */
#define CATALOG_POSITION_MAX 1000000

/* A committed write's answer, kept until the router reloads (rules_written_cb). */
typedef struct RulesWritten {
	Req *req;
	int status;
	char body[];
} RulesWritten;

typedef enum CatalogKind { CATALOG_TEXT, CATALOG_BOOL, CATALOG_INT } CatalogKind;

/* A check across fields of a body whose fields each passed; false with err filled. */
typedef bool (*CatalogCheck)(json_object *body, bool create, ApiError *err);

/* One field of a department or category body. */
typedef struct CatalogField {
	const char *name;
	CatalogKind kind;
	int min, max;        /* characters of a text, range of an integer */
	bool required;       /* on create */
	bool code;           /* the key: in the body on create, in the path on PUT */
} CatalogField;

static const CatalogField department_fields[] = {
	{"code", CATALOG_TEXT, 1, DEPARTMENT_CODE_MAX, true, true},
	{"name", CATALOG_TEXT, 1, 100, true, false},
	{"name_en", CATALOG_TEXT, 0, 100, false, false},
	{"enabled", CATALOG_BOOL, 0, 0, false, false},
	{"position", CATALOG_INT, 0, CATALOG_POSITION_MAX, false, false},
	{NULL, 0, 0, 0, false, false},
};

static const CatalogField category_fields[] = {
	{"code", CATALOG_TEXT, 1, CATEGORY_CODE_MAX, false, true},
	{"name", CATALOG_TEXT, 1, 200, true, false},
	{"department", CATALOG_TEXT, 1, DEPARTMENT_CODE_MAX, true, false},
	{"enabled", CATALOG_BOOL, 0, 0, false, false},
	{"position", CATALOG_INT, 0, CATALOG_POSITION_MAX, false, false},
	{NULL, 0, 0, 0, false, false},
};

static void rules_update_read_cb(Req *req, PGresult *res);
static char *rules_canonical(Req *req, json_object *body);
static void rules_route_checked_cb(Req *req, PGresult *res);
static void rules_route_answer(Req *req, const CaseInput *in);
static void rules_write(Req *req, const char *sql, int nparams, const char *const *params);
static void rules_written_cb(Req *req, PGresult *res);
static void rules_reloaded_cb(void *arg);
static bool catalog_check(Req *req, const CatalogField *fields, CatalogCheck check, bool create);
static bool catalog_field_ok(json_object *v, const CatalogField *f, ApiError *err);
static bool department_codes_ok(json_object *body, bool create, ApiError *err);
static bool category_codes_ok(json_object *body, bool create, ApiError *err);
static void path_id_text(const Req *req, char *buf, size_t size);

/*
 *********************************
 * Rules
 *********************************
 */

static void
rules_list(Req *req)
{
	req_query_reply(req, "SELECT 200, rules_list()", 0, NULL);
}

static void
rules_get(Req *req)
{
	char id[24];
	const char *params[] = {id};

	path_id_text(req, id, sizeof(id));
	req_query_reply(req, "SELECT status, body FROM rule_get($1::bigint)", 1, params);
}

static void
rules_create(Req *req)
{
	char *canonical = rules_canonical(req, req->body);
	const char *params[] = {canonical};

	if (!canonical)
		return;
	rules_write(req, "SELECT status, body FROM rule_create($1::jsonb)", 1, params);
	free(canonical);
}

/* PUT first reads the stored rule to merge the body over it (rules_update_read_cb). */
static void
rules_update(Req *req)
{
	char id[24];
	const char *params[] = {id};

	path_id_text(req, id, sizeof(id));
	req_query(req, "SELECT (rule_json(r, 0, 0) - 'stats')::text, updated_at::text FROM rules r WHERE id = $1::bigint",
		  1, params, rules_update_read_cb);
}

static void
rules_delete(Req *req)
{
	char id[24];
	const char *params[] = {id};

	path_id_text(req, id, sizeof(id));
	rules_write(req, "SELECT status, body FROM rule_delete($1::bigint)", 1, params);
}

/* The stored rule with the body's fields over it, validated, written if unchanged meanwhile. */
static void
rules_update_read_cb(Req *req, PGresult *res)
{
	json_object *merged;
	char id[24], *canonical;

	if (PQntuples(res) != 1) {
		reply_error(req, 404, "not_found", NULL, "no rule %lld", (long long)req->path_id);
		return;
	}
	merged = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (!merged) {
		reply_out_of_memory(req);
		return;
	}
	json_object_object_foreach(req->body, key, val)
	{
		if (json_object_object_add(merged, key, json_object_get(val)) != 0) {
			json_object_put(merged);
			reply_out_of_memory(req);
			return;
		}
	}
	canonical = rules_canonical(req, merged);
	json_object_put(merged);
	if (!canonical)
		return;
	path_id_text(req, id, sizeof(id));
	const char *params[] = {id, canonical, PQgetvalue(res, 0, 1)};

	rules_write(req, "SELECT status, body FROM rule_update($1::bigint, $2::jsonb, $3::timestamptz)", 3, params);
	free(canonical);
}

/*
 * The canonical text of a rule body (read-only "stats" dropped, then validated by the
 * core), malloc'd for the caller to free; NULL after replying with the refusal.
 */
static char *
rules_canonical(Req *req, json_object *body)
{
	RouterRule rule;
	ApiError err;
	json_object *out;
	char *text = NULL;

	json_object_object_del(body, "stats");
	router_rule_init(&rule);
	if (!router_rule_from_json(body, &rule, &err)) {
		reply_api_error(req, &err);
		return NULL;
	}
	out = router_rule_to_json(&rule);
	if (out)
		text = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	router_rule_clear(&rule);
	if (!text)
		reply_out_of_memory(req);
	return text;
}

/*
 *********************************
 * The dry run
 *********************************
 */

/*
 * POST /v1/route: what creating this case would do, with the rules in force, without
 * creating anything. The body is validated as a case create; a named category or
 * department must exist as it must on create, which needs the database.
 */
static void
route_dry_run(Req *req)
{
	CaseInput in;
	ApiError err;

	if (!case_input_create(req->body, &in, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (!in.category && !in.department) {
		rules_route_answer(req, &in);
		return;
	}
	const char *params[] = {in.category, in.department};

	/* The same checks, in the same order, as case_create of 005. */
	req_query(req,
		"SELECT CASE WHEN $1::text IS NOT NULL AND NOT EXISTS "
		"              (SELECT 1 FROM categories WHERE code = $1 AND enabled) "
		"            THEN case_error('invalid_field', format('unknown category %s', $1), 'category') "
		"            WHEN $2::text IS NOT NULL THEN rule_department_refusal($2) END",
		2, params, rules_route_checked_cb);
}

static void
rules_route_checked_cb(Req *req, PGresult *res)
{
	CaseInput in;
	ApiError err;

	if (!PQgetisnull(res, 0, 0)) {
		const char *refusal = PQgetvalue(res, 0, 0);

		reply_json_text(req, 422, refusal, strlen(refusal));
		return;
	}
	/* Validated before the query: this only finds the strings again in req->body. */
	if (!case_input_create(req->body, &in, &err)) {
		reply_api_error(req, &err);
		return;
	}
	rules_route_answer(req, &in);
}

/* Decide as case create does: an answer stays with the hotline (no department), a
 * named department is "manual", otherwise the rules and the model decide ("none" when
 * neither does: the case would wait in the pending pool). Every answer also says what
 * the model thinks ("suggestion"); with ?explain=true also its best three ("model") and
 * what the rules alone decide ("rules"), for `hotline route --explain`. Before the first
 * load of the rules: 503. */
static void
rules_route_answer(Req *req, const CaseInput *in)
{
	const Router *router = routing_state_current();
	RouteInput ri = {in->title, in->text, in->district, in->type, in->channel, in->category};
	BlendResult res;
	BlendParams params;
	json_object *out, *rules_only;
	const char *explain_param = req_param(req, "explain");
	bool explain = explain_param && strcmp(explain_param, "true") == 0;

	if (!router) {
		reply_error(req, 503, "unavailable", NULL, "the routing rules are still loading, try again shortly");
		return;
	}
	route_blend_params_default(&params);
	if (!route_blend(router, routing_model_current(), &ri, &params, &res)) {
		reply_out_of_memory(req);
		return;
	}
	if (in->department || in->answer)
		res.route = (RouteResult){.department = in->department};
	out = router_result_to_json(&res.route);
	rules_only = router_result_to_json(&res.rules);
	if (out && res.route.method == ROUTE_NONE)
		json_object_object_add(out, "method", json_object_new_string(in->department ? "manual" : "none"));
	if (!out || !rules_only || (explain && json_object_object_add(out, "rules", rules_only))) {
		json_object_put(rules_only);
		json_object_put(out);
		reply_out_of_memory(req);
		return;
	}
	if (!explain)
		json_object_put(rules_only);
	if (!route_blend_suggestion_to_json(&res, out, explain)) {
		json_object_put(out);
		reply_out_of_memory(req);
		return;
	}
	reply_json(req, 200, out);
}

/*
 *********************************
 * The learned model (API.md section 16)
 *********************************
 */

static void
routing_model_get(Req *req)
{
	json_object *out = routing_model_describe();

	if (!out) {
		reply_out_of_memory(req);
		return;
	}
	reply_json(req, 200, out);
}

/* 202: the training thread takes it from here (GET shows "training" until it is done). */
static void
routing_model_train_now(Req *req)
{
	json_object *out = json_object_new_object();

	routing_model_train();
	if (!out) {
		reply_out_of_memory(req);
		return;
	}
	json_object_object_add(out, "status", json_object_new_string("training"));
	reply_json(req, 202, out);
}

/*
 *********************************
 * Departments and categories
 *********************************
 */

static void
departments_list(Req *req)
{
	req_query_reply(req,
		"SELECT 200, jsonb_build_object('items', coalesce(jsonb_agg(department_json(d) "
		"  ORDER BY d.position, d.code), '[]'))::text FROM departments d",
		0, NULL);
}

static void
departments_create(Req *req)
{
	const char *params[] = {json_object_to_json_string_ext(req->body, JSON_C_TO_STRING_PLAIN)};

	if (catalog_check(req, department_fields, department_codes_ok, true))
		rules_write(req, "SELECT status, body FROM department_create($1::jsonb)", 1, params);
}

static void
departments_update(Req *req)
{
	const char *params[] = {req->path_arg, json_object_to_json_string_ext(req->body, JSON_C_TO_STRING_PLAIN)};

	if (catalog_check(req, department_fields, department_codes_ok, false))
		rules_write(req, "SELECT status, body FROM department_update($1, $2::jsonb)", 2, params);
}

/* ?department= narrows the list to one department's categories. */
static void
categories_list(Req *req)
{
	const char *params[] = {req_param(req, "department")};

	req_query_reply(req,
		"SELECT 200, jsonb_build_object('items', coalesce(jsonb_agg(category_json(c) "
		"  ORDER BY d.position, d.code, c.position, c.code), '[]'))::text "
		"FROM categories c JOIN departments d ON d.code = c.department "
		"WHERE $1::text IS NULL OR c.department = $1",
		1, params);
}

static void
categories_create(Req *req)
{
	const char *params[] = {json_object_to_json_string_ext(req->body, JSON_C_TO_STRING_PLAIN)};

	if (catalog_check(req, category_fields, category_codes_ok, true))
		rules_write(req, "SELECT status, body FROM category_create($1::jsonb)", 1, params);
}

static void
categories_update(Req *req)
{
	const char *params[] = {req->path_arg, json_object_to_json_string_ext(req->body, JSON_C_TO_STRING_PLAIN)};

	if (catalog_check(req, category_fields, category_codes_ok, false))
		rules_write(req, "SELECT status, body FROM category_update($1, $2::jsonb)", 2, params);
}

/*
 * Check a department or category body against its fields: unknown fields, JSON types,
 * lengths and ranges, then check's rules across fields (the codes). On create the
 * required fields must be there; on PUT the code is the path's and may be repeated in
 * the body but not changed. JSON null counts as absent. Answers 422 and returns false
 * on a refusal.
 */
static bool
catalog_check(Req *req, const CatalogField *fields, CatalogCheck check, bool create)
{
	ApiError err;
	const CatalogField *f;

	json_object_object_foreach(req->body, key, val)
	{
		(void)val;
		for (f = fields; f->name && strcmp(f->name, key) != 0; f++)
			;
		if (!f->name) {
			api_error_set(&err, 422, "invalid_field", key, "unknown field %s", key);
			goto refuse;
		}
	}
	for (f = fields; f->name; f++) {
		json_object *v = json_object_object_get(req->body, f->name);

		if (!v) {
			if (create && f->required) {
				api_error_set(&err, 422, "missing_field", f->name, "%s is required", f->name);
				goto refuse;
			}
			continue;
		}
		if (!catalog_field_ok(v, f, &err))
			goto refuse;
		if (f->code && !create && strcmp(json_object_get_string(v), req->path_arg) != 0) {
			api_error_set(&err, 422, "invalid_field", f->name, "the code cannot be changed");
			goto refuse;
		}
	}
	if (check(req->body, create, &err))
		return true;
refuse:
	reply_api_error(req, &err);
	return false;
}

/* One present field: the JSON type, then the length or range. */
static bool
catalog_field_ok(json_object *v, const CatalogField *f, ApiError *err)
{
	size_t nchars;
	int64_t n;

	switch (f->kind) {
	case CATALOG_TEXT:
		if (!json_object_is_type(v, json_type_string) ||
		    !utf8_validate(json_object_get_string(v), (size_t)json_object_get_string_len(v), &nchars) ||
		    nchars < (size_t)f->min || nchars > (size_t)f->max)
			return api_error_set(err, 422, "invalid_field", f->name, "%s must be a string of %d to %d characters",
					     f->name, f->min, f->max);
		return true;
	case CATALOG_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return api_error_set(err, 422, "invalid_field", f->name, "%s must be true or false", f->name);
		return true;
	case CATALOG_INT:
		n = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || n < f->min || n > f->max)
			return api_error_set(err, 422, "invalid_field", f->name, "%s must be an integer %d to %d",
					     f->name, f->min, f->max);
		return true;
	}
	return false;
}

/* A new department's code follows the departments table's CHECK. */
static bool
department_codes_ok(json_object *body, bool create, ApiError *err)
{
	if (create && !department_code_valid(json_object_get_string(json_object_object_get(body, "code"))))
		return api_error_set(err, 422, "invalid_field", "code",
				     "code must be a lower-case letter, then up to %d letters, digits or _",
				     DEPARTMENT_CODE_MAX - 1);
	return true;
}

/* A category's department is a department code; a new category's own code, when
 * given, is <department>.<two or more digits>. */
static bool
category_codes_ok(json_object *body, bool create, ApiError *err)
{
	json_object *dept = json_object_object_get(body, "department");
	json_object *code = json_object_object_get(body, "code");
	const char *d;
	size_t n;

	if (dept && !department_code_valid(json_object_get_string(dept)))
		return api_error_set(err, 422, "invalid_field", "department", "unknown department %s",
				     json_object_get_string(dept));
	if (!create || !code)
		return true;
	d = json_object_get_string(dept);
	if (!category_code_valid(json_object_get_string(code), &n) || n != strlen(d) ||
	    strncmp(json_object_get_string(code), d, n) != 0)
		return api_error_set(err, 422, "invalid_field", "code",
				     "code must be <department>.<two or more digits>, as %s.01", d);
	return true;
}

/*
 *********************************
 * Writes that change the router
 *********************************
 */

/* Run a write function returning (status, body); a 2xx answer waits for the new router. */
static void
rules_write(Req *req, const char *sql, int nparams, const char *const *params)
{
	req_query(req, sql, nparams, params, rules_written_cb);
}

/* The write committed: reload the router, then answer with the write's answer. */
static void
rules_written_cb(Req *req, PGresult *res)
{
	int status = atoi(PQgetvalue(res, 0, 0));
	const char *body = PQgetvalue(res, 0, 1);
	size_t len = strlen(body);
	RulesWritten *w;

	if (status >= 300) {
		reply_json_text(req, status, body, len);
		return;
	}
	w = malloc(sizeof(*w) + len + 1);
	if (!w) {
		/* Committed all the same: the router follows with the reload. */
		routing_state_reload();
		reply_json_text(req, status, body, len);
		return;
	}
	w->req = req;
	w->status = status;
	memcpy(w->body, body, len + 1);
	routing_state_reload_then(rules_reloaded_cb, w);
}

static void
rules_reloaded_cb(void *arg)
{
	RulesWritten *w = arg;

	reply_json_text(w->req, w->status, w->body, strlen(w->body));
	free(w);
}

static void
path_id_text(const Req *req, char *buf, size_t size)
{
	snprintf(buf, size, "%lld", (long long)req->path_id);
}

#define ADMIN ROLE_BIT(ROLE_ADMIN)
#define SUPERVISORS (ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_MANAGER))

static const Route rules_route_list[] = {
	{"GET", "/v1/rules", SUPERVISORS, BODY_NONE, rules_list},
	{"POST", "/v1/rules", ADMIN, BODY_JSON, rules_create},
	{"GET", "/v1/rules/{id}", SUPERVISORS, BODY_NONE, rules_get},
	{"PUT", "/v1/rules/{id}", ADMIN, BODY_JSON, rules_update},
	{"DELETE", "/v1/rules/{id}", ADMIN, BODY_NONE, rules_delete},
	{"POST", "/v1/route", ROLES_ANY, BODY_JSON, route_dry_run},
	{"GET", "/v1/routing/model", SUPERVISORS, BODY_NONE, routing_model_get},
	{"POST", "/v1/routing/model/train", ADMIN, BODY_NONE, routing_model_train_now},
	{"GET", "/v1/departments", ROLES_ANY, BODY_NONE, departments_list},
	{"POST", "/v1/departments", ADMIN, BODY_JSON, departments_create},
	{"PUT", "/v1/departments/{arg}", ADMIN, BODY_JSON, departments_update},
	{"GET", "/v1/categories", ROLES_ANY, BODY_NONE, categories_list},
	{"POST", "/v1/categories", ADMIN, BODY_JSON, categories_create},
	{"PUT", "/v1/categories/{arg}", ADMIN, BODY_JSON, categories_update},
};

const RouteTable *
rules_routes(void)
{
	static const RouteTable table = {rules_route_list, sizeof(rules_route_list) / sizeof(rules_route_list[0])};

	return &table;
}
