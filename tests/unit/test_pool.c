/*
 * Unit tests for db/pool against a stand-in PostgreSQL: a thread that answers libpq's startup
 * on a unix socket (AuthenticationOk, ReadyForQuery), then says nothing more until the test
 * tells it to hang up, so the pool holds one idle connection that dies behind its back.
 *
 * The promise under test (pool.h): db_pool_submit never calls a callback from inside itself,
 * even when the connection it hands the query to fails to send it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "db/pool.h"

typedef struct FakePg {
	char dir[64];
	char path[100];
	int listener;
	int hang_up[2];      /* a byte written to [1] makes the stand-in close its connection */
	pthread_t thread;
} FakePg;

typedef struct Answer {
	bool in_submit;      /* set by the test around db_pool_submit */
	int calls;
	bool called_inside;  /* a callback ran while in_submit */
	DbStatus status;
} Answer;

static bool
read_full(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* Accept one client, read its StartupMessage, let it in, then close when told to. */
static void *
fake_pg_serve(void *arg)
{
	static const unsigned char welcome[] = {'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'};
	FakePg *pg = arg;
	int fd = accept(pg->listener, NULL, NULL);
	unsigned char len[4], rest[1024];
	uint32_t n;

	if (fd < 0)
		return NULL;
	if (read_full(fd, len, 4)) {
		n = (uint32_t)len[0] << 24 | (uint32_t)len[1] << 16 | (uint32_t)len[2] << 8 | len[3];
		if (n >= 4 && n - 4 <= sizeof(rest) && read_full(fd, rest, n - 4) &&
		    write(fd, welcome, sizeof(welcome)) == (ssize_t)sizeof(welcome)) {
			char byte;

			(void)!read(pg->hang_up[0], &byte, 1);
		}
	}
	close(fd);
	return NULL;
}

static void
fake_pg_start(FakePg *pg)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	snprintf(pg->dir, sizeof(pg->dir), "/tmp/hl-test-pool-XXXXXX");
	assert_non_null(mkdtemp(pg->dir));
	snprintf(pg->path, sizeof(pg->path), "%s/.s.PGSQL.5432", pg->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", pg->path);
	pg->listener = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(pg->listener >= 0);
	assert_int_equal(bind(pg->listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(pg->listener, 4), 0);
	assert_int_equal(pipe(pg->hang_up), 0);
	assert_int_equal(pthread_create(&pg->thread, NULL, fake_pg_serve, pg), 0);
}

/* The stand-in closes its end of the connection; returns once it has. */
static void
fake_pg_hang_up(FakePg *pg)
{
	assert_int_equal(write(pg->hang_up[1], "x", 1), 1);
	pthread_join(pg->thread, NULL);
}

static void
fake_pg_stop(FakePg *pg)
{
	close(pg->hang_up[0]);
	close(pg->hang_up[1]);
	close(pg->listener);
	unlink(pg->path);
	rmdir(pg->dir);
}

static void
answer_cb(const DbResult *r, void *arg)
{
	Answer *a = arg;

	a->calls++;
	a->called_inside |= a->in_submit;
	a->status = r->status;
}

static void
test_failed_send_answers_on_the_next_turn_not_inside_submit(void **state)
{
	FakePg pg;
	struct event_base *base = event_base_new();
	char conninfo[256];
	DbPoolConfig cfg = {"test", conninfo, "UTC", 1, 8, 1000, NULL};
	DbPool *pool;
	Answer a = {0};
	char sql[20000];

	(void)state;
	fake_pg_start(&pg);
	snprintf(conninfo, sizeof(conninfo), "host=%s port=5432 user=test dbname=test", pg.dir);
	pool = db_pool_new(base, &cfg);
	assert_non_null(pool);
	for (int i = 0; i < 1000 && !db_pool_ready(pool); i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_true(db_pool_ready(pool));

	/* The server goes away while the connection idles; the loop has not run since, so the
	 * pool still counts it up. A statement over libpq's 8 KiB output buffer (a batch of
	 * cases is) is written in pieces: the first write fails quietly, the next finds the
	 * connection dead, and the send fails inside db_pool_submit. */
	fake_pg_hang_up(&pg);
	memset(sql, ' ', sizeof(sql) - 1);
	memcpy(sql, "SELECT 1", 8);
	sql[sizeof(sql) - 1] = '\0';
	a.in_submit = true;
	assert_true(db_pool_submit(pool, sql, 0, NULL, answer_cb, &a));
	a.in_submit = false;
	assert_false(a.called_inside);
	assert_int_equal(a.calls, 0);

	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, DB_UNAVAILABLE);

	db_pool_free(pool);
	event_base_free(base);
	fake_pg_stop(&pg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_send_answers_on_the_next_turn_not_inside_submit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
