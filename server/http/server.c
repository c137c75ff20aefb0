/*
 * http/server: evhttp configured for a JSON API in production.
 *
 * libevent 2.1 has no connection cap (evhttp_set_max_connections is 2.2) and no deadline
 * for a whole request, so http/conn_guard counts connections from their accept and cuts
 * off a client that has not sent its request within the timeout; a connection over the
 * cap gets a polite 503 and is closed.
 *
 * Request flow: match route (404/405) -> size check (413) -> authenticate from the token
 * cache or with one query (401) -> role check (403) -> content type and JSON body (415/400) -> handler.
 */
#include "http/server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>

#include "core/fnv.h"
#include "core/json_body.h"
#include "core/ratelimit.h"
#include "core/utf8.h"
#include "http/conn_guard.h"
#include "http/reply.h"
#include "http/static.h"
#include "log.h"
#include "monotonic.h"
#include "metrics.h"
#include "stream_hub.h"
#include "token.h"

#define MAX_PATH_SEGMENTS 8
#define HTTP_BODY_BUFFER_FACTOR 16

struct HttpServer {
	App *app;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	const RouteTable *const *tables;
	int ntables;
	uint64_t next_id;
	int in_flight;
	bool draining;
	void (*drain_done)(void *arg);
	void *drain_arg;
	ConnGuard *guard;
	RateLimiter *limiter;        /* NULL when rate_limit is 0 */
	RateLimiter *auth_failures;  /* per client address; NULL when auth_fail_budget is 0 */
	const char *error_prefix;    /* paths whose errors error_writer writes (NULL: none) */
	ReqErrorWriter error_writer;
};

static HttpServer *the_server; /* one per process; reply.c reports back through it */

static void server_request_cb(struct evhttp_request *ev, void *arg);
static void server_reply_abandoned_cb(void *arg);
static const Route *server_match(HttpServer *srv, Req *req, const char *method, const char *path,
				 bool *other_method);
static void server_authenticate(Req *req);
static void server_unauthorized(Req *req);
static void server_auth_cb(Req *req, PGresult *res);
static void server_auth_budget_return(Req *req);
static void server_authorize(Req *req);
static void server_run_handler(Req *req, const Route *route);
static const char *server_method_name(enum evhttp_cmd_type cmd);
static void server_req_free(Req *req);
static void server_list_routes(Req *req);

/* Routes of the server itself, after the API's tables. */
static const Route server_route_list[] = {
	{"GET", "/v1/routes", ROLES_ANY, BODY_NONE, server_list_routes},
};
static const RouteTable server_routes = {server_route_list, 1};

/*
 *********************************
 * Public functions
 *********************************
 */

HttpServer *
http_server_start(App *app, const RouteTable *const *tables, int ntables)
{
	HttpServer *srv = calloc(1, sizeof(*srv));
	const Config *cfg = app->config;
	struct timeval tv = {cfg->timeout, 0};

	if (!srv)
		return NULL;
	srv->app = app;
	srv->tables = tables;
	srv->ntables = ntables;
	srv->http = evhttp_new(app->base);
	srv->guard = srv->http ? conn_guard_new(srv->http, cfg->max_connections, cfg->timeout,
						server_reply_abandoned_cb, srv) : NULL;
	/* A burst of two seconds' worth lets a client retry or page without being refused. */
	if (cfg->rate_limit > 0)
		srv->limiter = ratelimit_new(cfg->rate_limit, 2.0 * cfg->rate_limit, 4096);
	if (cfg->auth_fail_budget > 0)
		srv->auth_failures = ratelimit_new(cfg->auth_fail_budget / 60.0, cfg->auth_fail_budget, 4096);
	if (!srv->guard || (cfg->rate_limit > 0 && !srv->limiter) ||
	    (cfg->auth_fail_budget > 0 && !srv->auth_failures))
		goto fail;
	/* Bodies up to 16 times the limit (1 MiB by default) reach us and get the contract's
	 * JSON 413; libevent cuts off anything larger (chunked included) with its own 413
	 * page, so no connection can make us buffer more than that. */
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)cfg->max_body * HTTP_BODY_BUFFER_FACTOR);
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)cfg->max_headers);
	evhttp_set_timeout_tv(srv->http, &tv);
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						      EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
						      EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(srv->http, "application/json; charset=utf-8");
	evhttp_set_gencb(srv->http, server_request_cb, srv);
	the_server = srv;
	if (cfg->port == 0)
		return srv;
	srv->bound = evhttp_bind_socket_with_handle(srv->http, cfg->listen, (ev_uint16_t)cfg->port);
	if (!srv->bound) {
		log_error("cannot listen on %s:%d", cfg->listen, cfg->port);
		goto fail;
	}
	log_info("listening on http://%s:%d", cfg->listen, cfg->port);
	return srv;
fail:
	http_server_free(srv);
	return NULL;
}

bool
http_server_accept_fd(HttpServer *srv, int fd)
{
	return evhttp_accept_socket_with_handle(srv->http, fd) != NULL;
}

void
http_server_drain(HttpServer *srv, void (*done)(void *arg), void *arg)
{
	srv->draining = true;
	srv->drain_done = done;
	srv->drain_arg = arg;
	if (srv->bound) {
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->bound = NULL;
	}
	log_info("draining: %d request(s) in flight", srv->in_flight);
	if (srv->in_flight == 0)
		done(arg);
}

void
http_server_free(HttpServer *srv)
{
	if (!srv)
		return;
	/* evhttp_free closes every connection, which the guard hears: free it after. */
	if (srv->http)
		evhttp_free(srv->http);
	conn_guard_free(srv->guard);
	ratelimit_free(srv->limiter);
	ratelimit_free(srv->auth_failures);
	if (the_server == srv)
		the_server = NULL;
	free(srv);
}

void
http_server_error_writer(HttpServer *srv, const char *path_prefix, ReqErrorWriter writer)
{
	srv->error_prefix = path_prefix;
	srv->error_writer = writer;
}

/* One request fewer in flight; the last one of a drain lets the server exit. */
static void
server_in_flight_done(HttpServer *srv)
{
	srv->in_flight--;
	if (srv->draining && srv->in_flight == 0 && srv->drain_done)
		srv->drain_done(srv->drain_arg);
}

/* The connection closed with a reply still being written: it will never complete. */
static void
server_reply_abandoned_cb(void *arg)
{
	server_in_flight_done(arg);
}

/* evhttp calls this once the reply is fully written to the socket, just before it waits
 * for the connection's next request (or closes it). */
static void
server_reply_written_cb(struct evhttp_request *ev, void *arg)
{
	HttpServer *srv = arg;

	conn_guard_wait_next(srv->guard, evhttp_request_get_connection(ev));
	server_in_flight_done(srv);
}

void
http_server_request_done(Req *req, int status)
{
	HttpServer *srv = the_server;
	const char *method = req->ev ? server_method_name(evhttp_request_get_command(req->ev)) : "?";
	const char *path = req->ev ? evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req->ev)) : "?";
	double ms = req_elapsed_ms(req);

	/* Path only: the query string may hold search words a citizen said. */
	log_info("req=%llu %s %s %d %.1fms%s", (unsigned long long)req->id, method, path ? path : "?", status,
		 ms, req->alive ? "" : " (client gone)");
	metrics_request(method, req->route_name ? req->route_name : "unmatched", status, ms);
	/* A write may have added history rows: the event streams of every server should look. */
	if (status >= 200 && status < 300 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		stream_hub_wrote(req->app->streams);
	req_leave_read_lane(req);
	server_auth_budget_return(req); /* a lookup the database did not answer (503) */
	if (srv) {
		struct evhttp_connection *evcon = req->ev ? evhttp_request_get_connection(req->ev) : NULL;

		/* evhttp_send_reply only queues the reply: a drain must wait until it is written,
		 * or the process would exit with the answer still in its buffer. */
		if (evcon) {
			conn_guard_request_end(srv->guard, evcon, req);
			evhttp_request_set_on_complete_cb(req->ev, server_reply_written_cb, srv);
		} else {
			server_in_flight_done(srv);
		}
	}
	server_req_free(req);
}

/*
 *********************************
 * Request pipeline
 *********************************
 */

static Req *
server_req_new(HttpServer *srv, struct evhttp_request *ev)
{
	Req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->ev = ev;
	req->app = srv->app;
	req->id = ++srv->next_id;
	req->alive = true;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	srv->in_flight++;
	return req;
}

static void
server_request_cb(struct evhttp_request *ev, void *arg)
{
	HttpServer *srv = arg;
	Req *req = server_req_new(srv, ev);
	const char *method = server_method_name(evhttp_request_get_command(ev));
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
	const Route *route;
	bool other_method = false;
	size_t len;

	if (!req) {
		evhttp_send_error(ev, 503, "Service Unavailable");
		return;
	}
	if (srv->error_prefix && path && strncmp(path, srv->error_prefix, strlen(srv->error_prefix)) == 0)
		req->error_writer = srv->error_writer;
	if (!conn_guard_request_begin(srv->guard, evhttp_request_get_connection(ev), req)) {
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");
		reply_error(req, 503, "unavailable", NULL, "too many connections, try again shortly");
		return;
	}
	if (srv->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");
		reply_error(req, 503, "unavailable", NULL, "server is shutting down, try again");
		return;
	}
	if (ev->major != 1) {
		/* libevent answers any other version (HTTP/107.1, from an overflowing number) without a
		 * Content-Length and keeps the connection: its answers could not be told apart. Found by
		 * fuzz_http. */
		evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");
		reply_error(req, 400, "bad_request", NULL, "only HTTP/1.0 and HTTP/1.1 are served");
		return;
	}
	if (path && static_path(path)) {
		req->route_name = "/app/";
		static_serve(srv->app->web, req, path);
		return;
	}
	route = server_match(srv, req, method, path ? path : "", &other_method);
	if (!route) {
		if (req->route_name)
			reply_error(req, 400, "bad_request", NULL, "the id in the path must be a positive integer");
		else if (other_method)
			reply_error(req, 405, "method_not_allowed", NULL, "%s is not allowed here", method);
		else
			reply_error(req, 404, "not_found", NULL, "no such route");
		return;
	}
	len = evbuffer_get_length(evhttp_request_get_input_buffer(ev));
	if (len > (size_t)srv->app->config->max_body) {
		reply_error(req, 413, "too_large", NULL, "body is over the limit of %d bytes",
			    srv->app->config->max_body);
		return;
	}
	if (route->roles == ROLES_NONE)
		server_run_handler(req, route);
	else
		server_authenticate(req);
}

/* Who the client is, for the budget of failed authentications: its address, or, from a proxy
 * on this machine (nginx), the address the proxy appended last to X-Forwarded-For. */
static int64_t
server_client_key(Req *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
	const char *forwarded = req_header(req, "X-Forwarded-For");
	char *peer = NULL;
	ev_uint16_t port;

	if (!evcon)
		return 0;
	evhttp_connection_get_peer(evcon, &peer, &port);
	if (!peer)
		return 0;
	if (forwarded && (strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0)) {
		const char *last = strrchr(forwarded, ',');

		for (last = last ? last + 1 : forwarded; *last == ' '; last++)
			;
		return (int64_t)fnv1a64(last);
	}
	return (int64_t)fnv1a64(peer);
}

/* The lookup did not find the token unknown (it found the user, or the database did not
 * answer): what it took of the address's budget goes back. */
static void
server_auth_budget_return(Req *req)
{
	if (req->auth_budget_held && the_server && the_server->auth_failures)
		ratelimit_refund(the_server->auth_failures, req->client_key);
	req->auth_budget_held = false;
}

/*
 * The token from the cache (no query), or known unknown from the cache (401, no query), or
 * else from one query, which counts against the client address's budget of failed
 * authentications until it succeeds: over the budget, 429 without a query, so a flood of
 * made-up tokens costs the database nothing.
 */
static void
server_authenticate(Req *req)
{
	const char *auth = req_header(req, "Authorization");
	const char *token;

	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		reply_error(req, 401, "unauthorized", NULL, "send Authorization: Bearer <token>");
		return;
	}
	token = auth + 7;
	while (*token == ' ')
		token++;
	http_server_authenticate(req, token, server_authorize, server_unauthorized);
}

static void
server_unauthorized(Req *req)
{
	reply_error(req, 401, "unauthorized", NULL, "unknown or revoked token");
}

void
http_server_authenticate(Req *req, const char *token, ReqFn done, ReqFn refused)
{
	const char *params[1] = {req->token_hash};
	double now = monotonic_seconds();

	req->auth_done = done;
	req->auth_refused = refused;
	if (!token_well_formed(token)) {
		refused(req);
		return;
	}
	token_hash_literal(token, req->token_hash);
	if (token_cache_get(req->app->tokens, req->token_hash + 2, now, &req->user)) {
		done(req);
		return;
	}
	if (token_cache_unknown(req->app->tokens, req->token_hash + 2, now)) {
		refused(req);
		return;
	}
	req->client_key = server_client_key(req);
	if (the_server->auth_failures) {
		if (!ratelimit_allow(the_server->auth_failures, req->client_key, now)) {
			reply_error(req, 429, "rate_limited", NULL,
				    "too many unknown tokens from this address, slow down");
			return;
		}
		req->auth_budget_held = true;
	}
	req->token_generation = token_cache_generation(req->app->tokens);
	req_query(req,
		  "SELECT u.id, u.name, u.role, coalesce(u.department, ''), encode(t.hash, 'hex') "
		  "FROM tokens t JOIN users u ON u.id = t.user_id "
		  "WHERE t.hash = $1::bytea AND t.revoked_at IS NULL AND u.disabled_at IS NULL "
		  "AND (t.expires_at IS NULL OR t.expires_at > now())",
		  1, params, server_auth_cb);
}

static void
server_auth_cb(Req *req, PGresult *res)
{
	bool cache = req->app->config->token_cache_seconds > 0;
	Role role;

	if (PQntuples(res) != 1 || !token_equal_ct(PQgetvalue(res, 0, 4), req->token_hash + 2, TOKEN_HASH_HEX) ||
	    !role_parse(PQgetvalue(res, 0, 2), &role)) {
		if (cache)
			token_cache_put_unknown(req->app->tokens, req->token_hash + 2, monotonic_seconds(),
						req->token_generation);
		req->auth_budget_held = false; /* a failure: it counts */
		req->auth_refused(req);
		return;
	}
	server_auth_budget_return(req);
	req->user.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	user_set_name(&req->user, PQgetvalue(res, 0, 1));
	req->user.role = role;
	snprintf(req->user.department, sizeof(req->user.department), "%s", PQgetvalue(res, 0, 3));
	if (cache)
		token_cache_put(req->app->tokens, req->token_hash + 2, &req->user, monotonic_seconds(),
				req->token_generation);
	req->auth_done(req);
}

/* The authenticated caller's role against the route, then the rate limit, then the handler. */
static void
server_authorize(Req *req)
{
	const Route *route = req->route;

	if (!(route->roles & ROLE_BIT(req->user.role))) {
		reply_error(req, 403, "forbidden", NULL, "the %s role may not do this", role_name(req->user.role));
		return;
	}
	if (http_server_within_rate(req))
		server_run_handler(req, route);
}

bool
http_server_within_rate(Req *req)
{
	if (the_server && the_server->limiter &&
	    !ratelimit_allow(the_server->limiter, req->user.id, monotonic_seconds())) {
		reply_error(req, 429, "rate_limited", NULL, "over %d requests a second, slow down",
			    req->app->config->rate_limit);
		return false;
	}
	return true;
}

static bool
server_is_json(const char *content_type)
{
	size_t n = strlen("application/json");

	return content_type && strncasecmp(content_type, "application/json", n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

/* True when every '%' of s starts a two-hex-digit escape. */
static bool
server_percent_ok(const char *s)
{
	for (; (s = strchr(s, '%')); s += 3)
		if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
			return false;
	return true;
}

/* Query parameters decode to text: a broken %-escape, a NUL byte (%00) or invalid UTF-8
 * in a name or value is refused naming the parameter, before any handler reads a
 * truncated C string or evhttp silently drops the whole query. */
static bool
server_query_valid(Req *req, ApiError *err)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req->ev));
	char *copy, *pair, *save = NULL;
	bool ok = true;

	if (!q || !*q)
		return true;
	copy = strdup(q);
	if (!copy)
		return api_error_set(err, 503, "unavailable", NULL, "server is out of memory, try again");
	for (pair = strtok_r(copy, "&", &save); ok && pair; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		size_t klen = 0, vlen = 0;
		char *key, *val;

		if (eq)
			*eq = '\0';
		if (!server_percent_ok(pair) || (eq && !server_percent_ok(eq + 1))) {
			key = server_percent_ok(pair) ? evhttp_uridecode(pair, 1, &klen) : NULL;
			ok = api_error_set(err, 400, "bad_request", key && utf8_validate(key, klen, NULL) ? key : "query",
					   "a query parameter has a broken %%-escape");
			free(key);
			break;
		}
		key = evhttp_uridecode(pair, 1, &klen);
		val = evhttp_uridecode(eq ? eq + 1 : "", 1, &vlen);
		if (!key || !val)
			ok = api_error_set(err, 503, "unavailable", NULL, "server is out of memory, try again");
		else if (!utf8_validate(key, klen, NULL))
			ok = api_error_set(err, 400, "bad_request", "query", "a query parameter name is not UTF-8 text");
		else if (!utf8_validate(val, vlen, NULL))
			ok = api_error_set(err, 400, "bad_request", key, "query parameter %s is not UTF-8 text", key);
		free(key);
		free(val);
	}
	free(copy);
	return ok;
}

/* Read the body as the route wants it, then call the handler. */
static void
server_run_handler(Req *req, const Route *route)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
	size_t len = evbuffer_get_length(in);
	char *raw = NULL;
	ApiError err;

	if (!server_query_valid(req, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (route->body != BODY_NONE && len > 0) {
		raw = malloc(len + 1);
		if (!raw) {
			reply_out_of_memory(req);
			return;
		}
		evbuffer_copyout(in, raw, len);
		raw[len] = '\0';
		req->body_raw = raw;
		req->body_len = len;
	}
	if (route->body == BODY_JSON) {
		if (len == 0) {
			req->body = json_object_new_object();
		} else if (!server_is_json(req_header(req, "Content-Type"))) {
			reply_error(req, 415, "unsupported_media_type", NULL, "send Content-Type: application/json");
			return;
		} else if (!json_body_parse(raw, len, &req->body, &err)) {
			reply_api_error(req, &err);
			return;
		}
	}
	route->handler(req);
}

/*
 *********************************
 * Routing
 *********************************
 */

static int
server_split(char *path, char **segs)
{
	int n = 0;

	for (char *s = strtok(path, "/"); s; s = strtok(NULL, "/")) {
		if (n == MAX_PATH_SEGMENTS)
			return -1;
		segs[n++] = s;
	}
	return n;
}

static bool
server_parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s || strlen(s) > 18)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return v > 0;
}

/* Compare one pattern with the path's segments; fills path_id / path_arg on a match. */
static bool
server_pattern_matches(Req *req, const char *pattern, char **segs, int nseg, bool *bad_id)
{
	char pat[128];
	char *psegs[MAX_PATH_SEGMENTS];
	int np;

	snprintf(pat, sizeof(pat), "%s", pattern);
	np = server_split(pat, psegs);
	if (np != nseg)
		return false;
	for (int i = 0; i < np; i++) {
		if (strcmp(psegs[i], "{id}") == 0) {
			if (!server_parse_id(segs[i], &req->path_id))
				*bad_id = true;
		} else if (strcmp(psegs[i], "{arg}") == 0) {
			if (strlen(segs[i]) >= sizeof(req->path_arg))
				return false;
			snprintf(req->path_arg, sizeof(req->path_arg), "%s", segs[i]);
		} else if (strcmp(psegs[i], segs[i]) != 0) {
			return false;
		}
	}
	return true;
}

static const Route *
server_match(HttpServer *srv, Req *req, const char *method, const char *path, bool *other_method)
{
	char buf[512];
	char *segs[MAX_PATH_SEGMENTS];
	int nseg;

	if (strlen(path) >= sizeof(buf))
		return NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	nseg = server_split(buf, segs);
	if (nseg < 0)
		return NULL;
	for (int t = 0; t <= srv->ntables; t++) {
		const RouteTable *table = t < srv->ntables ? srv->tables[t] : &server_routes;

		for (int i = 0; i < table->count; i++) {
			const Route *r = &table->routes[i];
			bool bad_id = false;

			if (!server_pattern_matches(req, r->pattern, segs, nseg, &bad_id))
				continue;
			if (strcmp(r->method, method) != 0) {
				*other_method = true;
				continue;
			}
			req->route = r;
			req->route_name = r->pattern;
			return bad_id ? NULL : r;
		}
	}
	return NULL;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static const char *
server_method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* GET /v1/routes: {"items": ["GET /v1/cases", ...]}, every route this server answers, so
 * that a client (the web console) uses what the server has without probing for 404s. */
static void
server_list_routes(Req *req)
{
	json_object *items = json_object_new_array(), *root = json_object_new_object();
	HttpServer *srv = the_server;

	for (int t = 0; srv && t <= srv->ntables; t++) {
		const RouteTable *table = t < srv->ntables ? srv->tables[t] : &server_routes;

		for (int i = 0; i < table->count; i++) {
			char line[160];

			snprintf(line, sizeof(line), "%s %s", table->routes[i].method, table->routes[i].pattern);
			json_object_array_add(items, json_object_new_string(line));
		}
	}
	json_object_object_add(root, "items", items);
	reply_json(req, 200, root);
}

static void
server_req_free(Req *req)
{
	if (req->query_parsed)
		evhttp_clear_headers(&req->query);
	if (req->state)
		req->state_free(req->state);
	json_object_put(req->body);
	free((char *)req->body_raw);
	free(req);
}
