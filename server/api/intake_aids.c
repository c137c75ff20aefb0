/*
 * api/intake_aids: what the operator sees while the citizen is on the line (API.md 14).
 *
 * GET /v1/callers/{phone}: the phone's cases of the last 90 days and its flag, read
 * through the partial index cases_caller (sql/012). PUT/DELETE .../flag: a manager marks
 * or clears a repeat or malicious caller; a flag is shown, never acted on. POST
 * /v1/cases/similar: open cases of the last 30 days (in the district when given) whose
 * title and text are trigram-similar to the body's (sql/012 case_similar). Departments
 * reach none of these (the routes' roles).
 */
#include "api/intake_aids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "core/case_input.h"
#include "core/intake_aids.h"
#include "http/reply.h"

#define CALLER_ROLES (ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_ADMIN))

static const char sql_caller[] = "SELECT status, body FROM caller_get($1)";
static const char sql_flag_put[] = "SELECT status, body FROM caller_flag_put($1, $2, $3, $4, $5)";
static const char sql_flag_clear[] = "SELECT status, body FROM caller_flag_clear($1, $2)";
static const char sql_similar[] = "SELECT status, body FROM case_similar($1, $2)";

static bool caller_phone(Req *req, char *out, size_t len);

static void
callers_get(Req *req)
{
	char phone[CALLER_PHONE_MAX + 1];
	const char *params[1] = {phone};

	if (!caller_phone(req, phone, sizeof(phone)))
		return;
	req_query_reply(req, sql_caller, 1, params);
}

static void
callers_flag_put(Req *req)
{
	char phone[CALLER_PHONE_MAX + 1], user_id[24];
	const char *kind, *note;
	ApiError err;

	if (!caller_phone(req, phone, sizeof(phone)))
		return;
	if (!intake_flag_parse(req->body, &kind, &note, &err)) {
		reply_api_error(req, &err);
		return;
	}
	snprintf(user_id, sizeof(user_id), "%lld", (long long)req->user.id);
	req_query_reply(req, sql_flag_put, 5, (const char *const[]){user_id, req->user.name, phone, kind, note});
}

static void
callers_flag_clear(Req *req)
{
	char phone[CALLER_PHONE_MAX + 1], user_id[24];

	if (!caller_phone(req, phone, sizeof(phone)))
		return;
	snprintf(user_id, sizeof(user_id), "%lld", (long long)req->user.id);
	req_query_reply(req, sql_flag_clear, 2, (const char *const[]){user_id, phone});
}

/* The body is a case body, checked as create checks it; title and text are compared together. */
static void
cases_similar(Req *req)
{
	CaseInput in;
	ApiError err;
	char *text;
	size_t len;

	if (!case_input_create(req->body, &in, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (!req_enter_read_lane(req)) /* a trigram search: on the slow-read lane, like q= */
		return;
	len = (in.title ? strlen(in.title) : 0) + 1 + strlen(in.text) + 1;
	text = malloc(len);
	if (!text) {
		reply_out_of_memory(req);
		return;
	}
	snprintf(text, len, "%s %s", in.title ? in.title : "", in.text);
	req_query_reply(req, sql_similar, 2, (const char *const[]){text, in.district});
	free(text); /* the pool copied the parameters */
}

const RouteTable *
intake_aids_routes(void)
{
	static const Route routes[] = {
		{"GET", "/v1/callers/{arg}", CALLER_ROLES, BODY_NONE, callers_get},
		{"PUT", "/v1/callers/{arg}/flag", ROLE_BIT(ROLE_MANAGER), BODY_JSON, callers_flag_put},
		{"DELETE", "/v1/callers/{arg}/flag", ROLE_BIT(ROLE_MANAGER), BODY_NONE, callers_flag_clear},
		{"POST", "/v1/cases/similar", CALLER_ROLES, BODY_JSON, cases_similar},
	};
	static const RouteTable table = {routes, sizeof(routes) / sizeof(routes[0])};

	return &table;
}

/* The {phone} of the path, %-decoded, into out; answers 400 and returns false when it is no phone. */
static bool
caller_phone(Req *req, char *out, size_t len)
{
	size_t n = 0;
	char *decoded = evhttp_uridecode(req->path_arg, 0, &n);
	bool ok = decoded && n < len && strlen(decoded) == n && intake_phone_valid(decoded);

	if (ok)
		memcpy(out, decoded, n + 1);
	free(decoded);
	if (!ok)
		reply_error(req, 400, "bad_request", "phone", "the phone must be 1 to %d digits, '+' and '-'",
			    CALLER_PHONE_MAX);
	return ok;
}
