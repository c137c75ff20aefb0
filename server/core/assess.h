/*
 * assess: the assessment of API.md section 17: the scorecard weights (考核排名) and the
 * two reports built on them and on the rates of section 5.
 *
 * Scorecard: per department, five rates of the cases created in [from, to) that it held
 * last (section 5's by=department rows): response_rate, on_time_rate, resolution_rate,
 * satisfaction_rate and dispatch_accuracy = 1 - return_rate. Each may be null (zero
 * denominator). score = sum(w_i * rate_i) / sum(w_i) over the rates that are not null: a
 * null rate is left out and the remaining weights renormalised; null when no weighted
 * rate is left (sum of their weights 0). Only departments with dispatched >= min_cases
 * are ranked; the order is score (higher first, null last), then dispatched (more first),
 * then department code; rank is 1, 2, 3, ... in that order (no shared ranks).
 *
 * Bad reviews (高频差评): per key, visited, bad (cases with a visit scoring 1-2), bad_rate
 * = bad / visited (null when 0) and rectified_on_time (bad cases whose reply after the
 * reopening came by its rectification finish_by); SQL counts, orders (most bad first, then
 * key) and cuts to top.
 */
#ifndef HOTLINE_CORE_ASSESS_H
#define HOTLINE_CORE_ASSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/rates.h"

#define ASSESS_MIN_CASES_MAX 1000000
#define ASSESS_BAD_TOP_MAX 200
/* How far the weights' sum may be from 1 (decimal fractions such as 0.1 + 0.2 are not exact). */
#define ASSESS_WEIGHT_SUM_TOLERANCE 1e-9

/* The rates of the scorecard, in the order of its rows' fields. */
typedef enum ScoreRate {
	SCORE_RESPONSE,          /* response_rate */
	SCORE_ON_TIME,           /* on_time_rate */
	SCORE_RESOLUTION,        /* resolution_rate */
	SCORE_SATISFACTION,      /* satisfaction_rate */
	SCORE_DISPATCH_ACCURACY, /* dispatch_accuracy */
	SCORE_RATE__COUNT
} ScoreRate;

typedef struct Scorecard {
	double weight[SCORE_RATE__COUNT]; /* each >= 0, summing to 1 */
	int min_cases;                    /* 0..ASSESS_MIN_CASES_MAX */
} Scorecard;

/* One department as SQL counts it (the section 5 counts it needs; the others are 0). */
typedef struct ScoreInput {
	const char *department;
	const char *name;
	RateCounts counts;
} ScoreInput;

/* One ranked row. Strings are borrowed from the ScoreInput. */
typedef struct ScoreRow {
	int rank;
	const char *department;
	const char *name;
	int64_t dispatched;
	bool has_rate[SCORE_RATE__COUNT];
	double rate[SCORE_RATE__COUNT];
	bool has_score;
	double score;
} ScoreRow;

typedef enum BadReviewBy {
	BAD_BY_DEPARTMENT,
	BAD_BY_CATEGORY,
	BAD_BY_DISTRICT,
	BAD_BY__COUNT
} BadReviewBy;

/* A validated GET /v1/reports/bad-reviews query. */
typedef struct BadReviewQuery {
	char from[11];
	char to[11];
	BadReviewBy by;
	int top; /* 1..ASSESS_BAD_TOP_MAX, default 20 */
	bool csv;
} BadReviewQuery;

typedef struct BadReviewRow {
	const char *key;
	int64_t visited;
	int64_t bad;
	int64_t rectified_on_time;
} BadReviewRow;

/* "response_rate", ...; "unknown" when out of range. */
const char *assess_rate_name(ScoreRate r);
/* "department", "category", "district"; "unknown" when out of range. */
const char *assess_bad_by_name(BadReviewBy by);

/* The shipped weights: 0.2, 0.2, 0.3, 0.3, 0.0 and min_cases 5. */
void assess_scorecard_default(Scorecard *out);

/*
 * Validate a PUT /v1/scorecard body {"weights": {all five rates}, "min_cases": n}.
 * min_cases is optional (5). Refuses with 422: missing_field ("weights",
 * "weights.on_time_rate"); invalid_field for an unknown member ("colour",
 * "weights.speed"), a weight that is not a number or is negative ("weights.<rate>"),
 * weights not summing to 1 ("weights"), min_cases not an integer 0..max ("min_cases").
 * A body that is not an object is 400 bad_json. On failure *out is unspecified.
 */
bool assess_scorecard_from_json(json_object *body, Scorecard *out, ApiError *err);

/* The body of GET /v1/scorecard; the caller puts it. NULL when out of memory. */
json_object *assess_scorecard_to_json(const Scorecard *s);

/* The rate r of counts c into *out; false when its denominator is 0 (null). */
bool assess_rate(const RateCounts *c, ScoreRate r, double *out);

/*
 * The score over the rates that are present (the module comment's formula) into *out;
 * false when no present rate has a weight.
 */
bool assess_score(const Scorecard *s, const bool *has_rate, const double *rate, double *out);

/*
 * Rank the departments: out[] (room for n) gets those with dispatched >= min_cases,
 * computed, ordered and ranked as the module comment says. Returns how many.
 */
size_t assess_scorecard_rank(const Scorecard *s, const ScoreInput *in, size_t n, ScoreRow *out);

/* {"from", "to", "min_cases", "weights", "rows": [...]}; the caller puts it. */
json_object *assess_scorecard_json(const Scorecard *s, const char *from, const char *to, const ScoreRow *rows,
				   size_t n);

/* The rows as CSV (header: rank,department,name,dispatched,<rates>,score; null as empty),
 * as rates_report_csv. Returns a malloc'd text (length in *len), NULL when out of memory. */
char *assess_scorecard_csv(const ScoreRow *rows, size_t n, size_t *len);

/*
 * Validate the bad-reviews query (NULL = absent): from and to as the rates report, by
 * (default department), top (default 20), format/accept as the rates report. 400
 * bad_request naming the parameter otherwise.
 */
bool assess_bad_reviews_query_parse(const char *from, const char *to, const char *by, const char *top,
				    const char *format, const char *accept, BadReviewQuery *out, ApiError *err);

/* {"from", "to", "by", "top", "rows": [{"key", "visited", "bad", "bad_rate", "rectified_on_time"}]}. */
json_object *assess_bad_reviews_json(const BadReviewQuery *q, const BadReviewRow *rows, size_t n);

/* The rows as CSV (header: key,visited,bad,bad_rate,rectified_on_time); as assess_scorecard_csv. */
char *assess_bad_reviews_csv(const BadReviewRow *rows, size_t n, size_t *len);

#endif
