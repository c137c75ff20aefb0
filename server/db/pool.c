/*
 * db/pool: asynchronous libpq connections driven by libevent.
 *
 * Each DbConn is a small state machine (DB_DOWN -> DB_CONNECTING -> DB_IDLE <-> DB_BUSY,
 * and back to DB_DOWN on any failure, with a back-off timer before reconnecting).
 * Queries wait in one FIFO; an idle connection takes the head. libpq is used in
 * non-blocking mode: PQsendQueryPrepared, PQflush until done, PQconsumeInput/PQisBusy,
 * and PQgetResult until NULL. Nothing here ever waits for the database.
 *
 * Each connection prepares a statement the first time it runs its text (one extra round
 * trip, once per connection and statement), then executes it by name: PostgreSQL parses and
 * plans the handlers' fixed statements once per connection instead of on every request, which
 * was about 5% of its CPU on the intake path (perf). The names are a hash of the text; past
 * DB_PREPARED_MAX different texts a connection runs the rest unprepared.
 */
#include "db/pool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "core/fnv.h"
#include "core/strv.h"
#include "log.h"
#include "monotonic.h"

#define DB_BACKOFF_MIN_MS 100
/* At most a second between reconnects: after a failover (~5 s in deploy/cluster.sh) writes come
 * back within a second of the new primary, instead of up to 5 s later. */
#define DB_BACKOFF_MAX_MS 1000
#define DB_CONNECT_TIMEOUT_S 5
#define DB_PREPARED_MAX 128

/* PostgreSQL's WARNING when a commit's wait for the synchronous standby is cancelled (our
 * statement_timeout or a cancel request): the transaction committed on the primary alone, yet
 * the statement reports success. Such an answer must not become a 2xx. The text is English
 * because the cluster runs with lc_messages = C (deploy/cluster/patroni.yml). */
#define SYNC_WAIT_CANCELLED "canceling wait for synchronous replication"

typedef enum DbConnState { DB_DOWN, DB_CONNECTING, DB_IDLE, DB_BUSY } DbConnState;

typedef struct DbQuery {
	TAILQ_ENTRY(DbQuery) link;
	const char *sql;           /* sql_copy, or a DbStatement's text */
	char *sql_copy;
	uint64_t hash;             /* of sql: the name of its prepared statement */
	int nparams;
	char **params;
	int *lengths;              /* NULL when every parameter is text, else with formats: */
	int *formats;              /* 1 where params[i] is lengths[i] bytes of a binary form */
	DbCallback cb;
	void *arg;
	double queued_at;          /* monotonic seconds when submitted (the janitor's deadline) */
	DbStatus failed;           /* on pool->failed: the status it will be answered with */
} DbQuery;
TAILQ_HEAD(DbQueryQueue, DbQuery);

typedef struct DbConn {
	DbPool *pool;
	int index;
	PGconn *pg;
	DbConnState state;
	struct event *io;          /* socket readiness; re-created when the socket changes */
	struct event *timer;       /* reconnect back-off and connect timeout */
	int backoff_ms;
	DbQuery *query;            /* in flight when DB_BUSY */
	PGresult *result;          /* the first result of the query in flight */
	bool preparing;            /* what is in flight is the query's PREPARE */
	uint64_t prepared[DB_PREPARED_MAX]; /* hashes of the statements prepared on this session */
	int nprepared;
	bool commit_unconfirmed;   /* the query in flight got SYNC_WAIT_CANCELLED */
} DbConn;

struct DbPool {
	struct event_base *base;
	DbPoolConfig cfg;
	char *conninfo, *timezone, *name, *settings;
	DbConn *conns;             /* cfg.size query connections */
	struct DbQueryQueue queue;
	int waiting;
	struct DbQueryQueue failed; /* refused by a broken connection, answered on the next turn */
	struct event *kick;        /* activated to answer `failed` from the loop, not from a caller */
	bool outage;               /* nothing connected since the last outage warning */
	double outage_since;
	unsigned long long reconnects, queries, failures;
};

static void conn_start(DbConn *conn);
static void conn_fail(DbConn *conn, const char *why);
static void conn_watch(DbConn *conn, short what, event_callback_fn fn);
static void conn_connect_cb(evutil_socket_t fd, short what, void *arg);
static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_send_next(DbConn *conn);
static void conn_send_and_watch(DbConn *conn);
static bool conn_send_query(DbConn *conn);
static void conn_prepared_done(DbConn *conn);
static void conn_finish_query(DbConn *conn, DbStatus status);
static void conn_notice_cb(void *arg, const PGresult *res);
static DbStatus status_of_error(const char *sqlstate);
static void query_deliver(DbQuery *q, DbStatus status, PGresult *res);
static void query_defer(DbPool *pool, DbQuery *q, DbStatus status);
static void pool_kick_cb(evutil_socket_t fd, short what, void *arg);
static bool query_submit(DbPool *pool, const char *sql, const DbStatement *st, int nparams,
			 const char *const *params, const int *lengths, const int *formats, DbCallback cb, void *arg);
static bool query_copy_params(DbQuery *q, const char *const *params, const int *lengths, const int *formats);
static uint64_t statement_hash(const char *sql);
static void query_free(DbQuery *q);
static void pool_note_outage(DbPool *pool, const DbConn *conn);
static void pool_note_recovery(DbPool *pool);
static void pool_fail_waiting_if_down(DbPool *pool);
static int pool_connected(const DbPool *pool);

/*
 *********************************
 * Public functions
 *********************************
 */

DbPool *
db_pool_new(struct event_base *base, const DbPoolConfig *cfg)
{
	DbPool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->base = base;
	pool->cfg = *cfg;
	pool->conninfo = strdup(cfg->conninfo);
	pool->timezone = strdup(cfg->timezone ? cfg->timezone : "UTC");
	pool->name = strdup(cfg->name ? cfg->name : "db");
	pool->settings = cfg->settings ? strdup(cfg->settings) : NULL;
	pool->conns = calloc((size_t)cfg->size, sizeof(DbConn));
	pool->kick = event_new(base, -1, 0, pool_kick_cb, pool);
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->failed);
	if (!pool->conninfo || !pool->timezone || !pool->name || (cfg->settings && !pool->settings) || !pool->conns ||
	    !pool->kick) {
		db_pool_free(pool);
		return NULL;
	}
	for (int i = 0; i < cfg->size; i++) {
		pool->conns[i].pool = pool;
		pool->conns[i].index = i;
		pool->conns[i].backoff_ms = DB_BACKOFF_MIN_MS;
		conn_start(&pool->conns[i]);
	}
	return pool;
}

static void
conn_close(DbConn *conn)
{
	if (conn->io)
		event_free(conn->io);
	if (conn->timer)
		event_free(conn->timer);
	if (conn->result)
		PQclear(conn->result);
	if (conn->pg)
		PQfinish(conn->pg);
	conn->io = conn->timer = NULL;
	conn->result = NULL;
	conn->pg = NULL;
	conn->preparing = false;
	conn->nprepared = 0; /* prepared statements die with their session */
}

void
db_pool_free(DbPool *pool)
{
	DbQuery *q;

	if (!pool)
		return;
	for (int i = 0; pool->conns && i < pool->cfg.size; i++) {
		DbConn *conn = &pool->conns[i];

		if (conn->query) {
			query_deliver(conn->query, DB_UNAVAILABLE, NULL);
			conn->query = NULL;
		}
		conn_close(conn);
	}
	while ((q = TAILQ_FIRST(&pool->queue))) {
		TAILQ_REMOVE(&pool->queue, q, link);
		query_deliver(q, DB_UNAVAILABLE, NULL);
	}
	while ((q = TAILQ_FIRST(&pool->failed))) {
		TAILQ_REMOVE(&pool->failed, q, link);
		query_deliver(q, q->failed, NULL);
	}
	if (pool->kick)
		event_free(pool->kick);
	free(pool->conns);
	free(pool->conninfo);
	free(pool->timezone);
	free(pool->name);
	free(pool->settings);
	free(pool);
}

DbStatement
db_statement(const char *sql)
{
	return (DbStatement){sql, statement_hash(sql)};
}

bool
db_pool_submit(DbPool *pool, const char *sql, int nparams, const char *const *params, DbCallback cb,
	       void *arg)
{
	return query_submit(pool, sql, NULL, nparams, params, NULL, NULL, cb, arg);
}

bool
db_pool_submit_statement(DbPool *pool, const DbStatement *st, int nparams, const char *const *params,
			 const int *lengths, const int *formats, DbCallback cb, void *arg)
{
	return query_submit(pool, NULL, st, nparams, params, lengths, formats, cb, arg);
}

const char *
db_value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

bool
db_pool_ready(const DbPool *pool)
{
	return pool_connected(pool) > 0;
}

void
db_pool_stats(const DbPool *pool, DbPoolStats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = pool->cfg.size;
	for (int i = 0; i < pool->cfg.size; i++) {
		if (pool->conns[i].state == DB_IDLE || pool->conns[i].state == DB_BUSY)
			out->connected++;
		if (pool->conns[i].state == DB_BUSY)
			out->in_use++;
	}
	out->waiting = pool->waiting;
	out->reconnects = pool->reconnects;
	out->queries = pool->queries;
	out->failures = pool->failures;
}

int
db_pool_expire(DbPool *pool, int max_wait_ms)
{
	double cutoff = monotonic_seconds() - max_wait_ms / 1000.0;
	DbQuery *q;
	int n = 0;

	/* FIFO: the oldest are at the head. */
	while ((q = TAILQ_FIRST(&pool->queue)) && q->queued_at <= cutoff) {
		TAILQ_REMOVE(&pool->queue, q, link);
		pool->waiting--;
		n++;
		query_deliver(q, DB_TIMEOUT, NULL);
	}
	return n;
}

/*
 *********************************
 * Queries
 *********************************
 */

/* Queue a query of the text sql (copied) or of the statement st (kept by reference). */
static bool
query_submit(DbPool *pool, const char *sql, const DbStatement *st, int nparams, const char *const *params,
	     const int *lengths, const int *formats, DbCallback cb, void *arg)
{
	DbQuery *q;

	if (pool_connected(pool) == 0 || pool->waiting >= pool->cfg.queue_max)
		return false;
	q = calloc(1, sizeof(*q));
	if (!q)
		return false;
	if (st) {
		q->sql = st->sql;
		q->hash = st->hash;
	} else if ((q->sql = q->sql_copy = strdup(sql))) {
		q->hash = statement_hash(sql);
	}
	q->nparams = nparams;
	q->cb = cb;
	q->arg = arg;
	q->queued_at = monotonic_seconds();
	if (!q->sql || !query_copy_params(q, params, lengths, formats))
		goto fail;
	TAILQ_INSERT_TAIL(&pool->queue, q, link);
	pool->waiting++;
	for (int i = 0; i < pool->cfg.size; i++) {
		if (pool->conns[i].state == DB_IDLE) {
			conn_send_next(&pool->conns[i]);
			break;
		}
	}
	return true;
fail:
	query_free(q);
	return false;
}

/* The query's copy of its parameters, in one block (core/strv): text, or where formats[i] is
 * 1, lengths[i] bytes of a binary form. None for none. False when out of memory. */
static bool
query_copy_params(DbQuery *q, const char *const *params, const int *lengths, const int *formats)
{
	size_t n = (size_t)q->nparams;
	size_t *len;

	if (q->nparams <= 0)
		return true;
	if (formats && (!(q->lengths = calloc(n, sizeof(int))) || !(q->formats = calloc(n, sizeof(int)))))
		return false;
	if (!(len = calloc(n, sizeof(*len))))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!params[i])
			continue;
		if (formats && formats[i] == 1) {
			len[i] = lengths[i] > 0 ? (size_t)lengths[i] : 0;
			q->lengths[i] = lengths[i];
			q->formats[i] = 1;
		} else {
			len[i] = strlen(params[i]) + 1;
		}
	}
	q->params = strv_copy(params, len, n);
	free(len);
	return q->params != NULL;
}

/*
 *********************************
 * Connection state machine
 *********************************
 */

/* Begin a non-blocking connect; on immediate failure schedule a retry. */
static void
conn_start(DbConn *conn)
{
	DbPool *pool = conn->pool;
	char options[256]; /* TimeZone (config.h: under 64 bytes), the timeout, and settings (main.c's: short) */
	const char *keys[] = {"dbname", "options", "application_name", "keepalives", "keepalives_idle",
			      "keepalives_interval", "keepalives_count", "tcp_user_timeout", NULL};
	const char *values[] = {pool->conninfo, options, "hotline-server", "1", "30", "10", "3", "30000", NULL};

	snprintf(options, sizeof(options), "-c TimeZone=%s -c statement_timeout=%d%s%s", pool->timezone,
		 pool->cfg.statement_timeout_ms, pool->settings ? " -c " : "", pool->settings ? pool->settings : "");
	conn->state = DB_CONNECTING;
	conn->pg = PQconnectStartParams(keys, values, 1);
	if (!conn->pg || PQstatus(conn->pg) == CONNECTION_BAD) {
		conn_fail(conn, "connect start");
		return;
	}
	PQsetnonblocking(conn->pg, 1);
	PQsetNoticeReceiver(conn->pg, conn_notice_cb, conn);
	conn->timer = evtimer_new(pool->base, conn_timer_cb, conn);
	if (conn->timer) {
		struct timeval tv = {DB_CONNECT_TIMEOUT_S, 0};

		evtimer_add(conn->timer, &tv);
	}
	/* libpq: on the first round, behave as if PQconnectPoll asked for write. */
	conn_watch(conn, EV_WRITE, conn_connect_cb);
}

/* Drop the connection, fail its query, and retry after the back-off. */
static void
conn_fail(DbConn *conn, const char *why)
{
	DbPool *pool = conn->pool;
	struct timeval tv;
	bool was_up = conn->state == DB_IDLE || conn->state == DB_BUSY;

	if (was_up || conn->state == DB_CONNECTING)
		log_debug("db conn %d down (%s): %s", conn->index, why,
			  conn->pg ? PQerrorMessage(conn->pg) : "no connection");
	if (was_up)
		log_warn("db connection %d lost (%s)", conn->index, why);
	if (conn->query) {
		pool->failures++;
		query_defer(pool, conn->query, DB_UNAVAILABLE);
		conn->query = NULL;
	}
	conn->state = DB_DOWN;
	pool_note_outage(pool, conn);
	conn_close(conn);
	pool_fail_waiting_if_down(pool);
	conn->timer = evtimer_new(pool->base, conn_timer_cb, conn);
	tv.tv_sec = conn->backoff_ms / 1000;
	tv.tv_usec = (conn->backoff_ms % 1000) * 1000;
	if (conn->timer)
		evtimer_add(conn->timer, &tv);
	conn->backoff_ms = conn->backoff_ms * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : conn->backoff_ms * 2;
}

/* Watch the connection's current socket for `what`; the socket may change between polls. */
static void
conn_watch(DbConn *conn, short what, event_callback_fn fn)
{
	if (conn->io)
		event_free(conn->io);
	conn->io = event_new(conn->pool->base, PQsocket(conn->pg), what | EV_PERSIST, fn, conn);
	if (!conn->io || event_add(conn->io, NULL) != 0)
		log_error("db conn %d: cannot watch socket", conn->index);
}

static void
conn_became_ready(DbConn *conn)
{
	DbPool *pool = conn->pool;

	if (conn->timer) {
		event_free(conn->timer);
		conn->timer = NULL;
	}
	if (conn->backoff_ms > DB_BACKOFF_MIN_MS) {
		pool->reconnects++;
		log_info("db connection %d restored", conn->index);
	}
	pool_note_recovery(pool);
	conn->backoff_ms = DB_BACKOFF_MIN_MS;
	conn->state = DB_IDLE;
	conn_watch(conn, EV_READ, conn_io_cb);
	conn_send_next(conn);
}

static void
conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	DbConn *conn = arg;
	PostgresPollingStatusType st;

	(void)fd;
	(void)what;
	st = PQconnectPoll(conn->pg);
	switch (st) {
	case PGRES_POLLING_READING:
		conn_watch(conn, EV_READ, conn_connect_cb);
		break;
	case PGRES_POLLING_WRITING:
		conn_watch(conn, EV_WRITE, conn_connect_cb);
		break;
	case PGRES_POLLING_OK:
		conn_became_ready(conn);
		break;
	default:
		conn_fail(conn, "connect");
		break;
	}
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	DbConn *conn = arg;

	(void)fd;
	(void)what;
	if (conn->state == DB_CONNECTING) {
		conn_fail(conn, "connect timeout");
		return;
	}
	event_free(conn->timer);
	conn->timer = NULL;
	conn_start(conn);
}

/* Take the head of the queue and send it, if this connection is idle. */
static void
conn_send_next(DbConn *conn)
{
	DbPool *pool = conn->pool;
	DbQuery *q = TAILQ_FIRST(&pool->queue);

	if (conn->state != DB_IDLE || !q)
		return;
	TAILQ_REMOVE(&pool->queue, q, link);
	pool->waiting--;
	conn->query = q;
	conn->state = DB_BUSY;
	pool->queries++;
	conn_send_and_watch(conn);
}

/* Send conn->query (or its PREPARE) and watch for the answer, writing what did not fit. */
static void
conn_send_and_watch(DbConn *conn)
{
	int flushed;

	if (!conn_send_query(conn)) {
		conn_fail(conn, "send");
		return;
	}
	flushed = PQflush(conn->pg);
	if (flushed < 0)
		conn_fail(conn, "flush");
	else
		conn_watch(conn, flushed ? EV_READ | EV_WRITE : EV_READ, conn_io_cb);
}

/* The hash of a statement's text: its name on every connection. */
static uint64_t
statement_hash(const char *sql)
{
	return fnv1a64(sql);
}

static bool
conn_has_prepared(const DbConn *conn, uint64_t hash)
{
	for (int i = 0; i < conn->nprepared; i++)
		if (conn->prepared[i] == hash)
			return true;
	return false;
}

/* Send conn->query: by name when prepared, else its PREPARE first (or, with no room left
 * for more names, the text unprepared). */
static bool
conn_send_query(DbConn *conn)
{
	DbQuery *q = conn->query;
	const char *const *params = (const char *const *)q->params;
	char name[24];

	snprintf(name, sizeof(name), "hl_%016llx", (unsigned long long)q->hash);
	if (conn_has_prepared(conn, q->hash))
		return PQsendQueryPrepared(conn->pg, name, q->nparams, params, q->lengths, q->formats, 0);
	if (conn->nprepared == DB_PREPARED_MAX)
		return PQsendQueryParams(conn->pg, q->sql, q->nparams, NULL, params, q->lengths, q->formats, 0);
	conn->preparing = true;
	return PQsendPrepare(conn->pg, name, q->sql, q->nparams, NULL);
}

/* The PREPARE of conn->query has answered: on success run the query by name; a refusal
 * (the statement does not parse) is the query's answer. */
static void
conn_prepared_done(DbConn *conn)
{
	PGresult *res = conn->result;

	conn->preparing = false;
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		conn_finish_query(conn, DB_OK);
		return;
	}
	PQclear(res);
	conn->result = NULL;
	conn->prepared[conn->nprepared++] = conn->query->hash;
	conn_send_and_watch(conn);
}

/* Socket readiness while idle or busy: flush, read, collect results, notices of death. */
static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	DbConn *conn = arg;
	PGresult *res;

	(void)fd;
	if (what & EV_WRITE) {
		int flushed = PQflush(conn->pg);

		if (flushed < 0) {
			conn_fail(conn, "flush");
			return;
		}
		if (flushed == 0)
			conn_watch(conn, EV_READ, conn_io_cb);
	}
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(conn->pg) || PQstatus(conn->pg) == CONNECTION_BAD) {
		conn_fail(conn, "read");
		return;
	}
	while (conn->state == DB_BUSY && !PQisBusy(conn->pg)) {
		res = PQgetResult(conn->pg);
		if (!res) {
			if (conn->preparing) {
				conn_prepared_done(conn);
			} else {
				conn_finish_query(conn, DB_OK);
			}
			return;
		}
		/* Keep the first result; drain and drop the rest (libpq requires reading to NULL). */
		if (!conn->result)
			conn->result = res;
		else
			PQclear(res);
	}
}

/* Deliver the finished query's result and take the next one. A connection that turned out to
 * lead to a read-only server (a primary demoted to replica) is dropped: its reconnect goes
 * through the address again, to whatever is primary now. */
static void
conn_finish_query(DbConn *conn, DbStatus status)
{
	DbQuery *q = conn->query;
	PGresult *res = conn->result;
	ExecStatusType est = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	bool read_only = state && strcmp(state, "25006") == 0;

	conn->query = NULL;
	conn->result = NULL;
	conn->state = DB_IDLE;
	if (status == DB_OK && est != PGRES_TUPLES_OK && est != PGRES_COMMAND_OK) {
		status = status_of_error(state);
		conn->pool->failures++;
	}
	if (status == DB_OK && conn->commit_unconfirmed) {
		log_warn("db conn %d: a commit was not confirmed by the synchronous standby: "
			 "answered as unavailable", conn->index);
		status = DB_UNAVAILABLE;
		conn->pool->failures++;
	}
	conn->commit_unconfirmed = false;
	query_deliver(q, status, res);
	if (res)
		PQclear(res);
	if (read_only)
		conn_fail(conn, "the server is read-only: no longer the primary");
	else
		conn_send_next(conn);
}

/* What an error of PostgreSQL means for the caller: a cancel is a timeout; a server shutting
 * down, starting, crashed (class 57P), a broken connection (class 08) or a read-only server
 * (25006, during a failover) is "unavailable, try again"; the rest a failure. */
static DbStatus
status_of_error(const char *sqlstate)
{
	if (sqlstate == NULL)
		return DB_FAILED;
	if (strcmp(sqlstate, "57014") == 0)
		return DB_TIMEOUT;
	if (strncmp(sqlstate, "57P", 3) == 0 || strncmp(sqlstate, "08", 2) == 0 ||
	    strcmp(sqlstate, "25006") == 0)
		return DB_UNAVAILABLE;
	return DB_FAILED;
}

/* libpq's notices (NOTICE, WARNING) on a connection: a cancelled synchronous-commit wait marks
 * the query in flight; others go to the debug log. */
static void
conn_notice_cb(void *arg, const PGresult *res)
{
	DbConn *conn = arg;
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (msg && strncmp(msg, SYNC_WAIT_CANCELLED, strlen(SYNC_WAIT_CANCELLED)) == 0)
		conn->commit_unconfirmed = true;
	else if (msg)
		log_debug("db conn %d: %s", conn->index, msg);
}

/*
 *********************************
 * Helpers
 *********************************
 */

static void
query_deliver(DbQuery *q, DbStatus status, PGresult *res)
{
	DbResult r = {status, res, "", ""};

	if (status == DB_FAILED || status == DB_TIMEOUT) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		r.sqlstate = state ? state : "";
		r.message = msg ? msg : "";
	}
	q->cb(&r, q->arg);
	query_free(q);
}

/* Answer q on the next loop turn: conn_fail runs inside db_pool_submit too (a send or flush
 * that fails), where a callback must not be called (see db_pool_submit). */
static void
query_defer(DbPool *pool, DbQuery *q, DbStatus status)
{
	q->failed = status;
	TAILQ_INSERT_TAIL(&pool->failed, q, link);
	event_active(pool->kick, EV_TIMEOUT, 0);
}

static void
pool_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	DbPool *pool = arg;
	DbQuery *q;

	(void)fd;
	(void)what;
	while ((q = TAILQ_FIRST(&pool->failed))) {
		TAILQ_REMOVE(&pool->failed, q, link);
		query_deliver(q, q->failed, NULL);
	}
}

static void
query_free(DbQuery *q)
{
	free(q->params);
	free(q->lengths);
	free(q->formats);
	free(q->sql_copy);
	free(q);
}

static int
pool_connected(const DbPool *pool)
{
	int n = 0;

	for (int i = 0; i < pool->cfg.size; i++)
		n += pool->conns[i].state == DB_IDLE || pool->conns[i].state == DB_BUSY;
	return n;
}

/* With no connection left, waiting queries can only time out: fail them now (503). */
static void
pool_fail_waiting_if_down(DbPool *pool)
{
	DbQuery *q;

	if (pool_connected(pool) > 0)
		return;
	while ((q = TAILQ_FIRST(&pool->queue))) {
		TAILQ_REMOVE(&pool->queue, q, link);
		pool->waiting--;
		query_defer(pool, q, DB_UNAVAILABLE);
	}
}

/* conn just failed (its libpq error still readable): when nothing is connected any more, say
 * so once at warn with PostgreSQL's reason (a wrong password, a refused connection); the
 * connections' retries stay at debug until one succeeds. */
static void
pool_note_outage(DbPool *pool, const DbConn *conn)
{
	char reason[256];
	size_t n;

	if (pool->outage || pool_connected(pool) > 0)
		return;
	snprintf(reason, sizeof(reason), "%s", conn->pg ? PQerrorMessage(conn->pg) : "cannot start a connection");
	for (char *c = reason; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' '; /* libpq's message may run over several lines: keep the log's one */
	n = strlen(reason);
	while (n > 0 && reason[n - 1] == ' ')
		reason[--n] = '\0';
	pool->outage = true;
	pool->outage_since = monotonic_seconds();
	log_warn("database unavailable to the %s pool, answering 503 until it is back: %s", pool->name, reason);
}

static void
pool_note_recovery(DbPool *pool)
{
	if (!pool->outage)
		return;
	pool->outage = false;
	log_warn("database available again to the %s pool after %.1f s", pool->name,
		 monotonic_seconds() - pool->outage_since);
}
