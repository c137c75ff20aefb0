/*
 * Unit tests for db/reloader: first load retried until the pool takes it, version
 * check then load, NOTIFY handling, the last good object kept through failures and
 * refusals, and reload_then releasing a waiter only after a load that started after
 * the call has ended (or at once when none can start, and at stop).
 *
 * The pool and the listener are replaced at link time: this file defines db_pool_submit
 * and db_listener_add, so the linker takes them from here and never pulls db/pool.o or
 * db/listen.o out of hotline_shell. The test decides when each query answers and with what rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "db/reloader.h"

#define MAX_PENDING 8

typedef struct Pending {
	const char *sql;
	DbCallback cb;
	void *arg;
} Pending;

/* The fake pool. */
static struct {
	bool refuse;        /* db_pool_submit answers false (database away) */
	Pending q[MAX_PENDING];
	int n;
	DbListenCallback notify;
	void *notify_arg;
} pool;

static struct event_base *base;
static Reloader r;
static int done_calls;

static void *build_cb(const PGresult *res);
static void free_cb(void *object);

static const ReloaderConfig cfg = {
	.name = "test",
	.what = "things",
	.version_sql = "VERSION",
	.load_sql = "LOAD",
	.build = build_cb,
	.free = free_cb,
	.poll_ms = 1,
	.channel = "changed",
};

bool
db_pool_submit(DbPool *p, const char *sql, int nparams, const char *const *params, DbCallback cb, void *arg)
{
	(void)p;
	(void)nparams;
	(void)params;
	if (pool.refuse || pool.n == MAX_PENDING)
		return false;
	pool.q[pool.n++] = (Pending){sql, cb, arg};
	return true;
}

bool
db_listener_add(DbListener *l, const char *channel, DbListenCallback cb, void *arg)
{
	(void)l;
	assert_string_equal(channel, "changed");
	pool.notify = cb;
	pool.notify_arg = arg;
	return true;
}

/* The object is a copy of column 1; the row is refused when column 1 is "bad". */
static void *
build_cb(const PGresult *res)
{
	const char *text = PQgetvalue(res, 0, 1);

	return strcmp(text, "bad") == 0 ? NULL : strdup(text);
}

static void
free_cb(void *object)
{
	free(object);
}

static void
done_cb(void *arg)
{
	(void)arg;
	done_calls++;
}

/* The oldest query waiting for the fake database, which must be `sql`. */
static Pending
take(const char *sql)
{
	Pending p;

	assert_true(pool.n > 0);
	p = pool.q[0];
	memmove(pool.q, pool.q + 1, sizeof(pool.q[0]) * (size_t)--pool.n);
	assert_string_equal(p.sql, sql);
	return p;
}

/* Answer the oldest query with one row of ncols (1 or 2) text columns. */
static void
answer(const char *sql, int ncols, const char *col0, const char *col1)
{
	Pending p = take(sql);
	PGresAttDesc attrs[2] = {{.name = "a", .format = 0}, {.name = "b", .format = 0}};
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	const char *cols[2] = {col0, col1};
	DbResult result = {DB_OK, res, "", ""};

	assert_non_null(res);
	assert_true(PQsetResultAttrs(res, ncols, attrs));
	for (int i = 0; i < ncols; i++)
		assert_true(PQsetvalue(res, 0, i, (char *)cols[i], cols[i] ? (int)strlen(cols[i]) : -1));
	p.cb(&result, p.arg);
	PQclear(res);
}

static void
answer_failed(const char *sql)
{
	Pending p = take(sql);
	DbResult result = {DB_UNAVAILABLE, NULL, "", ""};

	p.cb(&result, p.arg);
}

/* Run the loop until the reloader's timer has fired once. */
static void
tick(void)
{
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
}

static const char *
current(void)
{
	return reloader_current(&r);
}

static int
setup(void **unused)
{
	(void)unused;
	memset(&pool, 0, sizeof(pool));
	done_calls = 0;
	base = event_base_new();
	assert_non_null(base);
	assert_true(reloader_start(&r, &cfg, base, NULL, NULL));
	return 0;
}

/* Started, with "v1"/"A" loaded and nothing in flight. */
static int
setup_loaded(void **state)
{
	setup(state);
	tick();
	answer("LOAD", 2, "v1", "A");
	assert_string_equal(current(), "A");
	return 0;
}

static int
teardown(void **unused)
{
	(void)unused;
	reloader_stop(&r);
	/* What the database still owed is answered after the stop, as db_pool_free does. */
	while (pool.n > 0)
		answer_failed(pool.q[0].sql);
	event_base_free(base);
	return 0;
}

static void
test_first_load_retried_until_the_pool_takes_it(void **unused)
{
	(void)unused;
	assert_null(current());
	pool.refuse = true;
	tick();
	assert_int_equal(pool.n, 0);
	pool.refuse = false;
	tick();
	answer_failed("LOAD");
	assert_null(current());
	tick();
	answer("LOAD", 2, "v1", "A");
	assert_string_equal(current(), "A");
	assert_string_equal(r.version, "v1");
}

static void
test_check_loads_only_when_the_version_moved(void **unused)
{
	(void)unused;
	tick();
	answer("VERSION", 1, "v1", NULL);
	assert_int_equal(pool.n, 0);
	tick();
	answer("VERSION", 1, "v2", NULL);
	answer("LOAD", 2, "v2", "B");
	assert_string_equal(current(), "B");
	assert_int_equal(pool.n, 0);
}

static void
test_failures_and_refusals_keep_the_last_object(void **unused)
{
	(void)unused;
	tick();
	answer_failed("VERSION");
	reloader_reload(&r);
	answer_failed("LOAD");
	assert_string_equal(current(), "A");
	reloader_reload(&r);
	answer("LOAD", 2, "v2", "bad");
	assert_string_equal(current(), "A");
	/* The version stays the refused row's predecessor, so the next check tries again. */
	assert_string_equal(r.version, "v1");
	tick();
	answer("VERSION", 1, "v2", NULL);
	answer("LOAD", 2, "v2", "B");
	assert_string_equal(current(), "B");
}

static void
test_notify(void **unused)
{
	(void)unused;
	pool.notify("v1", pool.notify_arg);
	assert_int_equal(pool.n, 0);
	pool.notify("v2", pool.notify_arg);
	/* While that load runs, a reconnect (NULL payload) asks for one more. */
	pool.notify(NULL, pool.notify_arg);
	assert_int_equal(pool.n, 1);
	answer("LOAD", 2, "v2", "B");
	answer("LOAD", 2, "v2", "B");
	assert_int_equal(pool.n, 0);
	assert_string_equal(current(), "B");
}

static void
test_reload_then_waits_for_a_load_started_after_the_call(void **unused)
{
	(void)unused;
	reloader_reload(&r);
	reloader_reload_then(&r, done_cb, NULL);
	/* The load in flight may predate the caller's write: not that one... */
	answer("LOAD", 2, "v1", "A");
	assert_int_equal(done_calls, 0);
	/* ...the next, which started when it ended. */
	answer("LOAD", 2, "v2", "B");
	assert_int_equal(done_calls, 1);
	assert_string_equal(current(), "B");
}

static void
test_reload_then_during_a_version_check(void **unused)
{
	(void)unused;
	tick();
	reloader_reload_then(&r, done_cb, NULL);
	reloader_reload_then(&r, done_cb, NULL);
	answer("VERSION", 1, "v1", NULL);
	assert_int_equal(done_calls, 0);
	answer("LOAD", 2, "v1", "A");
	assert_int_equal(done_calls, 2);
	assert_int_equal(pool.n, 0);
}

static void
test_reload_then_released_by_a_failed_load(void **unused)
{
	(void)unused;
	reloader_reload_then(&r, done_cb, NULL);
	assert_int_equal(done_calls, 0);
	answer_failed("LOAD");
	assert_int_equal(done_calls, 1);
	reloader_reload_then(&r, done_cb, NULL);
	answer("LOAD", 2, "v2", "bad");
	assert_int_equal(done_calls, 2);
	assert_string_equal(current(), "A");
}

static void
test_reload_then_at_once_when_no_load_can_start(void **unused)
{
	(void)unused;
	pool.refuse = true;
	reloader_reload_then(&r, done_cb, NULL);
	assert_int_equal(done_calls, 1);
}

/* A done that asks for another reload_then: the new waiter waits for the next load. */
static void
again_cb(void *arg)
{
	(void)arg;
	done_calls++;
	reloader_reload_then(&r, done_cb, NULL);
}

static void
test_reload_then_from_a_done(void **unused)
{
	(void)unused;
	reloader_reload_then(&r, again_cb, NULL);
	answer("LOAD", 2, "v2", "B");
	assert_int_equal(done_calls, 1);
	answer("LOAD", 2, "v2", "B");
	assert_int_equal(done_calls, 2);
	assert_int_equal(pool.n, 0);
}

static void
test_stop_releases_waiters_and_ignores_late_answers(void **unused)
{
	(void)unused;
	reloader_reload_then(&r, done_cb, NULL);
	reloader_stop(&r);
	assert_int_equal(done_calls, 1);
	assert_null(current());
	answer("LOAD", 2, "v2", "B"); /* must not be swapped in (and not leak) */
	assert_null(current());
	pool.notify(NULL, pool.notify_arg);
	assert_int_equal(pool.n, 0);
	reloader_reload_then(&r, done_cb, NULL);
	assert_int_equal(done_calls, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_load_retried_until_the_pool_takes_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_loads_only_when_the_version_moved, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_failures_and_refusals_keep_the_last_object, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_reload_then_waits_for_a_load_started_after_the_call, setup_loaded,
						teardown),
		cmocka_unit_test_setup_teardown(test_reload_then_during_a_version_check, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_reload_then_released_by_a_failed_load, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_reload_then_at_once_when_no_load_can_start, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_reload_then_from_a_done, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_stop_releases_waiters_and_ignores_late_answers, setup_loaded,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
