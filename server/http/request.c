/* http/request: accessors of the request context and the query helpers. */
#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "app.h"
#include "http/reply.h"
#include "log.h"

typedef struct ReqQuery {
	Req *req;
	ReqQueryCb cb;
} ReqQuery;

typedef struct ReqBatchCall {
	Req *req;
	ReqRowBody body;
	ReqRowCb cb;
} ReqBatchCall;

static DbPool *query_pool(const Req *req);
static void req_query_done(const DbResult *r, void *arg);
static void req_batch_done(const DbResult *r, int row, void *arg);
static void reply_db_failure(Req *req, const DbResult *r);
static void reply_db_unavailable(Req *req);
static void reply_row_at(Req *req, PGresult *res, int row, ReqRowBody body, ReqRowCb cb);
static void reply_status_body(Req *req, int status, const char *body);

const char *
req_param(Req *req, const char *name)
{
	if (!req->query_parsed) {
		const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req->ev));

		TAILQ_INIT(&req->query);
		req->query_parsed = true;
		if (q && evhttp_parse_query_str(q, &req->query) != 0)
			evhttp_clear_headers(&req->query);
	}
	return evhttp_find_header(&req->query, name);
}

const char *
req_header(Req *req, const char *name)
{
	return req->ev ? evhttp_find_header(evhttp_request_get_input_headers(req->ev), name) : NULL;
}

bool
req_if_match(Req *req, char *out, size_t len)
{
	const char *h = req_header(req, "If-Match");
	size_t n;
	long long v = 0;

	out[0] = '\0';
	if (!h)
		return true;
	n = strlen(h);
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	}
	if (n == 0 || n > 10 || strspn(h, "0123456789") < n)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (h[i] - '0');
	if (v < 1 || v > 2147483647LL)
		return false;
	snprintf(out, len, "%lld", v);
	return true;
}

double
req_elapsed_ms(const Req *req)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - req->started.tv_sec) * 1000.0 +
	       (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
}

void
req_query(Req *req, const char *sql, int nparams, const char *const *params, ReqQueryCb cb)
{
	ReqQuery *q = malloc(sizeof(*q));

	if (!q) {
		reply_out_of_memory(req);
		return;
	}
	q->req = req;
	q->cb = cb;
	if (!db_pool_submit(query_pool(req), sql, nparams, params, req_query_done, q)) {
		free(q);
		reply_db_unavailable(req);
	}
}

/* The pool of the request's queries: the lane's own while it holds a slot of the slow-read lane
 * (connected to db_read, a replica, when one is configured), else the main one. A lane pool
 * with no connection up (the replica is down) leaves its reads to the main pool rather than
 * answering 503. */
static DbPool *
query_pool(const Req *req)
{
	if (req->read_lane && db_pool_ready(req->app->reads))
		return req->app->reads;
	return req->app->pool;
}

bool
req_enter_read_lane(Req *req)
{
	if (!user_slots_take(req->app->read_slots, req->user.id)) {
		reply_error(req, 429, "rate_limited", NULL,
			    "at most %d searches or reports of one user at once, try again when one has answered",
			    req->app->config->read_per_user);
		return false;
	}
	req->read_lane = true;
	return true;
}

void
req_leave_read_lane(Req *req)
{
	if (req->read_lane)
		user_slots_release(req->app->read_slots, req->user.id);
	req->read_lane = false;
}

void
req_batch_reply(Req *req, DbBatch *batch, const char *const *params, ReqRowBody body)
{
	req_batch(req, batch, params, body, reply_status_body);
}

void
req_batch(Req *req, DbBatch *batch, const char *const *params, ReqRowBody body, ReqRowCb cb)
{
	ReqBatchCall *call = malloc(sizeof(*call));

	if (!call) {
		reply_out_of_memory(req);
		return;
	}
	call->req = req;
	call->body = body;
	call->cb = cb;
	if (!db_batch_submit(batch, params, req_batch_done, call)) {
		free(call);
		reply_db_unavailable(req);
	}
}

void
req_query_reply(Req *req, const char *sql, int nparams, const char *const *params)
{
	req_query(req, sql, nparams, params, req_reply_row);
}

static void
req_query_done(const DbResult *r, void *arg)
{
	ReqQuery *q = arg;
	Req *req = q->req;
	ReqQueryCb cb = q->cb;

	free(q);
	if (r->status == DB_OK)
		cb(req, r->res);
	else
		reply_db_failure(req, r);
}

static void
req_batch_done(const DbResult *r, int row, void *arg)
{
	ReqBatchCall *call = arg;
	Req *req = call->req;
	ReqRowBody body = call->body;
	ReqRowCb cb = call->cb;

	free(call);
	if (r->status == DB_OK)
		reply_row_at(req, r->res, row, body, cb);
	else
		reply_db_failure(req, r);
}

static void
reply_db_failure(Req *req, const DbResult *r)
{
	switch (r->status) {
	case DB_OK: /* not a failure: the callers reply with the rows; listed for -Wswitch */
	case DB_UNAVAILABLE:
		reply_db_unavailable(req);
		break;
	case DB_TIMEOUT:
		reply_error(req, 503, "unavailable", NULL, "the database did not answer in time, try again");
		break;
	case DB_FAILED:
		/* The primary message names constraints, never row values (those are in DETAIL). */
		log_error("req=%llu query failed: %s %s", (unsigned long long)req->id, r->sqlstate, r->message);
		reply_internal(req);
		break;
	}
}

static void
reply_db_unavailable(Req *req)
{
	reply_error(req, 503, "unavailable", NULL, "the database is unavailable, try again shortly");
}

void
req_reply_row(Req *req, PGresult *res)
{
	if (PQntuples(res) != 1) {
		log_error("req=%llu: a (status, body) query gave %d rows", (unsigned long long)req->id, PQntuples(res));
		reply_internal(req);
		return;
	}
	reply_row_at(req, res, 0, NULL, reply_status_body);
}

/* Hand the (status, body) of row `row` (the first two columns) to cb; a NULL body written by
 * body (when given) from the row's other columns. */
static void
reply_row_at(Req *req, PGresult *res, int row, ReqRowBody body, ReqRowCb cb)
{
	TextBuf text = {0};

	if (row >= PQntuples(res) || PQnfields(res) < 2) {
		log_error("req=%llu: no (status, body) row %d", (unsigned long long)req->id, row);
		reply_internal(req);
		return;
	}
	if (!PQgetisnull(res, row, 1) || !body) {
		cb(req, atoi(PQgetvalue(res, row, 0)), PQgetvalue(res, row, 1));
		return;
	}
	if (body(req, res, row, &text)) {
		cb(req, atoi(PQgetvalue(res, row, 0)), text.buf);
	} else if (text.failed) {
		reply_out_of_memory(req);
	} else {
		log_error("req=%llu: row %d has neither a body nor the columns to write one", (unsigned long long)req->id,
			  row);
		reply_internal(req);
	}
	free(text.buf);
}

/* Reply with a (status, JSON body) as it is. */
static void
reply_status_body(Req *req, int status, const char *body)
{
	reply_json_text(req, status, body, strlen(body));
}
