/*
 * Unit tests for core/assess: the scorecard weights (validation, defaults), the score formula
 * (null rates left out, weights renormalised), the ranking order (score, dispatched, code),
 * the min_cases filter, the renderings, and the bad-reviews query and rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/assess.h"

static json_object *
parse(const char *text)
{
	json_object *obj = json_tokener_parse(text);

	assert_non_null(obj);
	return obj;
}

/* Validate text as a PUT body; on refusal check status, code and field. */
static void
assert_refused(const char *text, int status, const char *code, const char *field)
{
	json_object *body = parse(text);
	Scorecard s;
	ApiError err;

	assert_false(assess_scorecard_from_json(body, &s, &err));
	json_object_put(body);
	assert_int_equal(err.status, status);
	assert_string_equal(err.code, code);
	if (field)
		assert_string_equal(err.field, field);
}

#define W5(a, b, c, d, e)                                                                              \
	"{\"weights\": {\"response_rate\": " #a ", \"on_time_rate\": " #b ", \"resolution_rate\": " #c \
	", \"satisfaction_rate\": " #d ", \"dispatch_accuracy\": " #e "}"

static void
test_weights_default_and_round_trip(void **state)
{
	Scorecard s, back;
	ApiError err;
	json_object *out;

	(void)state;
	assess_scorecard_default(&s);
	out = assess_scorecard_to_json(&s);
	assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
			    "{\"weights\":{\"response_rate\":0.2,\"on_time_rate\":0.2,\"resolution_rate\":0.3,"
			    "\"satisfaction_rate\":0.3,\"dispatch_accuracy\":0.0},\"min_cases\":5}");
	assert_true(assess_scorecard_from_json(out, &back, &err));
	json_object_put(out);
	assert_memory_equal(back.weight, s.weight, sizeof(s.weight));
	assert_int_equal(back.min_cases, 5);
	/* 0.1 + 0.2 + ... sums to 1 only within rounding; integers are numbers too */
	out = parse(W5(0.1, 0.2, 0.3, 0.4, 0) ", \"min_cases\": 0}");
	assert_true(assess_scorecard_from_json(out, &back, &err));
	json_object_put(out);
	assert_int_equal(back.min_cases, 0);
	out = parse(W5(0, 0, 1, 0, 0) "}");
	assert_true(assess_scorecard_from_json(out, &back, &err));
	json_object_put(out);
	assert_int_equal(back.min_cases, 5); /* optional */
}

static void
test_weights_refused(void **state)
{
	(void)state;
	assert_refused("[1]", 400, "bad_json", NULL);
	assert_refused("{}", 422, "missing_field", "weights");
	assert_refused(W5(0.2, 0.2, 0.3, 0.3, 0.1) "}", 422, "invalid_field", "weights");
	assert_refused(W5(0.2, 0.2, 0.3, 0.2, 0) "}", 422, "invalid_field", "weights");
	assert_refused(W5(-0.1, 0.3, 0.3, 0.5, 0) "}", 422, "invalid_field", "weights.response_rate");
	assert_refused(W5("0.2", 0.2, 0.3, 0.3, 0) "}", 422, "invalid_field", "weights.response_rate");
	assert_refused(W5(0.2, 0.2, 0.3, 0.3, 0) ", \"colour\": 1}", 422, "invalid_field", "colour");
	assert_refused(W5(0.2, 0.2, 0.3, 0.3, 0) ", \"min_cases\": -1}", 422, "invalid_field", "min_cases");
	assert_refused(W5(0.2, 0.2, 0.3, 0.3, 0) ", \"min_cases\": 2.5}", 422, "invalid_field", "min_cases");
	assert_refused("{\"weights\": {\"response_rate\": 1}}", 422, "missing_field", "weights.on_time_rate");
	assert_refused("{\"weights\": {\"speed\": 1}}", 422, "invalid_field", "weights.speed");
	assert_refused("{\"weights\": [1]}", 422, "invalid_field", "weights");
}

/* counts: dispatched, contacted on time, replied, on time, visited, resolved, satisfied, returned */
static RateCounts
counts(int64_t d, int64_t c, int64_t r, int64_t rt, int64_t v, int64_t res, int64_t sat, int64_t ret)
{
	RateCounts k = {{0}};

	k.n[RC_DISPATCHED] = d;
	k.n[RC_CONTACTED_ON_TIME] = c;
	k.n[RC_REPLIED] = r;
	k.n[RC_REPLIED_ON_TIME] = rt;
	k.n[RC_VISITED] = v;
	k.n[RC_RESOLVED] = res;
	k.n[RC_SATISFIED] = sat;
	k.n[RC_RETURNED] = ret;
	return k;
}

static void
test_rates_and_score(void **state)
{
	RateCounts k = counts(10, 8, 5, 4, 4, 3, 2, 1);
	Scorecard s;
	double r;
	bool has[SCORE_RATE__COUNT];
	double rate[SCORE_RATE__COUNT];

	(void)state;
	assess_scorecard_default(&s);
	assert_true(assess_rate(&k, SCORE_RESPONSE, &r));
	assert_true(r == 0.8);
	assert_true(assess_rate(&k, SCORE_ON_TIME, &r) && r == 0.8);
	assert_true(assess_rate(&k, SCORE_RESOLUTION, &r) && r == 0.75);
	assert_true(assess_rate(&k, SCORE_SATISFACTION, &r) && r == 0.5);
	assert_true(assess_rate(&k, SCORE_DISPATCH_ACCURACY, &r) && r == 1.0 - 0.1);
	for (int i = 0; i < SCORE_RATE__COUNT; i++)
		has[i] = assess_rate(&k, (ScoreRate)i, &rate[i]);
	assert_true(assess_score(&s, has, rate, &r));
	assert_true(r == (0.2 * 0.8 + 0.2 * 0.8 + 0.3 * 0.75 + 0.3 * 0.5 + 0.0 * 0.9) / 1.0);
	/* nothing visited: resolution and satisfaction are null, the other weights renormalised */
	k = counts(10, 8, 5, 4, 0, 0, 0, 1);
	for (int i = 0; i < SCORE_RATE__COUNT; i++)
		has[i] = assess_rate(&k, (ScoreRate)i, &rate[i]);
	assert_false(has[SCORE_RESOLUTION] || has[SCORE_SATISFACTION]);
	assert_true(assess_score(&s, has, rate, &r));
	assert_true(r == (0.2 * 0.8 + 0.2 * 0.8 + 0.0 * 0.9) / (0.2 + 0.2 + 0.0));
	/* only dispatch accuracy present, and its weight 0: no score */
	k = counts(10, 0, 0, 0, 0, 0, 0, 1);
	for (int i = 0; i < SCORE_RATE__COUNT; i++)
		has[i] = assess_rate(&k, (ScoreRate)i, &rate[i]);
	has[SCORE_RESPONSE] = false;
	assert_false(assess_score(&s, has, rate, &r));
	assert_false(assess_rate(&k, SCORE_RATE__COUNT, &r));
	assert_string_equal(assess_rate_name(SCORE_DISPATCH_ACCURACY), "dispatch_accuracy");
	assert_string_equal(assess_rate_name(SCORE_RATE__COUNT), "unknown");
}

static void
test_rank_order_and_filter(void **state)
{
	Scorecard s;
	ScoreInput in[] = {
		{"zeta", "Z", counts(10, 5, 0, 0, 0, 0, 0, 0)},   /* 0.5 */
		{"alpha", "A", counts(10, 5, 0, 0, 0, 0, 0, 0)},  /* 0.5, same dispatched: by code */
		{"big", "B", counts(20, 10, 0, 0, 0, 0, 0, 0)},   /* 0.5, more dispatched first */
		{"best", "Best", counts(6, 6, 0, 0, 0, 0, 0, 0)}, /* 1.0 */
		{"few", "F", counts(4, 4, 0, 0, 0, 0, 0, 0)},     /* under min_cases: left out */
		{"none", NULL, counts(8, 0, 0, 0, 0, 0, 0, 0)},   /* 0.0 */
	};
	ScoreRow rows[6];
	size_t n;

	(void)state;
	assess_scorecard_default(&s);
	s.weight[SCORE_RESPONSE] = 1.0;
	for (int i = 1; i < SCORE_RATE__COUNT; i++)
		s.weight[i] = 0.0;
	n = assess_scorecard_rank(&s, in, 6, rows);
	assert_int_equal(n, 5);
	assert_string_equal(rows[0].department, "best");
	assert_string_equal(rows[1].department, "big");
	assert_string_equal(rows[2].department, "alpha");
	assert_string_equal(rows[3].department, "zeta");
	assert_string_equal(rows[4].department, "none");
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rows[i].rank, (int)i + 1);
	assert_true(rows[0].score == 1.0 && rows[4].score == 0.0);
	/* a department without any weighted rate has a null score and comes last */
	in[0].counts = counts(30, 0, 0, 0, 0, 0, 0, 0);
	s.weight[SCORE_RESPONSE] = 0.0;
	s.weight[SCORE_SATISFACTION] = 1.0;
	in[3].counts = counts(6, 0, 1, 1, 2, 2, 1, 0); /* satisfaction 0.5 */
	n = assess_scorecard_rank(&s, in, 6, rows);
	assert_string_equal(rows[0].department, "best");
	assert_true(rows[0].has_score && rows[0].score == 0.5);
	assert_false(rows[1].has_score);
	assert_string_equal(rows[1].department, "zeta"); /* nulls: dispatched 30 first */
	s.min_cases = 0;
	assert_int_equal(assess_scorecard_rank(&s, in, 6, rows), 6);
}

static void
test_scorecard_renderings(void **state)
{
	Scorecard s;
	ScoreInput in[] = {{"urban_mgmt", "市城市管理局, 一处", counts(5, 4, 2, 1, 2, 1, 1, 1)}};
	ScoreRow rows[1];
	json_object *obj;
	size_t len;
	char *csv;

	(void)state;
	assess_scorecard_default(&s);
	assert_int_equal(assess_scorecard_rank(&s, in, 1, rows), 1);
	obj = assess_scorecard_json(&s, "2026-11-01", "2026-12-01", rows, 1);
	assert_non_null(obj);
	assert_string_equal(
		json_object_to_json_string_ext(json_object_array_get_idx(json_object_object_get(obj, "rows"), 0),
					       JSON_C_TO_STRING_PLAIN),
		"{\"rank\":1,\"department\":\"urban_mgmt\",\"name\":\"市城市管理局, 一处\",\"dispatched\":5,"
		"\"response_rate\":0.8,\"on_time_rate\":0.5,\"resolution_rate\":0.5,\"satisfaction_rate\":0.5,"
		"\"dispatch_accuracy\":0.8,\"score\":0.56}");
	json_object_put(obj);
	csv = assess_scorecard_csv(rows, 1, &len);
	assert_string_equal(csv, "rank,department,name,dispatched,response_rate,on_time_rate,resolution_rate,"
				 "satisfaction_rate,dispatch_accuracy,score\r\n"
				 "1,urban_mgmt,\"市城市管理局, 一处\",5,0.8,0.5,0.5,0.5,0.8,0.56\r\n");
	assert_int_equal(len, strlen(csv));
	free(csv);
}

static void
test_bad_reviews(void **state)
{
	BadReviewQuery q;
	ApiError err;
	BadReviewRow rows[] = {{"housing", 4, 3, 1}, {"=cmd", 0, 1, 0}};
	json_object *obj;
	size_t len;
	char *csv;

	(void)state;
	assert_true(assess_bad_reviews_query_parse("2026-11-01", "2026-12-01", NULL, NULL, NULL, NULL, &q, &err));
	assert_int_equal(q.by, BAD_BY_DEPARTMENT);
	assert_int_equal(q.top, 20);
	assert_false(q.csv);
	assert_true(assess_bad_reviews_query_parse("2026-11-01", "2026-12-01", "category", "5", "csv", NULL, &q, &err));
	assert_int_equal(q.by, BAD_BY_CATEGORY);
	assert_int_equal(q.top, 5);
	assert_true(q.csv);
	assert_false(assess_bad_reviews_query_parse("2026-11-01", "2026-12-01", "type", NULL, NULL, NULL, &q, &err));
	assert_string_equal(err.field, "by");
	assert_false(assess_bad_reviews_query_parse("2026-11-01", "2026-12-01", NULL, "0", NULL, NULL, &q, &err));
	assert_string_equal(err.field, "top");
	assert_false(assess_bad_reviews_query_parse("2026-11-01", "2026-12-01", NULL, "201", NULL, NULL, &q, &err));
	assert_false(assess_bad_reviews_query_parse(NULL, "2026-12-01", NULL, NULL, NULL, NULL, &q, &err));
	assert_string_equal(err.field, "from");
	assert_int_equal(err.status, 400);
	assert_true(assess_bad_reviews_query_parse("2026-11-01", "2026-12-01", "district", NULL, NULL, NULL, &q, &err));
	obj = assess_bad_reviews_json(&q, rows, 2);
	assert_string_equal(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN),
			    "{\"from\":\"2026-11-01\",\"to\":\"2026-12-01\",\"by\":\"district\",\"top\":20,\"rows\":["
			    "{\"key\":\"housing\",\"visited\":4,\"bad\":3,\"bad_rate\":0.75,\"rectified_on_time\":1},"
			    "{\"key\":\"=cmd\",\"visited\":0,\"bad\":1,\"bad_rate\":null,\"rectified_on_time\":0}]}");
	json_object_put(obj);
	csv = assess_bad_reviews_csv(rows, 2, &len);
	assert_string_equal(csv, "key,visited,bad,bad_rate,rectified_on_time\r\nhousing,4,3,0.75,1\r\n'=cmd,0,1,,0\r\n");
	free(csv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights_default_and_round_trip),
		cmocka_unit_test(test_weights_refused),
		cmocka_unit_test(test_rates_and_score),
		cmocka_unit_test(test_rank_order_and_filter),
		cmocka_unit_test(test_scorecard_renderings),
		cmocka_unit_test(test_bad_reviews),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
