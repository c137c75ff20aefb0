/*
 * api/open311: the six GeoReport v2 endpoints of API.md section 7, in JSON and XML.
 *
 * The format is the path's extension (services.json, requests/20261128-000042.xml); a path
 * without .json or .xml is unknown (404). Documents are written by core/open311_doc from
 * plain rows of sql/013_open311.sql; every error under /open311/ is an Open311 errors
 * document (open311_reply_error, installed by main.c with http_server_error_writer).
 *
 * POST requests: the form (core/form) is parsed, its api_key authenticated like a Bearer
 * token (http_server_authenticate) and required to be an operator's, then the arguments
 * become a create body (core/open311) validated by case_input_create and created by the
 * path of POST /v1/cases (cases_create_submit) with channel open311; what a case has no
 * column for goes into its create event's data under "open311". The form is parsed again
 * after the asynchronous authentication instead of being kept: it is small, and the Req
 * has no place for it.
 */
#include "api/open311.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/cases.h"
#include "core/case_input.h"
#include "core/form.h"
#include "core/open311.h"
#include "core/open311_doc.h"
#include "http/reply.h"
#include "http/server.h"
#include "log.h"

#define NAME_MAX_LEN 64
#define HOST_MAX 255
/* When the discovery document last changed (it names this one endpoint). */
#define DISCOVERY_CHANGESET "2026-12-05T00:00:00+08:00"
#define FORM_TYPE "application/x-www-form-urlencoded"

static const char sql_services[] = "SELECT * FROM open311_services($1)";
static const char sql_requests[] =
	"SELECT * FROM open311_requests($1, $2, to_timestamp($3::bigint), to_timestamp($4::bigint), $5, $6)";

static const Open311Column service_columns[] = {
	{"service_code", OPEN311_TEXT}, {"service_name", OPEN311_TEXT}, {"description", OPEN311_TEXT},
	{"metadata", OPEN311_BOOL},     {"type", OPEN311_TEXT},         {"keywords", OPEN311_TEXT},
	{"group", OPEN311_TEXT},
};
#define SERVICE_COLUMNS (sizeof(service_columns) / sizeof(service_columns[0]))

/* A request as GeoReport v2 lists it; open311_requests gives the same columns, with the case's
 * state where status is and service_notice NULL (both are written here from the state). */
enum {
	REQ_ID, REQ_STATUS, REQ_NOTES, REQ_SERVICE_NAME, REQ_SERVICE_CODE, REQ_DESCRIPTION, REQ_AGENCY,
	REQ_NOTICE, REQ_REQUESTED, REQ_UPDATED, REQ_EXPECTED, REQ_ADDRESS, REQ_ADDRESS_ID, REQ_ZIPCODE,
	REQ_LAT, REQ_LONG, REQ_MEDIA_URL, REQ__COUNT
};
static const Open311Column request_columns[REQ__COUNT] = {
	{"service_request_id", OPEN311_TEXT}, {"status", OPEN311_TEXT},       {"status_notes", OPEN311_TEXT},
	{"service_name", OPEN311_TEXT},       {"service_code", OPEN311_TEXT}, {"description", OPEN311_TEXT},
	{"agency_responsible", OPEN311_TEXT}, {"service_notice", OPEN311_TEXT}, {"requested_datetime", OPEN311_TEXT},
	{"updated_datetime", OPEN311_TEXT},   {"expected_datetime", OPEN311_TEXT}, {"address", OPEN311_TEXT},
	{"address_id", OPEN311_TEXT},         {"zipcode", OPEN311_TEXT},      {"lat", OPEN311_NUMBER},
	{"long", OPEN311_NUMBER},             {"media_url", OPEN311_TEXT},
};

/* The answer to a POST: the request's number and what happens next. */
static const Open311Column created_columns[] = {
	{"service_request_id", OPEN311_TEXT}, {"service_notice", OPEN311_TEXT}, {"account_id", OPEN311_TEXT},
};

static bool path_name(const char *segment, char *name, size_t len);
static Open311Format request_format(Req *req);
static void reply_doc(Req *req, int status, TextBuf *doc, bool ok);
static const char **result_texts(Req *req, PGresult *res, size_t ncols, const char *what);
static void open311_discovery(Req *req);
static void open311_services(Req *req);
static void open311_services_done(Req *req, PGresult *res);
static void open311_definition_done(Req *req, PGresult *res);
static void open311_requests_query(Req *req, const Open311Filter *filter);
static void open311_requests_done(Req *req, PGresult *res);
static void open311_list_requests(Req *req);
static void open311_post_requests(Req *req);
static void open311_post_authenticated(Req *req);
static void open311_post_refused(Req *req);
static void open311_post_created(Req *req, int status, const char *body);
static bool form_body(Req *req);
static char *query_list(Req *req, const char *name);

/*
 *********************************
 * Public functions
 *********************************
 */

void
open311_reply_error(Req *req, const ApiError *err)
{
	Open311Format fmt = request_format(req);
	TextBuf doc = {0};

	if (!open311_render_error(&doc, fmt, err->status, err->message)) {
		free(doc.buf);
		reply_out_of_memory(req);
		return;
	}
	reply_text(req, err->status, open311_content_type(fmt), doc.buf, doc.len);
	free(doc.buf);
}

/*
 *********************************
 * Handlers
 *********************************
 */

/* GET /open311/v2/{discovery,services,requests}.{fmt} */
static void
open311_get(Req *req)
{
	char name[NAME_MAX_LEN];

	if (!path_name(req->path_arg, name, sizeof(name)))
		reply_error(req, 404, "not_found", NULL, "no such resource: ask for .json or .xml");
	else if (strcmp(name, "discovery") == 0)
		open311_discovery(req);
	else if (strcmp(name, "services") == 0)
		open311_services(req);
	else if (strcmp(name, "requests") == 0)
		open311_list_requests(req);
	else
		reply_error(req, 404, "not_found", NULL, "no such resource: %s", name);
}

/* GET /open311/discovery.{fmt}: where clients look for a discovery document first. */
static void
open311_root(Req *req)
{
	char name[NAME_MAX_LEN];

	if (path_name(req->path_arg, name, sizeof(name)) && strcmp(name, "discovery") == 0)
		open311_discovery(req);
	else
		reply_error(req, 404, "not_found", NULL, "no such resource");
}

/* POST /open311/v2/requests.{fmt} (the other resources are read-only: 405). */
static void
open311_post(Req *req)
{
	char name[NAME_MAX_LEN];

	if (!path_name(req->path_arg, name, sizeof(name)))
		reply_error(req, 404, "not_found", NULL, "no such resource");
	else if (strcmp(name, "requests") == 0)
		open311_post_requests(req);
	else if (strcmp(name, "services") == 0 || strcmp(name, "discovery") == 0)
		reply_error(req, 405, "method_not_allowed", NULL, "%s is read with GET", name);
	else
		reply_error(req, 404, "not_found", NULL, "no such resource");
}

/* GET /open311/v2/services/{service_code}.{fmt} */
static void
open311_definition(Req *req)
{
	char code[NAME_MAX_LEN];
	const char *params[1] = {code};

	/* Category codes are [a-z0-9_.]: anything else (raw bytes of the path included) is no service. */
	if (!path_name(req->path_arg, code, sizeof(code)) ||
	    strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(code)) {
		reply_error(req, 404, "not_found", NULL, "no such service: ask for <service_code>.json or .xml");
		return;
	}
	req_query(req, sql_services, 1, params, open311_definition_done);
}

/* GET /open311/v2/requests/{service_request_id}.{fmt} */
static void
open311_request(Req *req)
{
	char id[NAME_MAX_LEN];
	Open311Filter filter;
	ApiError err;

	/* One id is a list of one: the same checks, and an id they refuse is no request's. */
	if (!path_name(req->path_arg, id, sizeof(id)) ||
	    !open311_filter(id, NULL, NULL, NULL, NULL, time(NULL), &filter, &err) || !filter.ids) {
		reply_error(req, 404, "not_found", NULL, "no such service request");
		return;
	}
	open311_requests_query(req, &filter);
	open311_filter_free(&filter);
}

const RouteTable *
open311_routes(void)
{
	static const Route routes[] = {
		{"GET", "/open311/{arg}", ROLES_NONE, BODY_NONE, open311_root},
		{"GET", "/open311/v2/{arg}", ROLES_NONE, BODY_NONE, open311_get},
		{"POST", "/open311/v2/{arg}", ROLES_NONE, BODY_RAW, open311_post},
		{"GET", "/open311/v2/services/{arg}", ROLES_NONE, BODY_NONE, open311_definition},
		{"GET", "/open311/v2/requests/{arg}", ROLES_NONE, BODY_NONE, open311_request},
	};
	static const RouteTable table = {routes, sizeof(routes) / sizeof(routes[0])};

	return &table;
}

/*
 *********************************
 * Discovery and services
 *********************************
 */

/* The endpoint's URL comes from the request (Host, and X-Forwarded-Proto behind a TLS proxy).
 * The format is request_format's, as for every other answer: the routed name's could differ
 * from it (discovery.xml/ with a trailing slash), and the XML went out labelled JSON (found by
 * fuzz_http). */
static void
open311_discovery(Req *req)
{
	const char *host = req_header(req, "Host");
	const char *proto = req_header(req, "X-Forwarded-Proto");
	char url[HOST_MAX + 32];
	Open311Discovery d = {DISCOVERY_CHANGESET, "12345 政务服务便民热线 (the hotline's administrators)",
			      "api_key: an operator's token, issued by the hotline's administrators (POST /v1/users)",
			      url};
	TextBuf doc = {0};

	if (!host || !*host || strlen(host) > HOST_MAX || strspn(host, "abcdefghijklmnopqrstuvwxyz"
								   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(host))
		host = "localhost";
	snprintf(url, sizeof(url), "%s://%s/open311/v2", proto && strcasecmp(proto, "https") == 0 ? "https" : "http",
		 host);
	reply_doc(req, 200, &doc, open311_render_discovery(&doc, request_format(req), &d));
}

static void
open311_services(Req *req)
{
	const char *params[1] = {NULL};

	req_query(req, sql_services, 1, params, open311_services_done);
}

static void
open311_services_done(Req *req, PGresult *res)
{
	const char **values = result_texts(req, res, SERVICE_COLUMNS, "open311_services");
	TextBuf doc = {0};

	if (!values)
		return;
	reply_doc(req, 200, &doc,
		  open311_render_list(&doc, request_format(req), "services", "service", service_columns, SERVICE_COLUMNS,
				      values, (size_t)PQntuples(res)));
	free(values);
}

static void
open311_definition_done(Req *req, PGresult *res)
{
	TextBuf doc = {0};

	if (PQntuples(res) != 1) {
		reply_error(req, 404, "not_found", NULL, "no such service");
		return;
	}
	reply_doc(req, 200, &doc, open311_render_definition(&doc, request_format(req), PQgetvalue(res, 0, 0)));
}

/*
 *********************************
 * Reading requests
 *********************************
 */

/* GET requests.{fmt}: the filters of the query string. The lists may also come as repeated
 * arguments (status=open&status=closed), as the specification allows. */
static void
open311_list_requests(Req *req)
{
	Open311Filter filter;
	ApiError err;
	char *ids = query_list(req, "service_request_id"), *codes = query_list(req, "service_code");
	char *status = query_list(req, "status");

	if (!ids || !codes || !status) {
		reply_out_of_memory(req);
	} else if (!open311_filter(ids, codes, req_param(req, "start_date"), req_param(req, "end_date"), status,
				   time(NULL), &filter, &err)) {
		reply_api_error(req, &err);
	} else {
		open311_requests_query(req, &filter);
		open311_filter_free(&filter);
	}
	free(ids);
	free(codes);
	free(status);
}

static void
open311_requests_query(Req *req, const Open311Filter *filter)
{
	char from[32], to[32], limit[16];
	const char *params[6] = {filter->ids, filter->codes, from, to, filter->status, limit};

	/* As epoch seconds: PostgreSQL reads them exactly, whatever the zone they came in. */
	snprintf(from, sizeof(from), "%lld", (long long)filter->from);
	snprintf(to, sizeof(to), "%lld", (long long)filter->to);
	snprintf(limit, sizeof(limit), "%d", OPEN311_LIST_MAX);
	req_query(req, sql_requests, 6, params, open311_requests_done);
}

static void
open311_requests_done(Req *req, PGresult *res)
{
	int n = PQntuples(res);
	const char **values;
	TextBuf doc = {0};

	if (n == 0 && strcmp(req->route_name, "/open311/v2/requests/{arg}") == 0) {
		reply_error(req, 404, "not_found", NULL, "no such service request");
		return;
	}
	values = result_texts(req, res, REQ__COUNT, "open311_requests");
	if (!values)
		return;
	for (int i = 0; i < n; i++) {
		const char **row = values + (size_t)i * REQ__COUNT;

		row[REQ_NOTICE] = open311_notice(row[REQ_STATUS]);
		row[REQ_STATUS] = open311_status(row[REQ_STATUS]);
	}
	reply_doc(req, 200, &doc,
		  open311_render_list(&doc, request_format(req), "service_requests", "request", request_columns,
				      REQ__COUNT, values, (size_t)n));
	free(values);
}

/*
 *********************************
 * Filing a request
 *********************************
 */

/* Before the database: the form must be one and parse, and carry an api_key. */
static void
open311_post_requests(Req *req)
{
	Form form;
	ApiError err;
	const char *key;

	if (!form_body(req)) {
		reply_error(req, 400, "bad_request", NULL, "send the arguments as a form: Content-Type: " FORM_TYPE);
		return;
	}
	if (!form_parse(req->body_raw ? req->body_raw : "", req->body_len, &form, &err) ||
	    !form_value(&form, "api_key", &key, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (!key)
		key = req_param(req, "api_key"); /* some clients put it in the URL */
	if (!key || !*key) {
		form_free(&form);
		reply_error(req, 403, "forbidden", "api_key", "api_key is required to file a service request");
		return;
	}
	/* May answer before it returns: req is not touched after. */
	http_server_authenticate(req, key, open311_post_authenticated, open311_post_refused);
	form_free(&form);
}

static void
open311_post_refused(Req *req)
{
	reply_error(req, 403, "forbidden", "api_key", "api_key is not a valid key");
}

/* The key is a user's: an operator's may file; the arguments become a case. */
static void
open311_post_authenticated(Req *req)
{
	Form form;
	Open311Submission sub = {0};
	CaseInput in;
	ApiError err, mapped;
	json_object *history = NULL;

	if (req->user.role != ROLE_OPERATOR) {
		reply_error(req, 403, "forbidden", "api_key", "api_key must be an operator's key");
		return;
	}
	if (!http_server_within_rate(req))
		return;
	if (!form_parse(req->body_raw ? req->body_raw : "", req->body_len, &form, &err)) {
		reply_api_error(req, &err); /* only out of memory: the body parsed before */
		return;
	}
	if (!open311_submission(&form, &sub, &err)) {
		reply_api_error(req, &err);
		goto done;
	}
	if (!case_input_create(sub.body, &in, &err)) {
		open311_input_error(&err, &mapped);
		reply_api_error(req, &mapped);
		goto done;
	}
	history = json_object_new_object();
	if (!history || json_object_object_add(history, "open311", json_object_get(sub.extras)) != 0) {
		reply_out_of_memory(req);
		goto done;
	}
	cases_create_submit(req, &in, history, NULL, open311_post_created);
done:
	json_object_put(history);
	open311_submission_free(&sub);
	form_free(&form);
}

/* case_create's answer: the case (201), or its refusal in Open311's terms. The specification
 * gives no status for a filed request; it is 200, as GeoReport servers answer. */
static void
open311_post_created(Req *req, int status, const char *body)
{
	json_object *obj = json_tokener_parse(body), *v;
	const char *values[3] = {NULL, NULL, NULL};
	TextBuf doc = {0};
	ApiError err, mapped;

	if (status == 201 && json_object_object_get_ex(obj, "number", &v)) {
		values[0] = json_object_get_string(v);
		values[1] = open311_notice(json_object_object_get_ex(obj, "state", &v) ? json_object_get_string(v) : "");
		reply_doc(req, 200, &doc,
			  open311_render_list(&doc, request_format(req), "service_requests", "request", created_columns,
					      3, values, 1));
	} else if (status >= 400 && json_object_object_get_ex(obj, "error", &v)) {
		json_object *field = NULL, *message = NULL;

		json_object_object_get_ex(v, "field", &field);
		json_object_object_get_ex(v, "message", &message);
		api_error_set(&err, status, "invalid_field", field ? json_object_get_string(field) : NULL, "%s",
			      message ? json_object_get_string(message) : "refused");
		open311_input_error(&err, &mapped);
		reply_api_error(req, &mapped);
	} else {
		log_error("req=%llu: case_create answered %d without a case", (unsigned long long)req->id, status);
		reply_internal(req);
	}
	json_object_put(obj);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* "services.json" -> "services": the name before the last dot, which must be .json or .xml.
 * The answer's format is request_format's, from the whole path, for every answer. */
static bool
path_name(const char *segment, char *name, size_t len)
{
	const char *dot = strrchr(segment, '.');
	size_t n = dot ? (size_t)(dot - segment) : 0;

	if (!dot || n == 0 || n >= len || (strcmp(dot, ".json") != 0 && strcmp(dot, ".xml") != 0))
		return false;
	memcpy(name, segment, n);
	name[n] = '\0';
	return true;
}

/* XML when the path ends in .xml, else JSON (also for paths this API does not know). */
static Open311Format
request_format(Req *req)
{
	const char *path = req->ev ? evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req->ev)) : NULL;
	size_t n = path ? strlen(path) : 0;

	return n >= 4 && strcmp(path + n - 4, ".xml") == 0 ? OPEN311_XML : OPEN311_JSON;
}

/*
 * The texts of every row of res, row after row (NULL for SQL NULL), to render: the caller
 * frees the array; the texts live as long as res. Replies and returns NULL when res does not
 * have ncols columns (what: the SQL function, for the log) or memory ran out.
 */
static const char **
result_texts(Req *req, PGresult *res, size_t ncols, const char *what)
{
	int n = PQntuples(res);
	const char **values;

	if (PQnfields(res) != (int)ncols) {
		log_error("req=%llu: %s gave %d columns", (unsigned long long)req->id, what, PQnfields(res));
		reply_internal(req);
		return NULL;
	}
	values = calloc((size_t)(n > 0 ? n : 1) * ncols, sizeof(*values));
	if (!values) {
		reply_out_of_memory(req);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		for (size_t j = 0; j < ncols; j++)
			values[(size_t)i * ncols + j] = db_value(res, i, (int)j);
	}
	return values;
}

/* Send a rendered document (ok false: memory ran out while writing it) and free its text. */
static void
reply_doc(Req *req, int status, TextBuf *doc, bool ok)
{
	if (ok)
		reply_text(req, status, open311_content_type(request_format(req)), doc->buf, doc->len);
	else
		reply_out_of_memory(req);
	free(doc->buf);
}

/* Every value of the query argument name joined with commas ("" when none); NULL when out of memory. */
static char *
query_list(Req *req, const char *name)
{
	TextBuf list = {0};
	struct evkeyval *kv;

	req_param(req, name); /* parses the query string into req->query */
	textbuf_add(&list, "", 0);
	TAILQ_FOREACH(kv, &req->query, next) {
		if (strcmp(kv->key, name) != 0)
			continue;
		if (list.len > 0)
			textbuf_add_str(&list, ",");
		textbuf_add_str(&list, kv->value);
	}
	if (list.failed) {
		free(list.buf);
		return NULL;
	}
	return list.buf;
}

/*
 * Whether the body can be read as the form GeoReport v2 sends: refused are a JSON text
 * (whatever Content-Type it came with) and multipart/form-data; a form body is read even
 * under another or no Content-Type, since some clients' helpers label every body alike.
 */
static bool
form_body(Req *req)
{
	const char *type = req_header(req, "Content-Type");
	const char *body = req->body_raw ? req->body_raw : "";

	body += strspn(body, " \t\r\n");
	if (type && strncasecmp(type, "multipart/", strlen("multipart/")) == 0)
		return false;
	return *body != '{' && *body != '[';
}
