/*
 * Unit tests for log: each line is ONE write(2) (stderr is a datagram socket here, so each write
 * arrives as its own datagram), and control bytes of a message never reach the log raw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static int reader = -1, saved_stderr = -1;

static int
setup(void **state)
{
	int pair[2];

	(void)state;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0)
		return -1;
	saved_stderr = dup(STDERR_FILENO);
	dup2(pair[1], STDERR_FILENO);
	close(pair[1]);
	reader = pair[0];
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(reader);
	return 0;
}

/* The next datagram, NUL-terminated; "" when none is waiting. */
static const char *
next_write(void)
{
	static char buf[8192];
	ssize_t n = recv(reader, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_log_writes_one_line_with_one_write(void **state)
{
	const char *got;

	(void)state;
	log_info("req=%d %s %d", 7, "GET /v1/cases", 200);
	got = next_write();
	assert_non_null(strstr(got, " info req=7 GET /v1/cases 200\n"));
	assert_int_equal(got[strlen(got) - 1], '\n');
	assert_string_equal(next_write(), "");
}

static void
test_log_escapes_control_bytes_of_a_path(void **state)
{
	const char *got;

	(void)state;
	log_warn("path %s", "/v1/\x1b[31mred\x07\r\nfake 2026 error line\\x");
	got = next_write();
	assert_non_null(strstr(got, " warn path /v1/\\x1b[31mred\\x07\\x0d\\x0afake 2026 error line\\x5cx\n"));
	assert_null(strchr(got, '\x1b'));
	assert_null(strchr(got, '\x07'));
	assert_ptr_equal(strchr(got, '\n'), got + strlen(got) - 1);
}

static void
test_log_cuts_a_long_line_on_a_character_boundary(void **state)
{
	char msg[6000];
	const char *got;
	size_t n;

	(void)state;
	for (size_t i = 0; i + 3 < sizeof(msg); i += 3)
		memcpy(msg + i, "\xe9\x95\xbf", 3); /* 长 */
	msg[sizeof(msg) - 3] = '\0';
	log_error("%s", msg);
	got = next_write();
	n = strlen(got);
	assert_true(n <= 4096);
	assert_int_equal(got[n - 1], '\n');
	assert_memory_equal(got + n - 4, "\xe9\x95\xbf", 3); /* the last character whole */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_writes_one_line_with_one_write),
		cmocka_unit_test(test_log_escapes_control_bytes_of_a_path),
		cmocka_unit_test(test_log_cuts_a_long_line_on_a_character_boundary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
