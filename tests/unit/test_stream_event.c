/* Unit tests of core/stream_event: SSE frames, who reads them, Last-Event-ID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stream_event.h"

static void
test_frame(void **state)
{
	TextBuf t = {0};
	StreamEvent ev = {42, 7, "20261128-000007", "dispatch", "dispatched", "urban_mgmt",
			  "2026-11-28T09:30:00+08:00"};

	(void)state;
	stream_event_format(&t, &ev);
	assert_false(t.failed);
	assert_string_equal(t.buf,
		"id: 42\nevent: case\ndata: {\"event_id\":42,\"case_id\":7,\"number\":\"20261128-000007\","
		"\"action\":\"dispatch\",\"state\":\"dispatched\",\"department\":\"urban_mgmt\","
		"\"at\":\"2026-11-28T09:30:00+08:00\"}\n\n");
	free(t.buf);
}

static void
test_frame_stays_one_line(void **state)
{
	TextBuf t = {0};
	StreamEvent ev = {1, 1, "n", "x\ny\r\n", "pending", NULL, "t"};

	(void)state;
	stream_event_format(&t, &ev);
	/* exactly the three field lines and the blank line: a newline in a value is escaped */
	assert_non_null(strstr(t.buf, "\"department\":null"));
	assert_string_equal(strchr(strstr(t.buf, "data: "), '\n'), "\n\n");
	free(t.buf);
}

static void
test_who_reads(void **state)
{
	(void)state;
	assert_true(stream_may_read(ROLE_OPERATOR, "", NULL, NULL));
	assert_true(stream_may_read(ROLE_MANAGER, "", "health", NULL));
	assert_true(stream_may_read(ROLE_DEPARTMENT, "health", "health", NULL));
	assert_false(stream_may_read(ROLE_DEPARTMENT, "health", "urban_mgmt", NULL));
	assert_false(stream_may_read(ROLE_DEPARTMENT, "health", NULL, NULL));
	/* co-handling departments read the case too, by whole code only */
	assert_true(stream_may_read(ROLE_DEPARTMENT, "health", "urban_mgmt", "housing,health"));
	assert_true(stream_may_read(ROLE_DEPARTMENT, "health", "urban_mgmt", "health"));
	assert_false(stream_may_read(ROLE_DEPARTMENT, "health", "urban_mgmt", "healthcare,xhealth,heal"));
	assert_false(stream_may_read(ROLE_DEPARTMENT, "health", "urban_mgmt", ""));
	assert_false(stream_may_read(ROLE_DEPARTMENT, "", "urban_mgmt", ","));
}

static void
test_last_event_id(void **state)
{
	int64_t id = -1;

	(void)state;
	assert_true(stream_last_event_id_parse("0", &id));
	assert_int_equal(id, 0);
	assert_true(stream_last_event_id_parse("123456789012345678", &id));
	assert_int_equal(id, 123456789012345678LL);
	assert_false(stream_last_event_id_parse("", &id));
	assert_false(stream_last_event_id_parse("-1", &id));
	assert_false(stream_last_event_id_parse("12a", &id));
	assert_false(stream_last_event_id_parse(" 12", &id));
	assert_false(stream_last_event_id_parse("1234567890123456789", &id));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_frame_stays_one_line),
		cmocka_unit_test(test_who_reads),
		cmocka_unit_test(test_last_event_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
