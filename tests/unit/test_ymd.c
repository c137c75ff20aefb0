/* Unit tests for core/ymd: the one YYYY-MM-DD validator of requests and the client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ymd.h"

static void
test_real_dates_accepted(void **state)
{
	static const char *const good[] = {"2026-01-01", "2024-02-29", "2000-02-29", "2026-12-31", "1000-01-01",
					   "9999-12-31", "2026-04-30"};
	Ymd d = {0, 0, 0};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(ymd_parse(good[i], NULL));
	assert_true(ymd_parse("2024-02-29", &d));
	assert_int_equal(d.year, 2024);
	assert_int_equal(d.month, 2);
	assert_int_equal(d.day, 29);
}

static void
test_malformed_and_impossible_refused(void **state)
{
	static const char *const bad[] = {
		"", "2026-1-01", "2026-01-1", "2026/01/01", "2026-00-10", "2026-13-01", "2026-04-31",
		"2025-02-29", "1900-02-29", "2026-01-32", "0999-01-01", "0000-01-01", "2026-01-01T00",
		" 2026-01-01", "2026-01-0a", "+026-01-01", "2026-01-01 ", "2026--1-01", "20260-1-01",
	};
	Ymd d = {1, 2, 3};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ymd_parse(bad[i], &d));
	assert_false(ymd_parse(NULL, &d));
	assert_int_equal(d.year, 1); /* untouched on failure */
}

static void
test_month_lengths(void **state)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	(void)state;
	for (int m = 1; m <= 12; m++)
		assert_int_equal(ymd_days_in_month(2026, m), days[m - 1]);
	assert_int_equal(ymd_days_in_month(2024, 2), 29);
	assert_int_equal(ymd_days_in_month(2000, 2), 29);
	assert_int_equal(ymd_days_in_month(2100, 2), 28);
	assert_true(ymd_is_leap(2400));
	assert_false(ymd_is_leap(1900));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_dates_accepted),
		cmocka_unit_test(test_malformed_and_impossible_refused),
		cmocka_unit_test(test_month_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
