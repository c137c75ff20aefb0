/*
 * db/pool: a pool of asynchronous libpq connections on the server's event_base.
 *
 * One query per connection at a time (no pipelining): a submitted query waits in a
 * bounded FIFO until a connection is idle, is sent with PQsendQueryParams, and its
 * result is delivered to the callback on the loop thread. The loop never blocks.
 * A query that needs several statements in one transaction is written as one SQL
 * statement or one SQL function call, so one round trip is one transaction.
 *
 * When PostgreSQL goes away, connections are closed and reopened with back-off;
 * meanwhile queries fail at once with DB_UNAVAILABLE (the HTTP layer answers 503). The
 * outage is logged once at warn with PostgreSQL's reason, and its end once.
 */
#ifndef HOTLINE_DB_POOL_H
#define HOTLINE_DB_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

struct event_base;
typedef struct DbPool DbPool;

typedef enum DbStatus {
	DB_OK,          /* res is a PGRES_TUPLES_OK or PGRES_COMMAND_OK result */
	DB_UNAVAILABLE, /* no connection, queue full, or the connection broke before an answer */
	DB_FAILED,      /* PostgreSQL answered with an error: see sqlstate/message */
	DB_TIMEOUT      /* statement_timeout or our own deadline cancelled it */
} DbStatus;

typedef struct DbResult {
	DbStatus status;
	PGresult *res;         /* valid during the callback only; the pool clears it */
	const char *sqlstate;  /* "23505" ... when DB_FAILED, else "" */
	const char *message;   /* PostgreSQL's primary message when DB_FAILED, else "" */
} DbResult;

typedef void (*DbCallback)(const DbResult *result, void *arg);

typedef struct DbPoolConfig {
	const char *name;         /* for the log: "main", "read" */
	const char *conninfo;     /* libpq connection string */
	const char *timezone;     /* set as the session TimeZone of every connection */
	int size;                 /* connections */
	int queue_max;            /* queries waiting for a connection before DB_UNAVAILABLE */
	int statement_timeout_ms; /* server-side backstop per statement */
	const char *settings;     /* NULL, or one more "name=value" for every session */
} DbPoolConfig;

typedef struct DbPoolStats {
	int size, connected, in_use, waiting;
	unsigned long long reconnects, queries, failures;
} DbPoolStats;

/* Create the pool and start connecting (non-blocking). NULL on allocation failure. */
DbPool *db_pool_new(struct event_base *base, const DbPoolConfig *cfg);
/* Close every connection; pending callbacks are called with DB_UNAVAILABLE first. */
void db_pool_free(DbPool *pool);

/*
 * Queue a parameterized query. params are text-format values (NULL = SQL NULL) and
 * are copied, so the caller may free them on return. cb is called exactly once, later,
 * on the loop thread (never from inside this call). Returns false only when the queue
 * is full or nothing is connected; then cb is never called.
 */
bool db_pool_submit(DbPool *pool, const char *sql, int nparams, const char *const *params,
		    DbCallback cb, void *arg) __attribute__((warn_unused_result));

/*
 * A statement sent over and over, its text kept by reference and hashed once (the pool names
 * a prepared statement by the hash of its text): copying and hashing the intake's ~6 KB batch
 * statement for every batch was ~2.5% of the server's CPU (bench/RESULTS.md, session 10). The
 * text must outlive every query submitted with it.
 */
typedef struct DbStatement {
	const char *sql;
	uint64_t hash;
} DbStatement;

DbStatement db_statement(const char *sql);
/* db_pool_submit of a DbStatement, with parameters in binary: where formats[i] is 1, params[i]
 * is lengths[i] bytes of its type's binary form (copied too); where 0 (or formats NULL), text
 * as above. */
bool db_pool_submit_statement(DbPool *pool, const DbStatement *st, int nparams, const char *const *params,
			      const int *lengths, const int *formats, DbCallback cb, void *arg)
	__attribute__((warn_unused_result));

/* The value at (row, col) as text; NULL when it is SQL NULL (PQgetvalue gives "" for both). */
const char *db_value(const PGresult *res, int row, int col);

/*
 * The janitor's sweep: every query that has waited for a connection longer than max_wait_ms
 * is answered now with DB_TIMEOUT (the HTTP layer answers 503 with Retry-After), so no request
 * waits in the queue past a deadline. Returns how many. Call from the loop (a timer).
 */
int db_pool_expire(DbPool *pool, int max_wait_ms);

/* True when at least one connection is up (for /readyz). */
bool db_pool_ready(const DbPool *pool);
void db_pool_stats(const DbPool *pool, DbPoolStats *out);

#endif
