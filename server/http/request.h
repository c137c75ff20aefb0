/*
 * http/request: the context of one HTTP request, from parsing to reply.
 *
 * The Req owns everything it points to (parsed body, query string, user) and is freed
 * by the reply functions of http/reply.h: a handler must end every path with exactly
 * one reply_* call, possibly later from a database callback. If the client hangs up
 * meanwhile, req->alive turns false and the reply is dropped, but the Req is still
 * freed by that reply call, so handlers never free it themselves.
 */
#ifndef HOTLINE_HTTP_REQUEST_H
#define HOTLINE_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "core/api_error.h"
#include "core/role.h"
#include "core/textbuf.h"
#include "core/user.h"
#include "db/batch.h"
#include "db/pool.h"
#include "token.h"

struct evhttp_request;
typedef struct App App;

typedef struct Req Req;
typedef void (*ReqFn)(Req *req);
/* Writes an error answer in a format of its own (Open311's); like every reply_*, frees the Req. */
typedef void (*ReqErrorWriter)(Req *req, const ApiError *err);

struct Req {
	struct evhttp_request *ev;
	App *app;
	uint64_t id;              /* request id, also sent as X-Request-Id */
	bool alive;               /* false once the client connection closed */
	struct timespec started;
	const struct Route *route; /* the matched route (set before authentication) */
	const char *route_name;   /* pattern of the matched route, for metrics ("/v1/cases/{id}") */
	int64_t path_id;          /* {id} of the path, 0 when none */
	char path_arg[64];        /* a non-numeric path segment ({code}, {year} as text) */
	struct evkeyvalq query;   /* decoded query string */
	bool query_parsed;
	const char *body_raw;     /* the raw body, NUL-terminated copy (NULL when empty) */
	size_t body_len;
	json_object *body;        /* the parsed JSON object for JSON routes, else NULL */
	User user;                /* the authenticated caller (routes with auth) */
	char token_hash[TOKEN_HASH_HEX + 3]; /* its token's SHA-256 as a bytea literal, "\\x" + hex */
	unsigned long token_generation; /* of the token cache when its lookup was sent */
	void *state;              /* a handler's own state across its steps, or NULL */
	void (*state_free)(void *state); /* frees state when the Req is freed */
	/* Called when the client connection closes before the answer ended (evhttp is about to
	 * free ev); for answers that stay open, the event stream. NULL for the others. */
	void (*on_close)(void *arg);
	void *on_close_arg;
	int64_t client_key;       /* the client address's key of the failed-authentication budget */
	bool auth_budget_held;    /* a lookup took one of its budget: kept only when it finds nothing */
	bool read_lane;           /* holds a slot of the slow-read lane (req_enter_read_lane) */
	char token_made[TOKEN_LEN + 1]; /* a token made for the reply (POST /v1/users): never sent to SQL */
	ReqFn auth_done;          /* http_server_authenticate: the token is a user's (req->user set) */
	ReqFn auth_refused;       /* ... it is nobody's: reply */
	ReqErrorWriter error_writer; /* NULL: errors are the contract's JSON (API.md section 1) */
};

/* A query-string parameter, decoded; NULL when absent. Valid until the reply. */
const char *req_param(Req *req, const char *name);
/* A request header; NULL when absent. */
const char *req_header(Req *req, const char *name);
/*
 * The If-Match header as a version: 3, or the quoted entity-tag form "3" (1 to 2^31-1).
 * out gets the digits, "" when the header is absent. False when it is there but no version.
 */
bool req_if_match(Req *req, char *out, size_t len);
/* Milliseconds since the request arrived. */
double req_elapsed_ms(const Req *req);

/*
 * The slow-read lane: a search or a report calls this before its query. Within the user's
 * read_per_user, the request's queries go to the lane's own pool (app->reads; on the db_read
 * replica when one is configured, else the primary), so that creates and case actions always
 * find a connection of the main one, and true is returned; the slot
 * is given back with the reply. Otherwise the request is answered 429 rate_limited and false
 * is returned.
 */
bool req_enter_read_lane(Req *req) __attribute__((warn_unused_result));
/* Give the slot back (the reply does). */
void req_leave_read_lane(Req *req);

/*
 * Run one parameterized query for this request (on the slow-read lane's pool once it entered). On success cb(req, res) is called with
 * the result (cleared after cb returns); cb must reply. On failure the request is
 * answered for you (503 unavailable with Retry-After when the database is away or
 * busy, 500 otherwise) and cb is not called.
 */
typedef void (*ReqQueryCb)(Req *req, PGresult *res);
void req_query(Req *req, const char *sql, int nparams, const char *const *params, ReqQueryCb cb);

/*
 * Run a query whose single row has two columns, (status integer, body text), as the
 * SQL functions of the API return, and reply with that status and JSON body.
 */
void req_query_reply(Req *req, const char *sql, int nparams, const char *const *params);
/* The reply of req_query_reply, for a ReqQueryCb that does something first. */
void req_reply_row(Req *req, PGresult *res);

/*
 * Writes into out the body of an answer row whose body column is NULL, from the row's other
 * columns (the batched intake answers a created case with its columns: the server writes
 * its JSON). False when the row does not have them.
 */
typedef bool (*ReqRowBody)(Req *req, PGresult *res, int row, TextBuf *out);

/*
 * Like req_query_reply, through a group commit (db/batch): params are one call of the
 * batch's single statement, whose answer is a (status, body) row; a row with a NULL body
 * has it written by body.
 */
void req_batch_reply(Req *req, DbBatch *batch, const char *const *params, ReqRowBody body);

/*
 * The same call, with its (status, body) handed to cb instead of sent: cb must reply. body
 * lives until cb returns. A database failure is answered for the caller and cb not called.
 */
typedef void (*ReqRowCb)(Req *req, int status, const char *body);
void req_batch(Req *req, DbBatch *batch, const char *const *params, ReqRowBody body, ReqRowCb cb);

#endif
