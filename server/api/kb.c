/*
 * api/kb: knowledge-base articles (API.md section 15).
 *
 * Everyone reads and searches; admins write any article, department users their own
 * department's (sql/012 kb_refusal decides, on the locked row). A write takes If-Match
 * (409 version_conflict) and adds one to the version; DELETE only disables. The bodies are
 * checked by core/intake_aids and passed to SQL as they are.
 */
#include "api/kb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/intake_aids.h"
#include "core/utf8.h"
#include "http/reply.h"

#define KB_WRITERS (ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_DEPARTMENT))
#define KB_LIMIT_DEFAULT 20
#define KB_LIMIT_MAX 100

static const char sql_search[] = "SELECT status, body FROM kb_search($1, $2, $3)";
static const char sql_get[] = "SELECT status, body FROM kb_get($1)";
static const char sql_create[] = "SELECT status, body FROM kb_create($1, $2, $3, $4, $5)";
static const char sql_update[] = "SELECT status, body FROM kb_update($1, $2, $3, $4, $5, $6, $7)";
static const char sql_disable[] = "SELECT status, body FROM kb_disable($1, $2, $3, $4, $5, $6)";

/* $1..$4 of every write: the actor's id, name, role and (department users) department. */
typedef struct KbCall {
	const char *values[7];
	int n;
	char user_id[24], id[24], if_match[16];
} KbCall;

static bool kb_call_start(Req *req, KbCall *c, bool with_id);
static bool search_params(Req *req, const char **q, const char **department, char *limit, size_t len);

static void
kb_search(Req *req)
{
	const char *q, *department;
	char limit[16];

	if (!search_params(req, &q, &department, limit, sizeof(limit)))
		return;
	if (q && !req_enter_read_lane(req)) /* scores every article: on the slow-read lane */
		return;
	req_query_reply(req, sql_search, 3, (const char *const[]){q, department, limit});
}

static void
kb_get(Req *req)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)req->path_id);
	req_query_reply(req, sql_get, 1, (const char *const[]){id});
}

/* POST /v1/kb and PUT /v1/kb/{id}: the body checked, then one SQL call with it. */
static void
kb_write(Req *req, bool create)
{
	KbCall c;
	ApiError err;

	if (!intake_article_check(req->body, create, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (!kb_call_start(req, &c, !create))
		return;
	c.values[c.n++] = json_object_to_json_string_ext(req->body, JSON_C_TO_STRING_PLAIN);
	req_query_reply(req, create ? sql_create : sql_update, c.n, c.values);
}

static void
kb_create(Req *req)
{
	kb_write(req, true);
}

static void
kb_update(Req *req)
{
	kb_write(req, false);
}

static void
kb_disable(Req *req)
{
	KbCall c;

	if (!kb_call_start(req, &c, true))
		return;
	req_query_reply(req, sql_disable, c.n, c.values);
}

const RouteTable *
kb_routes(void)
{
	static const Route routes[] = {
		{"GET", "/v1/kb", ROLES_ANY, BODY_NONE, kb_search},
		{"POST", "/v1/kb", KB_WRITERS, BODY_JSON, kb_create},
		{"GET", "/v1/kb/{id}", ROLES_ANY, BODY_NONE, kb_get},
		{"PUT", "/v1/kb/{id}", KB_WRITERS, BODY_JSON, kb_update},
		{"DELETE", "/v1/kb/{id}", KB_WRITERS, BODY_NONE, kb_disable},
	};
	static const RouteTable table = {routes, sizeof(routes) / sizeof(routes[0])};

	return &table;
}

/*
 * The actor parameters, then (with_id) the article id and If-Match. Answers 400 and
 * returns false for an If-Match that is no version.
 */
static bool
kb_call_start(Req *req, KbCall *c, bool with_id)
{
	memset(c, 0, sizeof(*c));
	if (with_id && !req_if_match(req, c->if_match, sizeof(c->if_match))) {
		reply_error(req, 400, "bad_request", "If-Match", "If-Match must be an article version (a positive integer)");
		return false;
	}
	snprintf(c->user_id, sizeof(c->user_id), "%lld", (long long)req->user.id);
	c->values[c->n++] = c->user_id;
	c->values[c->n++] = req->user.name;
	c->values[c->n++] = role_name(req->user.role);
	c->values[c->n++] = req->user.role == ROLE_DEPARTMENT ? req->user.department : NULL;
	if (with_id) {
		snprintf(c->id, sizeof(c->id), "%lld", (long long)req->path_id);
		c->values[c->n++] = c->id;
		c->values[c->n++] = c->if_match[0] ? c->if_match : NULL;
	}
	return true;
}

/* q: 1 to KB_QUERY_MAX characters when given; department: a code; limit 1..KB_LIMIT_MAX. */
static bool
search_params(Req *req, const char **q, const char **department, char *limit, size_t len)
{
	const char *l = req_param(req, "limit");
	size_t nchars;
	long n = KB_LIMIT_DEFAULT;
	char *end;

	*q = req_param(req, "q");
	*department = req_param(req, "department");
	if (*q && (!utf8_validate(*q, strlen(*q), &nchars) || nchars < 1 || nchars > KB_QUERY_MAX ||
		   strspn(*q, " \t") == strlen(*q))) {
		reply_error(req, 400, "bad_request", "q", "q must be 1 to %d characters of text", KB_QUERY_MAX);
		return false;
	}
	if (*department && !**department)
		*department = NULL;
	if (*department && (strlen(*department) > 40 ||
			    strspn(*department, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(*department))) {
		reply_error(req, 400, "bad_request", "department", "department must be a department code");
		return false;
	}
	if (l) {
		n = strtol(l, &end, 10);
		if (!*l || *end || strspn(l, "0123456789") != strlen(l) || n < 1 || n > KB_LIMIT_MAX) {
			reply_error(req, 400, "bad_request", "limit", "limit must be 1 to %d", KB_LIMIT_MAX);
			return false;
		}
	}
	snprintf(limit, len, "%ld", n);
	return true;
}
