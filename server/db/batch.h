/*
 * db/batch: group commit for one kind of write (the intake of a case).
 *
 * Why: taken one per transaction, every case pays a commit (a WAL flush), a round trip and a
 * statement of its own, and on a small machine PostgreSQL spends more on those than on the
 * rows. A DbBatch lets at most `inflight_max` statements of its kind run at once. A call that
 * arrives while none runs waits at most `linger_us` for others to join it (0: it is sent at
 * once), then goes, alone with the single statement or with those that came. Others wait;
 * what waits (up to `items_max`) is sent as ONE statement, one
 * transaction, whose parameter k is a PostgreSQL array of the waiting calls' values of
 * parameter k, when a statement finishes, or as soon as `items_min` wait and a slot is free.
 * So a second statement starts only for a batch worth its commit: small batches cost more
 * per call than the waiting saves (bench/RESULTS.md).
 *
 * Each call gets its own row of the answer, and only once the whole transaction committed:
 * a success still means committed. When a statement of several calls fails (a deadlock with
 * another one, an error caused by one call), nothing of it committed, and each call is sent
 * again alone, so one bad call fails only itself.
 */
#ifndef HOTLINE_DB_BATCH_H
#define HOTLINE_DB_BATCH_H

#include <stdbool.h>

#include "core/pg_array.h"
#include "db/pool.h"

struct event_base;

typedef struct DbBatch DbBatch;

typedef struct DbBatchConfig {
	const char *single_sql; /* one call: $1..$nparams; answers one row (both texts are kept by
				 * reference: they must outlive the batch) */
	const char *batch_sql;  /* n calls: $k is the array of their values of parameter k; answers
				 * one row per call, the call's 0-based index in the LAST column */
	int nparams;
	int inflight_max;       /* statements of this kind running at once */
	int items_max;          /* calls in one statement; 1 sends every call alone */
	int items_min;          /* calls that must wait before a statement starts beside running ones,
				 * or before one starts at once when none runs */
	int linger_us;          /* with none running: fewer than items_min start once the oldest has
				 * waited this long */
	int queue_max;          /* calls waiting before submit refuses */
	int nkeys;              /* key[0..nkeys-1]: parameter indexes that name a call's key. Two
				 * calls equal in all of them, the last one not NULL, never share a
				 * statement: the later waits for the next (batch_sql may assume its
				 * calls' keys distinct) */
	int key[2];
	const PgArrayElem *elem; /* elem[k]: how batch_sql's array k is sent (core/pg_array.h);
				  * NULL: every one as a text literal */
	const char *split_expected; /* the SQLSTATE of a batch_sql failure that is an expected way
				     * of sending its calls again alone (logged at info, others
				     * warn); NULL: none */
} DbBatchConfig;

/*
 * The answer of one call: result->res holds its row `row` when result->status is DB_OK
 * (the other fields as the pool's DbResult). Called exactly once per accepted call, later,
 * on the loop thread.
 */
typedef void (*DbBatchCallback)(const DbResult *result, int row, void *arg);

typedef struct DbBatchStats {
	unsigned long long statements; /* statements sent, alone or batched */
	unsigned long long calls;      /* calls answered through them */
	unsigned long long split;      /* batched statements that failed and were re-sent call by call */
	int waiting;
} DbBatchStats;

/* NULL on allocation failure. The SQL texts must outlive the batch. */
DbBatch *db_batch_new(struct event_base *base, DbPool *pool, const DbBatchConfig *cfg);
/* Call before db_pool_free: waiting calls get DB_UNAVAILABLE now, running ones from the pool. */
void db_batch_free(DbBatch *batch);

/* Queue one call (nparams text values, copied). False when the queue is full or the pool is
 * down; then cb is never called. */
bool db_batch_submit(DbBatch *batch, const char *const *params, DbBatchCallback cb, void *arg)
	__attribute__((warn_unused_result));

/* The janitor's sweep: calls waiting for a transaction longer than max_wait_ms are answered
 * now with DB_TIMEOUT; returns how many. (Calls already sent wait in the pool's queue, whose
 * own db_pool_expire answers them.) Call from the loop. */
int db_batch_expire(DbBatch *batch, int max_wait_ms);

void db_batch_stats(const DbBatch *batch, DbBatchStats *out);

#endif
