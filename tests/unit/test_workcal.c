/*
 * test_workcal: durations, calendars and working-day deadlines.
 *
 * Expected instants are written as RFC 3339 text and were computed apart
 * from this code (Python zoneinfo over the official schedules). The default
 * calendars are read from sql/004_calendar_sla.sql, so the shipped data is
 * what gets tested. Runs in "CST-8", the POSIX spelling of UTC+8 without
 * summer time, which equals Asia/Shanghai for these years and needs no tzdata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calendar_fixtures.h"

#include "core/workcal.h"

typedef struct Fixture {
	Workcal *both; /* 2025 and 2026 from the migration */
	Workcal *only2025;
	WorkcalYear y2025, y2026;
	json_object *json2025, *json2026;
} Fixture;

static void
assert_time(time_t got, const char *want)
{
	char buf[64];
	struct tm tm;

	if (got == at(want))
		return;
	localtime_r(&got, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
	fail_msg("got %s, want %s", buf, want);
}

static int
setup(void **state)
{
	Fixture *fx = calloc(1, sizeof(*fx));
	WorkcalYear both[2];
	ApiError err;

	assert_non_null(fx);
	fx->json2025 = migration_json("SELECT calendar_put(2025, ");
	fx->json2026 = migration_json("SELECT calendar_put(2026, ");
	assert_non_null(fx->json2025);
	assert_non_null(fx->json2026);
	assert_true(workcal_year_from_json(2025, fx->json2025, &fx->y2025, &err));
	assert_true(workcal_year_from_json(2026, fx->json2026, &fx->y2026, &err));
	/* Out of order on purpose: the calendar sorts its years. */
	both[0] = fx->y2026;
	both[1] = fx->y2025;
	fx->both = workcal_new(both, 2);
	fx->only2025 = workcal_new(&fx->y2025, 1);
	assert_non_null(fx->both);
	assert_non_null(fx->only2025);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *fx = *state;

	workcal_free(fx->both);
	workcal_free(fx->only2025);
	json_object_put(fx->json2025);
	json_object_put(fx->json2026);
	free(fx);
	return 0;
}

static void
test_duration_parse_valid(void **state)
{
	static const struct {
		const char *text;
		DurationUnit unit;
		int amount;
	} cases[] = {
		{"45s", DURATION_SECONDS, 45},
		{"30m", DURATION_MINUTES, 30},
		{"2h", DURATION_HOURS, 2},
		{"24h", DURATION_HOURS, 24},
		{"1wd", DURATION_WORKDAYS, 1},
		{"10wd", DURATION_WORKDAYS, 10},
		{"365wd", DURATION_WORKDAYS, 365},
		{"8760h", DURATION_HOURS, 8760},
		{"525600m", DURATION_MINUTES, 525600},
		{"31536000s", DURATION_SECONDS, 31536000},
	};
	char buf[DURATION_TEXT_MAX];
	Duration d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(workcal_duration_parse(cases[i].text, "finish", &d, NULL));
		assert_int_equal(d.unit, cases[i].unit);
		assert_int_equal(d.amount, cases[i].amount);
		assert_string_equal(workcal_duration_format(d, buf, sizeof(buf)), cases[i].text);
	}
}

static void
test_duration_parse_errors(void **state)
{
	static const char *const bad[] = {
		"", "0wd", "0s", "0h", "00m", "+1h", "-1h", "1.5h", ".5h", " 1h", "1h ", "01h", "1 h",
		"1d", "1w", "1wdx", "1H", "1WD", "h", "wd", "1", "12", "1e3s", "0x10s", "1hh", "1sm",
		"366wd", "8761h", "525601m", "31536001s", "99999999999h", "1000000000wd",
	};
	ApiError err;
	Duration d = {DURATION_HOURS, 7};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (workcal_duration_parse(bad[i], "rules[1].finish", &d, &err))
			fail_msg("\"%s\" parsed", bad[i]);
		assert_int_equal(err.status, 422);
		assert_string_equal(err.code, "invalid_field");
		assert_string_equal(err.field, "rules[1].finish");
	}
	assert_false(workcal_duration_parse(NULL, "rectify", &d, &err));
	assert_string_equal(err.field, "rectify");
	/* A refusal leaves the output alone. */
	assert_int_equal(d.unit, DURATION_HOURS);
	assert_int_equal(d.amount, 7);
}

/* The migration holds exactly the official schedules. */
static void
test_official_calendars(void **state)
{
	Fixture *fx = *state;
	json_object *h25, *w25, *h26, *w26;
	const char *workdays[] = {"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
				  "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
				  "2026-10-10"};
	int y, m, d;
	size_t i;

	assert_true(json_object_object_get_ex(fx->json2025, "holidays", &h25));
	assert_true(json_object_object_get_ex(fx->json2025, "workdays", &w25));
	assert_true(json_object_object_get_ex(fx->json2026, "holidays", &h26));
	assert_true(json_object_object_get_ex(fx->json2026, "workdays", &w26));
	/* 2025: 1 + 8 + 3 + 5 + 3 + 8 days off; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7. */
	assert_int_equal(json_object_array_length(h25), 28);
	assert_int_equal(json_object_array_length(w25), 5);
	assert_int_equal(json_object_array_length(h26), 33);
	assert_int_equal(json_object_array_length(w26), 6);
	/* Every make-up workday is a weekend day that now works. */
	for (i = 0; i < sizeof(workdays) / sizeof(workdays[0]); i++) {
		assert_int_equal(sscanf(workdays[i], "%d-%d-%d", &y, &m, &d), 3);
		assert_true(workcal_is_workday(fx->both, y, m, d));
		assert_false(workcal_is_workday(NULL, y, m, d));
	}
	/* Each block's first and last day rests, the days around it work. */
	assert_false(workcal_is_workday(fx->both, 2025, 1, 28));
	assert_false(workcal_is_workday(fx->both, 2025, 2, 4));
	assert_true(workcal_is_workday(fx->both, 2025, 2, 5));
	assert_false(workcal_is_workday(fx->both, 2025, 10, 8));
	assert_true(workcal_is_workday(fx->both, 2025, 10, 9));
	assert_true(workcal_is_workday(fx->both, 2025, 9, 30));
	assert_false(workcal_is_workday(fx->both, 2026, 2, 15));
	assert_false(workcal_is_workday(fx->both, 2026, 2, 23));
	assert_true(workcal_is_workday(fx->both, 2026, 2, 24));
	assert_false(workcal_is_workday(fx->both, 2026, 5, 5));
	assert_false(workcal_is_workday(fx->both, 2026, 6, 19));
	assert_false(workcal_is_workday(fx->both, 2026, 9, 25));
	assert_false(workcal_is_workday(fx->both, 2026, 10, 7));
	assert_true(workcal_is_workday(fx->both, 2026, 10, 8));
}

static void
test_is_workday(void **state)
{
	Fixture *fx = *state;

	assert_true(workcal_is_workday(fx->both, 2026, 11, 27));   /* Friday */
	assert_false(workcal_is_workday(fx->both, 2026, 11, 28));  /* Saturday */
	assert_false(workcal_is_workday(fx->both, 2026, 11, 29));  /* Sunday */
	assert_false(workcal_is_workday(fx->both, 2026, 10, 1));   /* Thursday, National Day */
	assert_true(workcal_is_workday(NULL, 2026, 10, 1));        /* no calendar loaded */
	assert_true(workcal_is_workday(fx->only2025, 2026, 10, 1)); /* 2026 not loaded */
	/* 2027 is not loaded: weekends only, even on 1 October. */
	assert_true(workcal_is_workday(fx->both, 2027, 10, 1));
	assert_false(workcal_is_workday(fx->both, 2027, 10, 2));
	/* Invalid dates never work. */
	assert_false(workcal_is_workday(fx->both, 2026, 2, 29));
	assert_false(workcal_is_workday(fx->both, 2026, 13, 1));
	assert_false(workcal_is_workday(fx->both, 2026, 4, 31));
	assert_true(workcal_is_workday(NULL, 2028, 2, 29)); /* leap Tuesday */
}

/* N working days after the start day, for the official calendars. */
static void
test_add_workdays(void **state)
{
	Fixture *fx = *state;
	static const struct {
		const char *start;
		int n;
		const char *end;
	} cases[] = {
		/* API.md's example: Friday afternoon plus one working day. */
		{"2026-11-27T15:00:00+08:00", 1, "2026-11-30T23:59:59+08:00"},
		{"2026-11-27T15:00:00+08:00", 2, "2026-12-01T23:59:59+08:00"},
		{"2026-11-27T15:00:00+08:00", 10, "2026-12-11T23:59:59+08:00"},
		/* Spring Festival 2026: make-up Saturday 2/14, holidays 2/15-2/23. */
		{"2026-02-13T10:00:00+08:00", 1, "2026-02-14T23:59:59+08:00"},
		{"2026-02-13T10:00:00+08:00", 2, "2026-02-24T23:59:59+08:00"},
		{"2026-02-13T10:00:00+08:00", 5, "2026-02-27T23:59:59+08:00"},
		{"2026-02-14T09:00:00+08:00", 1, "2026-02-24T23:59:59+08:00"}, /* on a make-up day */
		{"2026-02-18T09:00:00+08:00", 1, "2026-02-24T23:59:59+08:00"}, /* on a holiday */
		{"2026-11-28T09:00:00+08:00", 1, "2026-11-30T23:59:59+08:00"}, /* on a Saturday */
		/* Spring Festival 2025: make-up Sunday 1/26. */
		{"2025-01-24T12:00:00+08:00", 1, "2025-01-26T23:59:59+08:00"},
		{"2025-01-24T12:00:00+08:00", 2, "2025-01-27T23:59:59+08:00"},
		{"2025-01-27T12:00:00+08:00", 1, "2025-02-05T23:59:59+08:00"},
		/* National Day 2025: make-up 9/28 (Sun) and 10/11 (Sat), 10/1-10/8 off. */
		{"2025-09-26T17:00:00+08:00", 1, "2025-09-28T23:59:59+08:00"},
		{"2025-09-26T17:00:00+08:00", 2, "2025-09-29T23:59:59+08:00"},
		{"2025-09-30T08:00:00+08:00", 1, "2025-10-09T23:59:59+08:00"},
		{"2025-09-30T08:00:00+08:00", 3, "2025-10-11T23:59:59+08:00"},
		{"2025-09-30T08:00:00+08:00", 4, "2025-10-13T23:59:59+08:00"},
		{"2025-09-30T08:00:00+08:00", 5, "2025-10-14T23:59:59+08:00"},
		/* Mid-Autumn and National Day 2026, Labour Day 2026. */
		{"2026-09-24T10:00:00+08:00", 1, "2026-09-28T23:59:59+08:00"},
		{"2026-09-30T10:00:00+08:00", 1, "2026-10-08T23:59:59+08:00"},
		{"2026-09-30T10:00:00+08:00", 3, "2026-10-10T23:59:59+08:00"},
		{"2026-04-30T10:00:00+08:00", 1, "2026-05-06T23:59:59+08:00"},
		{"2026-04-30T10:00:00+08:00", 2, "2026-05-07T23:59:59+08:00"},
		/* Year boundary into New Year 2026 (1/1-1/3 off, Sunday 1/4 works). */
		{"2025-12-31T12:00:00+08:00", 1, "2026-01-04T23:59:59+08:00"},
		/* The start day is the local day: Saturday 07:30 in Beijing. */
		{"2026-11-27T23:30:00+00:00", 1, "2026-11-30T23:59:59+08:00"},
		/* Long clocks across years; 2027 is not loaded. */
		{"2025-06-01T00:00:00+08:00", 250, "2026-06-03T23:59:59+08:00"},
		{"2026-01-01T00:00:00+08:00", 250, "2027-01-04T23:59:59+08:00"},
		{"2025-03-03T10:00:00+08:00", 365, "2026-08-19T23:59:59+08:00"},
		/* 0wd: the end of the start day. */
		{"2026-11-27T15:00:00+08:00", 0, "2026-11-27T23:59:59+08:00"},
		{"2026-10-01T15:00:00+08:00", 0, "2026-10-01T23:59:59+08:00"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t got = workcal_add(fx->both, at(cases[i].start),
					 (Duration){DURATION_WORKDAYS, cases[i].n});

		assert_time(got, cases[i].end);
	}
}

static void
test_add_unloaded_years(void **state)
{
	Fixture *fx = *state;
	Duration one = {DURATION_WORKDAYS, 1};

	/* 2026 not loaded: 1 January 2026 is an ordinary Thursday. */
	assert_time(workcal_add(fx->only2025, at("2025-12-31T12:00:00+08:00"), one),
		    "2026-01-01T23:59:59+08:00");
	assert_time(workcal_add(NULL, at("2027-10-01T12:00:00+08:00"), one), "2027-10-04T23:59:59+08:00");
	assert_time(workcal_add(fx->both, at("2027-12-31T12:00:00+08:00"), one),
		    "2028-01-03T23:59:59+08:00");
	assert_time(workcal_add(NULL, at("2026-10-01T12:00:00+08:00"), one), "2026-10-02T23:59:59+08:00");
}

static void
test_add_calendar_time(void **state)
{
	Fixture *fx = *state;
	time_t t = at("2026-09-30T20:00:00+08:00");

	assert_time(workcal_add(fx->both, t, (Duration){DURATION_SECONDS, 45}), "2026-09-30T20:00:45+08:00");
	assert_time(workcal_add(fx->both, t, (Duration){DURATION_MINUTES, 30}), "2026-09-30T20:30:00+08:00");
	assert_time(workcal_add(fx->both, t, (Duration){DURATION_HOURS, 2}), "2026-09-30T22:00:00+08:00");
	/* Calendar time runs through holidays. */
	assert_time(workcal_add(fx->both, t, (Duration){DURATION_HOURS, 24}), "2026-10-01T20:00:00+08:00");
	assert_time(workcal_add(fx->both, t, (Duration){DURATION_HOURS, 8760}), "2027-09-30T20:00:00+08:00");
	assert_int_equal(workcal_add(fx->both, t, (Duration){DURATION_HOURS, 0}), t);
	assert_int_equal(workcal_add(fx->both, t, (Duration){DURATION_HOURS, -1}), (time_t)-1);
	assert_int_equal(workcal_add(fx->both, t, (Duration){DURATION_WORKDAYS, -1}), (time_t)-1);
}

/* In a zone with summer time the end of day is local, whatever the offset. */
static void
test_add_across_dst(void **state)
{
	(void)state;
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	/* Summer time starts Sunday 2026-03-08. */
	assert_time(workcal_add(NULL, at("2026-03-06T12:00:00-05:00"), (Duration){DURATION_WORKDAYS, 1}),
		    "2026-03-09T23:59:59-04:00");
	/* Calendar hours stay elapsed hours. */
	assert_time(workcal_add(NULL, at("2026-03-07T12:00:00-05:00"), (Duration){DURATION_HOURS, 24}),
		    "2026-03-08T13:00:00-04:00");
	setenv("TZ", "CST-8", 1);
	tzset();
}

static void
test_calendar_round_trip(void **state)
{
	Fixture *fx = *state;
	json_object *out = workcal_year_to_json(&fx->y2026);
	json_object *empty, *in;
	WorkcalYear y;
	ApiError err;

	assert_non_null(out);
	assert_true(json_object_equal(out, fx->json2026));
	json_object_put(out);

	/* Absent lists are empty; output is sorted whatever the input order. */
	in = json_tokener_parse("{\"workdays\": [\"2027-10-09\", \"2027-09-26\"]}");
	assert_true(workcal_year_from_json(2027, in, &y, &err));
	json_object_put(in);
	out = workcal_year_to_json(&y);
	assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
			    "{\"holidays\":[],\"workdays\":[\"2027-09-26\",\"2027-10-09\"]}");
	json_object_put(out);

	empty = json_tokener_parse("{}");
	assert_true(workcal_year_from_json(2028, empty, &y, &err));
	json_object_put(empty);
	out = workcal_year_to_json(&y);
	assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
			    "{\"holidays\":[],\"workdays\":[]}");
	json_object_put(out);

	/* 29 February exists in 2028 only. */
	in = json_tokener_parse("{\"holidays\": [\"2028-02-29\", \"2028-12-31\"]}");
	assert_true(workcal_year_from_json(2028, in, &y, &err));
	json_object_put(in);
	assert_int_equal(y.day[59], WORKCAL_DAY_HOLIDAY);
	assert_int_equal(y.day[365], WORKCAL_DAY_HOLIDAY);
}

static void
test_calendar_errors(void **state)
{
	static const struct {
		int year;
		const char *body;
		int status;
		const char *code;
		const char *field;
	} cases[] = {
		{2026, "[]", 400, "bad_json", ""},
		{2026, "\"2026-10-01\"", 400, "bad_json", ""},
		{1969, "{}", 422, "invalid_field", "year"},
		{10000, "{}", 422, "invalid_field", "year"},
		{2026, "{\"year\": 2026}", 422, "invalid_field", "year"},
		{2026, "{\"holidays\": [], \"notes\": \"x\"}", 422, "invalid_field", "notes"},
		{2026, "{\"holidays\": \"2026-10-01\"}", 422, "invalid_field", "holidays"},
		{2026, "{\"workdays\": null}", 422, "invalid_field", "workdays"},
		{2026, "{\"holidays\": [\"2026-10-01\", 20261002]}", 422, "invalid_field", "holidays[1]"},
		{2026, "{\"holidays\": [\"2025-10-01\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\"2026-1-01\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\"2026/01/01\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\"2026-01-01T00:00:00\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\" 2026-01-01\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\"2026-02-29\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\"2026-13-01\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"holidays\": [\"2026-00-10\"]}", 422, "invalid_field", "holidays[0]"},
		{2026, "{\"workdays\": [\"2026-04-31\"]}", 422, "invalid_field", "workdays[0]"},
		{2026, "{\"workdays\": [\"2026-09-20\", \"2026-10-10\", \"2026-09-20\"]}", 422,
		 "invalid_field", "workdays[2]"},
		/* In both lists: always reported in workdays, whatever the key order. */
		{2026, "{\"workdays\": [\"2026-10-10\", \"2026-10-01\"], \"holidays\": [\"2026-10-01\"]}", 422,
		 "invalid_field", "workdays[1]"},
	};
	ApiError err;
	WorkcalYear y;
	json_object *body;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		body = json_tokener_parse(cases[i].body);
		assert_non_null(body);
		if (workcal_year_from_json(cases[i].year, body, &y, &err))
			fail_msg("accepted %d %s", cases[i].year, cases[i].body);
		json_object_put(body);
		if (err.status != cases[i].status || strcmp(err.code, cases[i].code) != 0 ||
		    strcmp(err.field, cases[i].field) != 0)
			fail_msg("%s: got %d %s \"%s\"", cases[i].body, err.status, err.code, err.field);
	}
	assert_false(workcal_year_from_json(2026, NULL, &y, &err));
	assert_int_equal(err.status, 400);
}

static void
test_calendar_build(void **state)
{
	WorkcalYear years[3];
	json_object *body = json_tokener_parse("{\"holidays\": [\"2027-03-01\"]}");
	Workcal *cal;

	(void)state;
	workcal_year_init(&years[0], 2027);
	assert_true(workcal_year_from_json(2027, body, &years[1], NULL));
	json_object_put(body);
	workcal_year_init(&years[2], 2024);
	cal = workcal_new(years, 3);
	assert_non_null(cal);
	/* The later 2027 wins: Monday 1 March is a holiday. */
	assert_false(workcal_is_workday(cal, 2027, 3, 1));
	assert_non_null(workcal_find_year(cal, 2024));
	assert_int_equal(workcal_find_year(cal, 2027)->year, 2027);
	assert_null(workcal_find_year(cal, 2025));
	assert_null(workcal_find_year(NULL, 2025));
	workcal_free(cal);

	cal = workcal_new(NULL, 0);
	assert_non_null(cal);
	assert_null(workcal_find_year(cal, 2026));
	workcal_free(cal);
	workcal_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse_valid),
		cmocka_unit_test(test_duration_parse_errors),
		cmocka_unit_test(test_official_calendars),
		cmocka_unit_test(test_is_workday),
		cmocka_unit_test(test_add_workdays),
		cmocka_unit_test(test_add_unloaded_years),
		cmocka_unit_test(test_add_calendar_time),
		cmocka_unit_test(test_add_across_dst),
		cmocka_unit_test(test_calendar_round_trip),
		cmocka_unit_test(test_calendar_errors),
		cmocka_unit_test(test_calendar_build),
	};

	setenv("TZ", "CST-8", 1);
	tzset();
	return cmocka_run_group_tests(tests, setup, teardown);
}
