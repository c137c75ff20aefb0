/*
 * db/batch: group commit over the pool (see batch.h).
 *
 * A call waits in the batch's FIFO; a statement in flight (BatchRun) owns the calls it
 * carries until the pool answers, then hands each its row, or re-sends them one by one
 * when a statement of several failed. Nothing here waits for the database either.
 */
#include "db/batch.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "core/pg_array.h"
#include "core/strv.h"
#include "log.h"
#include "monotonic.h"

typedef struct BatchCall {
	TAILQ_ENTRY(BatchCall) link;
	char **params;        /* nparams copies (NULL = SQL NULL), one block (core/strv) */
	int nparams;
	DbBatchCallback cb;
	void *arg;
	double queued_at;     /* monotonic seconds when submitted (the janitor's deadline) */
} BatchCall;
TAILQ_HEAD(BatchCallQueue, BatchCall);

/* One statement in flight. */
typedef struct BatchRun {
	LIST_ENTRY(BatchRun) link;
	DbBatch *batch;       /* NULL once the batch is freed: answer the calls, send nothing */
	int n;
	BatchCall *calls[];
} BatchRun;
LIST_HEAD(BatchRunList, BatchRun);

struct DbBatch {
	DbPool *pool;
	DbBatchConfig cfg;
	DbStatement single, many; /* cfg's single_sql and batch_sql */
	struct event *linger;  /* fires when the oldest waiting call has lingered (none running) */
	struct BatchCallQueue queue;
	struct BatchRunList running;
	int waiting, inflight;
	unsigned long long statements, calls, split;
};

static BatchCall *call_new(const DbBatch *batch, const char *const *params, DbBatchCallback cb, void *arg);
static bool batch_may_send(const DbBatch *batch, int n);
static double linger_left(const DbBatch *batch, const BatchCall *oldest);
static bool batch_lingered(const DbBatch *batch);
static void batch_linger(DbBatch *batch);
static void linger_cb(evutil_socket_t fd, short what, void *arg);
static void call_fail(BatchCall *call, DbStatus status);
static void call_free(BatchCall *call);
static void call_send_alone(DbBatch *batch, BatchCall *call);
static bool batch_send(DbBatch *batch, BatchCall **calls, int n);
static bool batch_send_waiting(DbBatch *batch) __attribute__((warn_unused_result));
static int batch_pick(const DbBatch *batch, BatchCall **calls);
static bool batch_keys_valid(const DbBatchConfig *cfg);
static bool batch_key_taken(const DbBatch *batch, BatchCall *const *calls, int n, const BatchCall *call);
static void batch_fail_waiting(DbBatch *batch, DbStatus status);
static bool batch_submit_run(DbBatch *batch, BatchRun *run);
static bool batch_array(PgArrayElem elem, const char *const *values, size_t n, char **out, int *len,
			int *format);
static void batch_run_done(const DbResult *result, void *arg);
static void batch_run_answer(DbBatch *batch, BatchRun *run, const DbResult *result);
static void batch_run_split(DbBatch *batch, BatchRun *run, const DbResult *result);
static void batch_count_answer(DbBatch *batch);

/*
 *********************************
 * Public functions
 *********************************
 */

DbBatch *
db_batch_new(struct event_base *base, DbPool *pool, const DbBatchConfig *cfg)
{
	DbBatch *batch = calloc(1, sizeof(*batch));

	if (!batch)
		return NULL;
	batch->pool = pool;
	batch->cfg = *cfg;
	batch->single = db_statement(cfg->single_sql);
	batch->many = db_statement(cfg->batch_sql);
	if (batch->cfg.inflight_max < 1)
		batch->cfg.inflight_max = 1;
	if (batch->cfg.items_max < 1)
		batch->cfg.items_max = 1;
	if (batch->cfg.items_min < 1)
		batch->cfg.items_min = 1;
	if (batch->cfg.items_min > batch->cfg.items_max)
		batch->cfg.items_min = batch->cfg.items_max;
	if (!batch_keys_valid(&batch->cfg)) {
		free(batch);
		return NULL;
	}
	TAILQ_INIT(&batch->queue);
	LIST_INIT(&batch->running);
	if (batch->cfg.linger_us > 0 && !(batch->linger = evtimer_new(base, linger_cb, batch))) {
		free(batch);
		return NULL;
	}
	return batch;
}

void
db_batch_free(DbBatch *batch)
{
	BatchRun *run;

	if (!batch)
		return;
	while ((run = LIST_FIRST(&batch->running))) {
		LIST_REMOVE(run, link);
		run->batch = NULL;
	}
	batch_fail_waiting(batch, DB_UNAVAILABLE);
	if (batch->linger)
		event_free(batch->linger);
	free(batch);
}

bool
db_batch_submit(DbBatch *batch, const char *const *params, DbBatchCallback cb, void *arg)
{
	BatchCall *call;

	if (!db_pool_ready(batch->pool) || batch->waiting >= batch->cfg.queue_max)
		return false;
	call = call_new(batch, params, cb, arg);
	if (!call)
		return false;
	if (batch->waiting == 0 && batch_may_send(batch, 1)) {
		if (batch_send(batch, &call, 1))
			return true;
		call_free(call);
		return false;
	}
	TAILQ_INSERT_TAIL(&batch->queue, call, link);
	batch->waiting++;
	/* Enough wait for a statement of their own beside the running ones. If the pool refuses
	 * it they stay queued, never answered from in here: a running statement's end sends or
	 * fails them. */
	if (!batch_send_waiting(batch))
		log_debug("intake: %d creates wait, the pool refused their statement", batch->waiting);
	batch_linger(batch);
	return true;
}

void
db_batch_stats(const DbBatch *batch, DbBatchStats *out)
{
	out->statements = batch->statements;
	out->calls = batch->calls;
	out->split = batch->split;
	out->waiting = batch->waiting;
}

int
db_batch_expire(DbBatch *batch, int max_wait_ms)
{
	double cutoff = monotonic_seconds() - max_wait_ms / 1000.0;
	BatchCall *call;
	int n = 0;

	/* FIFO: the oldest are at the head. */
	while ((call = TAILQ_FIRST(&batch->queue)) && call->queued_at <= cutoff) {
		TAILQ_REMOVE(&batch->queue, call, link);
		batch->waiting--;
		n++;
		call_fail(call, DB_TIMEOUT);
		call_free(call);
	}
	return n;
}

/*
 *********************************
 * Sending
 *********************************
 */

/* Send calls[0..n-1] as one statement; false (calls untouched) when the pool refused it. */
static bool
batch_send(DbBatch *batch, BatchCall **calls, int n)
{
	BatchRun *run = malloc(sizeof(*run) + (size_t)n * sizeof(run->calls[0]));

	if (!run)
		return false;
	run->batch = batch;
	run->n = n;
	memcpy(run->calls, calls, (size_t)n * sizeof(calls[0]));
	if (!batch_submit_run(batch, run)) {
		free(run);
		return false;
	}
	LIST_INSERT_HEAD(&batch->running, run, link);
	batch->inflight++;
	batch->statements++;
	return true;
}

/* The statement of a run: the single one, or the batch one with a column array per parameter. */
static bool
batch_submit_run(DbBatch *batch, BatchRun *run)
{
	int np = batch->cfg.nparams;
	const char **column;
	char **arrays;
	int *lengths, *formats;
	bool ok;

	if (run->n == 1)
		return db_pool_submit_statement(batch->pool, &batch->single, np,
						(const char *const *)run->calls[0]->params, NULL, NULL, batch_run_done, run);
	column = calloc((size_t)run->n, sizeof(*column));
	arrays = calloc((size_t)np, sizeof(*arrays));
	lengths = calloc((size_t)np, sizeof(*lengths));
	formats = calloc((size_t)np, sizeof(*formats));
	ok = column && arrays && lengths && formats;
	for (int k = 0; ok && k < np; k++) {
		for (int i = 0; i < run->n; i++)
			column[i] = run->calls[i]->params[k];
		ok = batch_array(batch->cfg.elem ? batch->cfg.elem[k] : PG_ARRAY_LITERAL, column, (size_t)run->n,
				 &arrays[k], &lengths[k], &formats[k]);
	}
	ok = ok && db_pool_submit_statement(batch->pool, &batch->many, np, (const char *const *)arrays, lengths,
					    formats, batch_run_done, run);
	for (int k = 0; arrays && k < np; k++)
		free(arrays[k]);
	free(arrays);
	free(lengths);
	free(formats);
	free(column);
	return ok;
}

/* One parameter of a batch: the array of its calls' values, as a literal or in binary. */
static bool
batch_array(PgArrayElem elem, const char *const *values, size_t n, char **out, int *len, int *format)
{
	size_t bytes = 0;

	if (elem == PG_ARRAY_LITERAL)
		return (*out = pg_array_literal(values, n)) != NULL;
	*out = (char *)pg_array_binary(values, n, elem, &bytes);
	if (!*out || bytes > INT_MAX)
		return false;
	*len = (int)bytes;
	*format = 1;
	return true;
}

/* Whether a statement of n calls may start now: a slot is free, and n is a batch worth a
 * transaction of its own (items_min), or nothing runs and the oldest has lingered. */
static bool
batch_may_send(const DbBatch *batch, int n)
{
	return batch->inflight < batch->cfg.inflight_max &&
	       (n >= batch->cfg.items_min || (batch->inflight == 0 && batch_lingered(batch)));
}

/* Whether the calls waiting have waited long enough for others while none ran. At 16 clients
 * the moments when none runs came often enough that a tenth of the transactions carried one
 * case, each costing a whole transaction's fixed CPU (bench/RESULTS.md). */
static bool
batch_lingered(const DbBatch *batch)
{
	const BatchCall *oldest = TAILQ_FIRST(&batch->queue);

	if (!batch->linger)
		return true;
	return oldest && linger_left(batch, oldest) <= 0;
}

/* Seconds until the oldest waiting call has lingered (<= 0: it has). */
static double
linger_left(const DbBatch *batch, const BatchCall *oldest)
{
	return oldest->queued_at + batch->cfg.linger_us / 1e6 - monotonic_seconds();
}

/* With calls waiting and none running, wake when the oldest has lingered: nothing else would
 * send them. */
static void
batch_linger(DbBatch *batch)
{
	const BatchCall *oldest = TAILQ_FIRST(&batch->queue);
	double left;
	struct timeval tv;

	if (!batch->linger || !oldest || batch->inflight > 0)
		return;
	left = linger_left(batch, oldest);
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	evtimer_add(batch->linger, &tv);
}

static void
linger_cb(evutil_socket_t fd, short what, void *arg)
{
	DbBatch *batch = arg;

	(void)fd;
	(void)what;
	/* a timer of ours, no caller to refuse to: if the pool refuses, answer now */
	if (!batch_send_waiting(batch))
		batch_fail_waiting(batch, DB_UNAVAILABLE);
	batch_linger(batch);
}

/* While a statement may start, send what waits, up to items_max calls at a time. False when
 * the pool refused one: its calls stay where they wait; nothing is answered from in here,
 * since db_batch_submit calls it too. */
static bool
batch_send_waiting(DbBatch *batch)
{
	BatchCall *calls[batch->cfg.items_max];

	while (batch->waiting > 0 && batch_may_send(batch, batch->waiting)) {
		int n = batch_pick(batch, calls);

		if (!batch_send(batch, calls, n))
			return false;
		for (int i = 0; i < n; i++)
			TAILQ_REMOVE(&batch->queue, calls[i], link);
		batch->waiting -= n;
	}
	return true;
}

/* The calls of the next statement, oldest first, up to items_max; left in the queue. A call
 * whose key one picked already has waits for a later statement (never the oldest: so at least
 * one is picked). */
static int
batch_pick(const DbBatch *batch, BatchCall **calls)
{
	BatchCall *call;
	int n = 0;

	TAILQ_FOREACH(call, &batch->queue, link) {
		if (n == batch->cfg.items_max)
			break;
		if (!batch_key_taken(batch, calls, n, call))
			calls[n++] = call;
	}
	return n;
}

/* Whether the config's key names at most two of its parameters. */
static bool
batch_keys_valid(const DbBatchConfig *cfg)
{
	if (cfg->nkeys < 0 || cfg->nkeys > (int)(sizeof(cfg->key) / sizeof(cfg->key[0])))
		return false;
	for (int k = 0; k < cfg->nkeys; k++)
		if (cfg->key[k] < 0 || cfg->key[k] >= cfg->nparams)
			return false;
	return true;
}

/* Whether call has the key of one of calls[0..n-1] (DbBatchConfig.key). */
static bool
batch_key_taken(const DbBatch *batch, BatchCall *const *calls, int n, const BatchCall *call)
{
	const int *key = batch->cfg.key;
	int nkeys = batch->cfg.nkeys;

	if (nkeys == 0 || !call->params[key[nkeys - 1]])
		return false;
	for (int i = 0; i < n; i++) {
		int k = 0;

		while (k < nkeys && calls[i]->params[key[k]] && call->params[key[k]] &&
		       strcmp(calls[i]->params[key[k]], call->params[key[k]]) == 0)
			k++;
		if (k == nkeys)
			return true;
	}
	return false;
}

/* Answers every waiting call with status now. */
static void
batch_fail_waiting(DbBatch *batch, DbStatus status)
{
	BatchCall *call;

	while ((call = TAILQ_FIRST(&batch->queue))) {
		TAILQ_REMOVE(&batch->queue, call, link);
		batch->waiting--;
		call_fail(call, status);
		call_free(call);
	}
}

/*
 *********************************
 * Answers
 *********************************
 */

static void
batch_run_done(const DbResult *result, void *arg)
{
	BatchRun *run = arg;
	DbBatch *batch = run->batch;

	if (batch) {
		LIST_REMOVE(run, link);
		batch->inflight--;
		/* the next statement goes before this one's answers are written; if the pool refuses
		 * it (the database is down), nothing else would send what waits */
		if (!batch_send_waiting(batch))
			batch_fail_waiting(batch, DB_UNAVAILABLE);
		batch_linger(batch);
	}
	if (batch && result->status == DB_FAILED && run->n > 1)
		batch_run_split(batch, run, result);
	else
		batch_run_answer(batch, run, result);
	free(run);
}

/* Each call its row: row 0 of a lone call; the row naming it (last column) of a batch. */
static void
batch_run_answer(DbBatch *batch, BatchRun *run, const DbResult *result)
{
	int rows = result->status == DB_OK ? PQntuples(result->res) : 0;
	int last = result->status == DB_OK ? PQnfields(result->res) - 1 : 0;

	if (result->status == DB_OK && run->n > 1) {
		for (int r = 0; r < rows; r++) {
			int i = atoi(PQgetvalue(result->res, r, last));

			if (i < 0 || i >= run->n || !run->calls[i])
				continue;
			batch_count_answer(batch);
			run->calls[i]->cb(result, r, run->calls[i]->arg);
			call_free(run->calls[i]);
			run->calls[i] = NULL;
		}
	}
	for (int i = 0; i < run->n; i++) {
		if (!run->calls[i])
			continue;
		batch_count_answer(batch);
		if (result->status == DB_OK && run->n > 1) {
			log_error("a batch of %d answered no row for call %d", run->n, i);
			call_fail(run->calls[i], DB_FAILED);
		} else {
			run->calls[i]->cb(result, 0, run->calls[i]->arg);
		}
		call_free(run->calls[i]);
	}
}

/* A call answered by a statement of the batch: counted once, not again for the statement
 * that re-sends it. */
static void
batch_count_answer(DbBatch *batch)
{
	if (batch)
		batch->calls++;
}

/* Nothing of a failed batch committed: each of its calls is sent again, alone. */
static void
batch_run_split(DbBatch *batch, BatchRun *run, const DbResult *result)
{
	const char *expected = batch->cfg.split_expected;

	log_write(expected && strcmp(result->sqlstate, expected) == 0 ? LOG_INFO : LOG_WARN,
		  "a batch of %d calls failed (%s %s): sending each alone", run->n, result->sqlstate,
		  result->message);
	batch->split++;
	for (int i = 0; i < run->n; i++)
		call_send_alone(batch, run->calls[i]);
}

/* Send one call of a finished batch again, as a statement of its own; when it cannot be (the
 * batch is freed, the pool refuses it), answer it now. */
static void
call_send_alone(DbBatch *batch, BatchCall *call)
{
	if (batch && batch_send(batch, &call, 1))
		return;
	batch_count_answer(batch);
	call_fail(call, DB_UNAVAILABLE);
	call_free(call);
}

/*
 *********************************
 * Calls
 *********************************
 */

static BatchCall *
call_new(const DbBatch *batch, const char *const *params, DbBatchCallback cb, void *arg)
{
	BatchCall *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->cb = cb;
	call->arg = arg;
	call->queued_at = monotonic_seconds();
	call->nparams = batch->cfg.nparams;
	call->params = strv_copy(params, NULL, (size_t)batch->cfg.nparams);
	if (!call->params) {
		free(call);
		return NULL;
	}
	return call;
}

/* An answer without a row: the database is gone, the call waited too long, or the batch
 * answered nothing for it. */
static void
call_fail(BatchCall *call, DbStatus status)
{
	DbResult r = {status, NULL, status == DB_FAILED ? "XX000" : "",
		      status == DB_FAILED ? "the batch answered no row for this call" : ""};

	call->cb(&r, 0, call->arg);
}

static void
call_free(BatchCall *call)
{
	free(call->params);
	free(call);
}
