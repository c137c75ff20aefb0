/* Unit tests for core/local_time: instants written as sql's case_ts writes them, in several zones
 * (the expected texts are PostgreSQL's to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') for the same
 * instants and TimeZone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/local_time.h"

static void
zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void
assert_text(time_t t, const char *want)
{
	char buf[LOCAL_TIME_TEXT];

	assert_true(local_time_text(t, buf, sizeof(buf)));
	assert_string_equal(buf, want);
}

enum { DEC_5_2026 = 1796428800, JUL_1_2026 = 1782864000 }; /* 00:00:00 UTC */

static void
test_shanghai_and_utc(void **state)
{
	(void)state;
	zone("Asia/Shanghai");
	assert_text(DEC_5_2026, "2026-12-05T08:00:00+08:00");
	assert_text(DEC_5_2026 + 86399, "2026-12-06T07:59:59+08:00");
	assert_text(0, "1970-01-01T08:00:00+08:00");
	zone("UTC");
	assert_text(DEC_5_2026, "2026-12-05T00:00:00+00:00");
	assert_text(DEC_5_2026 + 86399, "2026-12-05T23:59:59+00:00");
}

static void
test_negative_and_half_hour_offsets(void **state)
{
	(void)state;
	zone("America/St_Johns");
	assert_text(DEC_5_2026, "2026-12-04T20:30:00-03:30");
	assert_text(JUL_1_2026, "2026-06-30T21:30:00-02:30");
	assert_text(0, "1969-12-31T20:30:00-03:30");
	zone("Asia/Kolkata");
	assert_text(DEC_5_2026, "2026-12-05T05:30:00+05:30");
	zone("America/New_York");
	assert_text(DEC_5_2026, "2026-12-04T19:00:00-05:00");
}

static void
test_summer_time(void **state)
{
	(void)state;
	zone("Europe/Berlin");
	assert_text(JUL_1_2026, "2026-07-01T02:00:00+02:00");
	assert_text(DEC_5_2026, "2026-12-05T01:00:00+01:00");
	zone("America/New_York");
	assert_text(JUL_1_2026, "2026-06-30T20:00:00-04:00");
}

static void
test_short_buffer_refused(void **state)
{
	char buf[LOCAL_TIME_TEXT - 1];

	(void)state;
	zone("Asia/Shanghai");
	assert_false(local_time_text(0, buf, sizeof(buf)));
}

/* The memo answers what local_time_text answers, for instants sharing a slot too, and refuses
 * what it refuses. */
static void
test_memo_answers_as_local_time_text(void **state)
{
	static const time_t instants[] = {DEC_5_2026, DEC_5_2026 + LOCAL_TIME_MEMO_SLOTS, DEC_5_2026, JUL_1_2026,
					  0, -1, -LOCAL_TIME_MEMO_SLOTS - 1, DEC_5_2026 + LOCAL_TIME_MEMO_SLOTS};
	LocalTimeMemo *memo = calloc(1, sizeof(*memo));
	char got[LOCAL_TIME_TEXT], want[LOCAL_TIME_TEXT], shortbuf[LOCAL_TIME_TEXT - 1];

	(void)state;
	assert_non_null(memo);
	zone("Europe/Berlin");
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
			assert_true(local_time_text(instants[i], want, sizeof(want)));
			assert_true(local_time_memo_text(memo, instants[i], got, sizeof(got)));
			assert_string_equal(got, want);
		}
	}
	/* more instants than slots, whole days apart (one slot's worth under a plain modulo) */
	for (int round = 0; round < 2; round++) {
		for (time_t day = 0; day < 3 * LOCAL_TIME_MEMO_SLOTS; day++) {
			time_t t = DEC_5_2026 + 86399 + (round ? -day : day) * 86400;

			assert_true(local_time_text(t, want, sizeof(want)));
			assert_true(local_time_memo_text(memo, t, got, sizeof(got)));
			assert_string_equal(got, want);
		}
	}
	assert_false(local_time_memo_text(memo, DEC_5_2026, shortbuf, sizeof(shortbuf)));
	free(memo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shanghai_and_utc),
		cmocka_unit_test(test_negative_and_half_hour_offsets),
		cmocka_unit_test(test_summer_time),
		cmocka_unit_test(test_short_buffer_refused),
		cmocka_unit_test(test_memo_answers_as_local_time_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
