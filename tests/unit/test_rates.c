/*
 * Unit tests for core/rates: the rate formulas (null on a zero denominator, totals from
 * summed counts, never averaged rates), exact number rendering, query validation, CSV
 * quoting and formula neutralisation, and the hot-spot rising rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rates.h"

/* The row fields after "key", in API.md's order, written out independently of rates.c. */
static const char *const row_fields[] = {
	"received", "answered", "dispatched", "signed_on_time", "contacted_on_time", "response_rate",
	"replied", "replied_on_time", "on_time_rate", "visited", "resolved", "resolution_rate",
	"satisfied", "satisfaction_rate", "avg_score", "returned", "return_rate", "reopened", "overdue_open",
	"declined", "suspended",
};
#define NFIELDS (sizeof(row_fields) / sizeof(row_fields[0]))

/* A row: 10 received, 2 answered, 8 dispatched, 6 signed on time, 4 contacted on time,
 * 6 replied, 3 on time, 3 visited (scores 5, 4, 1: sum 10), 2 resolved, 2 satisfied,
 * 1 returned, 1 reopened, 2 overdue now, 1 declined, 3 suspended. */
static RateCounts
sample_counts(void)
{
	RateCounts c = {{0}};

	c.n[RC_RECEIVED] = 10;
	c.n[RC_ANSWERED] = 2;
	c.n[RC_DISPATCHED] = 8;
	c.n[RC_SIGNED_ON_TIME] = 6;
	c.n[RC_CONTACTED_ON_TIME] = 4;
	c.n[RC_REPLIED] = 6;
	c.n[RC_REPLIED_ON_TIME] = 3;
	c.n[RC_VISITED] = 3;
	c.n[RC_RESOLVED] = 2;
	c.n[RC_SATISFIED] = 2;
	c.n[RC_SCORE_SUM] = 10;
	c.n[RC_RETURNED] = 1;
	c.n[RC_REOPENED] = 1;
	c.n[RC_OVERDUE_OPEN] = 2;
	c.n[RC_DECLINED] = 1;
	c.n[RC_SUSPENDED] = 3;
	return c;
}

static json_object *
field(json_object *obj, const char *name)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(obj, name, &v));
	return v;
}

static void
assert_int_field(json_object *obj, const char *name, int64_t want)
{
	json_object *v = field(obj, name);

	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int64(v), want);
}

static void
assert_rate_field(json_object *obj, const char *name, double want)
{
	json_object *v = field(obj, name);

	assert_true(json_object_is_type(v, json_type_double));
	assert_true(json_object_get_double(v) == want);
}

static void
assert_null_field(json_object *obj, const char *name)
{
	assert_null(field(obj, name));
}

static void
test_fraction(void **state)
{
	double f = -1;

	(void)state;
	assert_false(rates_fraction(3, 0, &f));
	assert_true(f == -1);
	assert_false(rates_fraction(0, 0, &f));
	assert_true(rates_fraction(0, 5, &f));
	assert_true(f == 0.0);
	assert_true(rates_fraction(2, 3, &f));
	assert_true(f == 2.0 / 3.0);
	assert_true(rates_fraction(7, 7, &f));
	assert_true(f == 1.0);
}

static void
test_format_double(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(rates_format_double(0.5, buf, sizeof(buf)), "0.5");
	assert_string_equal(rates_format_double(0.1, buf, sizeof(buf)), "0.1");
	assert_string_equal(rates_format_double(2.0 / 3.0, buf, sizeof(buf)), "0.6666666666666666");
	assert_string_equal(rates_format_double(1.0 / 3.0, buf, sizeof(buf)), "0.3333333333333333");
	assert_string_equal(rates_format_double(1.0, buf, sizeof(buf)), "1.0");
	assert_string_equal(rates_format_double(0.0, buf, sizeof(buf)), "0.0");
	assert_string_equal(rates_format_double(10.0 / 3.0, buf, sizeof(buf)), "3.3333333333333335");
	assert_string_equal(rates_format_double(-0.25, buf, sizeof(buf)), "-0.25");
	assert_true(strtod(rates_format_double(1e-7, buf, sizeof(buf)), NULL) == 1e-7);
}

static void
test_row_json_fields_and_rates(void **state)
{
	RateCounts c = sample_counts();
	json_object *row = rates_row_json("urban_mgmt", &c);
	struct json_object_iterator it, end;
	size_t i = 0;

	(void)state;
	/* Exactly "key" then the table's fields, in that order. */
	it = json_object_iter_begin(row);
	end = json_object_iter_end(row);
	assert_false(json_object_iter_equal(&it, &end));
	assert_string_equal(json_object_iter_peek_name(&it), "key");
	for (json_object_iter_next(&it); !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		assert_true(i < NFIELDS);
		assert_string_equal(json_object_iter_peek_name(&it), row_fields[i++]);
	}
	assert_int_equal(i, NFIELDS);

	assert_string_equal(json_object_get_string(field(row, "key")), "urban_mgmt");
	assert_int_field(row, "received", 10);
	assert_int_field(row, "answered", 2);
	assert_int_field(row, "dispatched", 8);
	assert_int_field(row, "signed_on_time", 6);
	assert_int_field(row, "contacted_on_time", 4);
	assert_rate_field(row, "response_rate", 0.5);
	assert_int_field(row, "replied", 6);
	assert_int_field(row, "replied_on_time", 3);
	assert_rate_field(row, "on_time_rate", 0.5);
	assert_int_field(row, "visited", 3);
	assert_int_field(row, "resolved", 2);
	assert_rate_field(row, "resolution_rate", 2.0 / 3.0);
	assert_int_field(row, "satisfied", 2);
	assert_rate_field(row, "satisfaction_rate", 2.0 / 3.0);
	assert_rate_field(row, "avg_score", 10.0 / 3.0);
	assert_int_field(row, "returned", 1);
	assert_rate_field(row, "return_rate", 0.125);
	assert_int_field(row, "reopened", 1);
	assert_int_field(row, "overdue_open", 2);
	assert_int_field(row, "declined", 1);
	assert_int_field(row, "suspended", 3);
	/* Rates are written in their shortest exact form. */
	assert_non_null(strstr(json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN),
			       "\"resolution_rate\":0.6666666666666666,"));
	json_object_put(row);
}

static void
test_row_json_null_rates(void **state)
{
	RateCounts c = {{0}};
	json_object *row;

	(void)state;
	c.n[RC_RECEIVED] = 3;
	c.n[RC_ANSWERED] = 3;
	row = rates_row_json(NULL, &c);
	assert_null_field(row, "key");
	assert_int_field(row, "received", 3);
	assert_null_field(row, "response_rate");
	assert_null_field(row, "on_time_rate");
	assert_null_field(row, "resolution_rate");
	assert_null_field(row, "satisfaction_rate");
	assert_null_field(row, "avg_score");
	assert_null_field(row, "return_rate");
	assert_int_field(row, "overdue_open", 0);
	json_object_put(row);
}

static void
test_report_total_sums_counts(void **state)
{
	RatesQuery q;
	RateRow rows[2] = {{"a", {{0}}}, {NULL, {{0}}}};
	json_object *rep, *total, *list;

	(void)state;
	assert_true(rates_query_parse("2026-01-01", "2026-02-01", "district", NULL, NULL, &q, NULL));
	/* Row a: 1 of 2 contacted on time; row null: 1 of 1. The total is 2/3, not the mean 0.75. */
	rows[0].counts.n[RC_DISPATCHED] = 2;
	rows[0].counts.n[RC_CONTACTED_ON_TIME] = 1;
	rows[0].counts.n[RC_RECEIVED] = 2;
	rows[1].counts.n[RC_DISPATCHED] = 1;
	rows[1].counts.n[RC_CONTACTED_ON_TIME] = 1;
	rows[1].counts.n[RC_RECEIVED] = 4;
	rows[1].counts.n[RC_VISITED] = 2;
	rows[1].counts.n[RC_SCORE_SUM] = 9;
	rep = rates_report_json(&q, rows, 2);
	assert_string_equal(json_object_get_string(field(rep, "from")), "2026-01-01");
	assert_string_equal(json_object_get_string(field(rep, "to")), "2026-02-01");
	assert_string_equal(json_object_get_string(field(rep, "by")), "district");
	list = field(rep, "rows");
	assert_int_equal(json_object_array_length(list), 2);
	assert_rate_field(json_object_array_get_idx(list, 0), "response_rate", 0.5);
	assert_null_field(json_object_array_get_idx(list, 0), "avg_score");
	assert_null_field(json_object_array_get_idx(list, 1), "key");
	total = field(rep, "total");
	assert_string_equal(json_object_get_string(field(total, "key")), "total");
	assert_int_field(total, "received", 6);
	assert_int_field(total, "dispatched", 3);
	assert_rate_field(total, "response_rate", 2.0 / 3.0);
	assert_rate_field(total, "avg_score", 4.5);
	assert_null_field(total, "on_time_rate");
	json_object_put(rep);
}

static void
test_report_empty(void **state)
{
	RatesQuery q;
	json_object *rep, *total;

	(void)state;
	assert_true(rates_query_parse("2026-01-01", "2026-01-02", NULL, NULL, NULL, &q, NULL));
	rep = rates_report_json(&q, NULL, 0);
	assert_int_equal(json_object_array_length(field(rep, "rows")), 0);
	total = field(rep, "total");
	assert_int_field(total, "received", 0);
	assert_null_field(total, "response_rate");
	json_object_put(rep);
}

static void
test_csv(void **state)
{
	RateCounts c = sample_counts(), zero = {{0}};
	RateRow rows[] = {
		{"urban_mgmt", c}, {NULL, zero}, {"驿城区", zero}, {"a,b \"c\"", zero},
		{"=1+2", zero}, {"+cmd", zero}, {"-2", zero}, {"@SUM(A1)", zero}, {"line\nbreak", zero},
	};
	size_t len = 0;
	char *csv = rates_report_csv(rows, sizeof(rows) / sizeof(rows[0]), &len);
	const char *zeros = ",0,0,0,0,0,,0,0,,0,0,,0,,,0,,0,0,0,0\r\n";
	char *want;
	size_t wlen;
	FILE *f;

	(void)state;
	assert_non_null(csv);
	assert_int_equal(len, strlen(csv));
	f = open_memstream(&want, &wlen);
	fputs("key", f);
	for (size_t i = 0; i < NFIELDS; i++)
		fprintf(f, ",%s", row_fields[i]);
	fputs("\r\n", f);
	fputs("urban_mgmt,10,2,8,6,4,0.5,6,3,0.5,3,2,0.6666666666666666,2,0.6666666666666666,"
	      "3.3333333333333335,1,0.125,1,2,1,3\r\n", f);
	fprintf(f, "%s", zeros);                       /* null key: empty field */
	fprintf(f, "驿城区%s", zeros);                 /* UTF-8 kept as is */
	fprintf(f, "\"a,b \"\"c\"\"\"%s", zeros);      /* RFC 4180 quoting */
	fprintf(f, "'=1+2%s'+cmd%s'-2%s'@SUM(A1)%s", zeros, zeros, zeros, zeros);
	fprintf(f, "\"line\nbreak\"%s", zeros);
	fclose(f);
	assert_string_equal(csv, want);
	free(want);
	free(csv);
}

static void
test_csv_header_only(void **state)
{
	size_t len = 0;
	char *csv = rates_report_csv(NULL, 0, &len);

	(void)state;
	assert_non_null(csv);
	assert_true(strncmp(csv, "key,received,answered,", 22) == 0);
	assert_int_equal(strchr(csv, '\n') - csv + 1, (long)len);
	free(csv);
}

static void
test_counts_parse(void **state)
{
	const char *ok[RC__COUNT] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
				     "9223372036854775807", "15", "16"};
	const char *texts[RC__COUNT];
	RateCounts c;

	(void)state;
	assert_true(rates_counts_parse(ok, &c));
	assert_int_equal(c.n[RC_RECEIVED], 1);
	assert_int_equal(c.n[RC_SCORE_SUM], 11);
	assert_int_equal(c.n[RC_OVERDUE_OPEN], INT64_MAX);

	memcpy(texts, ok, sizeof(texts));
	texts[RC_VISITED] = NULL;
	texts[RC_RESOLVED] = "";
	assert_true(rates_counts_parse(texts, &c));
	assert_int_equal(c.n[RC_VISITED], 0);
	assert_int_equal(c.n[RC_RESOLVED], 0);

	static const char *const bad[] = {"-1", "+1", " 1", "1 ", "1.5", "x", "9223372036854775808", "0x10"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(texts, ok, sizeof(texts));
		texts[RC_REPLIED] = bad[i];
		assert_false(rates_counts_parse(texts, &c));
	}
}

static void
test_counts_add(void **state)
{
	RateCounts a = sample_counts(), b = sample_counts();

	(void)state;
	rates_counts_add(&a, &b);
	for (int i = 0; i < RC__COUNT; i++)
		assert_int_equal(a.n[i], 2 * b.n[i]);
}

static void
expect_bad(const char *from, const char *to, const char *by, const char *format, const char *field_name)
{
	RatesQuery q;
	ApiError err = {0};

	assert_false(rates_query_parse(from, to, by, format, NULL, &q, &err));
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "bad_request");
	assert_string_equal(err.field, field_name);
}

static void
test_query_parse(void **state)
{
	RatesQuery q;

	(void)state;
	assert_true(rates_query_parse("2026-01-01", "2026-01-02", NULL, NULL, NULL, &q, NULL));
	assert_string_equal(q.from, "2026-01-01");
	assert_string_equal(q.to, "2026-01-02");
	assert_int_equal(q.by, RATES_BY_DEPARTMENT);
	assert_false(q.csv);
	assert_true(rates_query_parse("2025-12-01", "2026-01-01", "channel", "csv", NULL, &q, NULL));
	assert_int_equal(q.by, RATES_BY_CHANNEL);
	assert_true(q.csv);
	assert_true(rates_query_parse("2025-12-01", "2026-01-01", "type", NULL, "text/csv", &q, NULL));
	assert_int_equal(q.by, RATES_BY_TYPE);
	assert_true(q.csv);
	/* An explicit format wins over Accept. */
	assert_true(rates_query_parse("2025-12-01", "2026-01-01", "district", "json", "text/csv", &q, NULL));
	assert_false(q.csv);
	assert_true(rates_query_parse("2025-12-01", "2026-01-01", NULL, NULL, "application/json", &q, NULL));
	assert_false(q.csv);

	expect_bad(NULL, "2026-01-02", NULL, NULL, "from");
	expect_bad("2026-01-01", NULL, NULL, NULL, "to");
	expect_bad("2026-02-30", "2026-03-01", NULL, NULL, "from");
	expect_bad("2026-01-01", "tomorrow", NULL, NULL, "to");
	expect_bad("2026-01-01", "2026-01-01", NULL, NULL, "to");
	expect_bad("2026-01-02", "2026-01-01", NULL, NULL, "to");
	expect_bad("2026-01-01", "2026-01-02", "category", NULL, "by");
	expect_bad("2026-01-01", "2026-01-02", "", NULL, "by");
	expect_bad("2026-01-01", "2026-01-02", "Department", NULL, "by");
	expect_bad("2026-01-01", "2026-01-02", NULL, "xml", "format");
}

static void
test_hotspot_query_parse(void **state)
{
	HotspotQuery q;
	ApiError err = {0};

	(void)state;
	assert_true(hotspot_query_parse(NULL, NULL, NULL, &q, NULL));
	assert_int_equal(q.days, 7);
	assert_int_equal(q.top, 20);
	assert_int_equal(q.by, HOTSPOT_BY_DISTRICT);
	assert_true(hotspot_query_parse("30", "category", "5", &q, NULL));
	assert_int_equal(q.days, 30);
	assert_int_equal(q.top, 5);
	assert_int_equal(q.by, HOTSPOT_BY_CATEGORY);
	assert_true(hotspot_query_parse("366", "department", "200", &q, NULL));
	assert_int_equal(q.by, HOTSPOT_BY_DEPARTMENT);

	static const char *const bad_days[] = {"0", "367", "-1", "07", "7d", "", "1e2", "99999999999"};
	for (size_t i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++) {
		assert_false(hotspot_query_parse(bad_days[i], NULL, NULL, &q, &err));
		assert_int_equal(err.status, 400);
		assert_string_equal(err.field, "days");
	}
	assert_false(hotspot_query_parse(NULL, NULL, "0", &q, &err));
	assert_string_equal(err.field, "top");
	assert_false(hotspot_query_parse(NULL, NULL, "201", &q, &err));
	assert_string_equal(err.field, "top");
	assert_false(hotspot_query_parse(NULL, "type", NULL, &q, &err));
	assert_string_equal(err.field, "by");
	assert_string_equal(err.code, "bad_request");
}

static void
test_overdue_query_parse(void **state)
{
	ApiError err = {0};
	int limit = 0;

	(void)state;
	assert_true(overdue_query_parse(NULL, &limit, NULL));
	assert_int_equal(limit, 100);
	assert_true(overdue_query_parse("1000", &limit, NULL));
	assert_int_equal(limit, 1000);
	assert_false(overdue_query_parse("1001", &limit, &err));
	assert_string_equal(err.field, "limit");
	assert_false(overdue_query_parse("0", &limit, &err));
	assert_false(overdue_query_parse("ten", &limit, &err));
	assert_int_equal(err.status, 400);
}

static void
test_hotspot_rule(void **state)
{
	double g = -9;

	(void)state;
	assert_true(rates_hotspot_rising(5, 0));  /* new group with 5 cases */
	assert_false(rates_hotspot_rising(4, 0)); /* too few to matter */
	assert_true(rates_hotspot_rising(10, 5)); /* doubled */
	assert_false(rates_hotspot_rising(9, 5));
	assert_true(rates_hotspot_rising(6, 3));
	assert_false(rates_hotspot_rising(4, 1)); /* quadrupled but only 4 */
	assert_false(rates_hotspot_rising(100, 90));

	assert_false(rates_hotspot_growth(3, 0, &g));
	assert_true(g == -9);
	assert_true(rates_hotspot_growth(10, 5, &g));
	assert_true(g == 1.0);
	assert_true(rates_hotspot_growth(2, 4, &g));
	assert_true(g == -0.5);
	assert_true(rates_hotspot_growth(4, 4, &g));
	assert_true(g == 0.0);
}

static void
test_hotspots_json(void **state)
{
	HotspotQuery q;
	Hotspot rows[] = {{"驿城区", 12, 3}, {"西平县", 4, 0}, {"上蔡县", 2, 4}};
	json_object *rep, *list, *row;

	(void)state;
	assert_true(hotspot_query_parse("7", "district", "3", &q, NULL));
	rep = rates_hotspots_json(&q, "2026-11-21T09:00:00+08:00", "2026-11-28T09:00:00+08:00", rows, 3);
	assert_int_field(rep, "days", 7);
	assert_int_field(rep, "top", 3);
	assert_string_equal(json_object_get_string(field(rep, "by")), "district");
	assert_string_equal(json_object_get_string(field(rep, "from")), "2026-11-21T09:00:00+08:00");
	assert_string_equal(json_object_get_string(field(rep, "to")), "2026-11-28T09:00:00+08:00");
	list = field(rep, "rows");
	assert_int_equal(json_object_array_length(list), 3);
	row = json_object_array_get_idx(list, 0);
	assert_string_equal(json_object_get_string(field(row, "key")), "驿城区");
	assert_int_field(row, "count", 12);
	assert_int_field(row, "previous", 3);
	assert_rate_field(row, "growth", 3.0);
	assert_true(json_object_get_boolean(field(row, "rising")));
	row = json_object_array_get_idx(list, 1);
	assert_null_field(row, "growth");
	assert_false(json_object_get_boolean(field(row, "rising")));
	row = json_object_array_get_idx(list, 2);
	assert_rate_field(row, "growth", -0.5);
	assert_false(json_object_get_boolean(field(row, "rising")));
	json_object_put(rep);
}

static void
test_by_names(void **state)
{
	(void)state;
	assert_string_equal(rates_by_name(RATES_BY_DEPARTMENT), "department");
	assert_string_equal(rates_by_name(RATES_BY_CHANNEL), "channel");
	assert_string_equal(rates_by_name(RATES_BY__COUNT), "unknown");
	assert_string_equal(hotspot_by_name(HOTSPOT_BY_CATEGORY), "category");
	assert_string_equal(hotspot_by_name(HOTSPOT_BY__COUNT), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fraction),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_row_json_fields_and_rates),
		cmocka_unit_test(test_row_json_null_rates),
		cmocka_unit_test(test_report_total_sums_counts),
		cmocka_unit_test(test_report_empty),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_header_only),
		cmocka_unit_test(test_counts_parse),
		cmocka_unit_test(test_counts_add),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_hotspot_query_parse),
		cmocka_unit_test(test_overdue_query_parse),
		cmocka_unit_test(test_hotspot_rule),
		cmocka_unit_test(test_hotspots_json),
		cmocka_unit_test(test_by_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
