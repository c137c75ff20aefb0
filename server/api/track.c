/*
 * api/track: the citizen follows a case with its number and tracking code (流水号 + 提取码).
 *
 * No token: whoever holds both sees the public fields of sql/012's case_track, nothing else.
 * A wrong number and a wrong code are the same 404 and take the same path through SQL (the
 * hash is computed and the failure counted either way); a number that cannot be one
 * (not YYYYMMDD-NNNNNN) is the same 404 at once, since it tells nothing about any case.
 * Five wrong codes for a number within 15 minutes lock it for 15 minutes (429, Retry-After:
 * the seconds left), counted in PostgreSQL so every server of a deployment agrees.
 */
#include "api/track.h"

#include <string.h>

#include <event2/http.h>

#include "core/intake_aids.h"
#include "http/reply.h"

#define TRACK_CODE_PARAM_MAX 32 /* longer codes are wrong anyway: sent as "" */

static const char sql_track[] = "SELECT status, body, retry_after FROM case_track($1, $2)";

static void track_done(Req *req, PGresult *res);

static void
track_get(Req *req)
{
	const char *code = req_param(req, "code");
	const char *params[2] = {req->path_arg, code && strlen(code) <= TRACK_CODE_PARAM_MAX ? code : ""};

	if (!intake_case_number_valid(req->path_arg)) {
		reply_error(req, 404, "not_found", NULL, "no case with this number and code");
		return;
	}
	req_query(req, sql_track, 2, params, track_done);
}

/* The 429 row carries the seconds until the lock ends: sent as Retry-After. */
static void
track_done(Req *req, PGresult *res)
{
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 2) && req->ev)
		evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Retry-After", PQgetvalue(res, 0, 2));
	req_reply_row(req, res);
}

const RouteTable *
track_routes(void)
{
	static const Route routes[] = {
		{"GET", "/v1/track/{arg}", ROLES_NONE, BODY_NONE, track_get},
	};
	static const RouteTable table = {routes, sizeof(routes) / sizeof(routes[0])};

	return &table;
}
