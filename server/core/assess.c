/* assess: scorecard weights, scores and ranking, bad-review rows (see assess.h). */
#include "core/assess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/textbuf.h"

/* Each rate of the scorecard as a fraction of two section 5 counts; inverted: 1 - num/den. */
static const struct {
	const char *name;
	RateCount num, den;
	bool inverted;
} score_rates[SCORE_RATE__COUNT] = {
	[SCORE_RESPONSE] = {"response_rate", RC_CONTACTED_ON_TIME, RC_DISPATCHED, false},
	[SCORE_ON_TIME] = {"on_time_rate", RC_REPLIED_ON_TIME, RC_REPLIED, false},
	[SCORE_RESOLUTION] = {"resolution_rate", RC_RESOLVED, RC_VISITED, false},
	[SCORE_SATISFACTION] = {"satisfaction_rate", RC_SATISFIED, RC_VISITED, false},
	[SCORE_DISPATCH_ACCURACY] = {"dispatch_accuracy", RC_RETURNED, RC_DISPATCHED, true},
};

static const double default_weights[SCORE_RATE__COUNT] = {0.2, 0.2, 0.3, 0.3, 0.0};
#define DEFAULT_MIN_CASES 5

static const char *const bad_by_names[BAD_BY__COUNT] = {"department", "category", "district"};

static bool weights_from_json(json_object *obj, Scorecard *out, ApiError *err);
static int row_order(const void *a, const void *b);
static json_object *opt_double(bool has, double d);
static void csv_number(TextBuf *t, bool has, double d);
static char *csv_finish(TextBuf *t, size_t *len);

/*
 *********************************
 * Public functions
 *********************************
 */

const char *
assess_rate_name(ScoreRate r)
{
	return r >= 0 && r < SCORE_RATE__COUNT ? score_rates[r].name : "unknown";
}

const char *
assess_bad_by_name(BadReviewBy by)
{
	return by >= 0 && by < BAD_BY__COUNT ? bad_by_names[by] : "unknown";
}

void
assess_scorecard_default(Scorecard *out)
{
	memcpy(out->weight, default_weights, sizeof(out->weight));
	out->min_cases = DEFAULT_MIN_CASES;
}

bool
assess_scorecard_from_json(json_object *body, Scorecard *out, ApiError *err)
{
	json_object *weights = NULL, *min = NULL;

	if (!json_object_is_type(body, json_type_object))
		return api_error_set(err, 400, "bad_json", NULL, "the scorecard must be a JSON object");
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "weights") != 0 && strcmp(key, "min_cases") != 0)
			return api_error_set(err, 422, "invalid_field", key, "%s is not a field of the scorecard", key);
	}
	assess_scorecard_default(out);
	if (!json_object_object_get_ex(body, "weights", &weights) || !weights)
		return api_error_set(err, 422, "missing_field", "weights", "weights is required");
	if (!weights_from_json(weights, out, err))
		return false;
	if (json_object_object_get_ex(body, "min_cases", &min) && min) {
		int64_t v = json_object_get_int64(min);

		if (!json_object_is_type(min, json_type_int) || v < 0 || v > ASSESS_MIN_CASES_MAX)
			return api_error_set(err, 422, "invalid_field", "min_cases", "min_cases must be an integer 0 to %d",
					     ASSESS_MIN_CASES_MAX);
		out->min_cases = (int)v;
	}
	return true;
}

json_object *
assess_scorecard_to_json(const Scorecard *s)
{
	json_object *obj = json_object_new_object(), *weights = json_object_new_object();

	if (!obj || !weights) {
		json_object_put(obj);
		json_object_put(weights);
		return NULL;
	}
	for (int r = 0; r < SCORE_RATE__COUNT; r++)
		json_object_object_add(weights, score_rates[r].name, rates_double_json(s->weight[r]));
	json_object_object_add(obj, "weights", weights);
	json_object_object_add(obj, "min_cases", json_object_new_int(s->min_cases));
	return obj;
}

bool
assess_rate(const RateCounts *c, ScoreRate r, double *out)
{
	double f;

	if (r < 0 || r >= SCORE_RATE__COUNT || !rates_fraction(c->n[score_rates[r].num], c->n[score_rates[r].den], &f))
		return false;
	*out = score_rates[r].inverted ? 1.0 - f : f;
	return true;
}

bool
assess_score(const Scorecard *s, const bool *has_rate, const double *rate, double *out)
{
	double sum = 0.0, weights = 0.0;

	for (int r = 0; r < SCORE_RATE__COUNT; r++) {
		if (!has_rate[r])
			continue;
		sum += s->weight[r] * rate[r];
		weights += s->weight[r];
	}
	if (weights <= 0.0)
		return false;
	*out = sum / weights;
	return true;
}

size_t
assess_scorecard_rank(const Scorecard *s, const ScoreInput *in, size_t n, ScoreRow *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		ScoreRow *row = &out[m];

		if (in[i].counts.n[RC_DISPATCHED] < s->min_cases)
			continue;
		memset(row, 0, sizeof(*row));
		row->department = in[i].department;
		row->name = in[i].name;
		row->dispatched = in[i].counts.n[RC_DISPATCHED];
		for (int r = 0; r < SCORE_RATE__COUNT; r++)
			row->has_rate[r] = assess_rate(&in[i].counts, (ScoreRate)r, &row->rate[r]);
		row->has_score = assess_score(s, row->has_rate, row->rate, &row->score);
		m++;
	}
	qsort(out, m, sizeof(*out), row_order);
	for (size_t i = 0; i < m; i++)
		out[i].rank = (int)i + 1;
	return m;
}

json_object *
assess_scorecard_json(const Scorecard *s, const char *from, const char *to, const ScoreRow *rows, size_t n)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	json_object *card = assess_scorecard_to_json(s);

	if (!root || !list || !card) {
		json_object_put(root);
		json_object_put(list);
		json_object_put(card);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_new_object();

		json_object_object_add(row, "rank", json_object_new_int(rows[i].rank));
		json_object_object_add(row, "department", json_object_new_string(rows[i].department));
		json_object_object_add(row, "name", rows[i].name ? json_object_new_string(rows[i].name) : NULL);
		json_object_object_add(row, "dispatched", json_object_new_int64(rows[i].dispatched));
		for (int r = 0; r < SCORE_RATE__COUNT; r++)
			json_object_object_add(row, score_rates[r].name, opt_double(rows[i].has_rate[r], rows[i].rate[r]));
		json_object_object_add(row, "score", opt_double(rows[i].has_score, rows[i].score));
		json_object_array_add(list, row);
	}
	json_object_object_add(root, "from", json_object_new_string(from));
	json_object_object_add(root, "to", json_object_new_string(to));
	json_object_object_add(root, "weights", json_object_get(json_object_object_get(card, "weights")));
	json_object_object_add(root, "min_cases", json_object_new_int(s->min_cases));
	json_object_object_add(root, "rows", list);
	json_object_put(card);
	return root;
}

char *
assess_scorecard_csv(const ScoreRow *rows, size_t n, size_t *len)
{
	TextBuf t = {0};
	char num[32];

	textbuf_add_str(&t, "rank,department,name,dispatched");
	for (int r = 0; r < SCORE_RATE__COUNT; r++) {
		textbuf_add_str(&t, ",");
		textbuf_add_str(&t, score_rates[r].name);
	}
	textbuf_add_str(&t, ",score\r\n");
	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%d,", rows[i].rank);
		textbuf_add_str(&t, num);
		rates_csv_text(&t, rows[i].department);
		textbuf_add_str(&t, ",");
		rates_csv_text(&t, rows[i].name ? rows[i].name : "");
		snprintf(num, sizeof(num), ",%lld", (long long)rows[i].dispatched);
		textbuf_add_str(&t, num);
		for (int r = 0; r < SCORE_RATE__COUNT; r++)
			csv_number(&t, rows[i].has_rate[r], rows[i].rate[r]);
		csv_number(&t, rows[i].has_score, rows[i].score);
		textbuf_add_str(&t, "\r\n");
	}
	return csv_finish(&t, len);
}

bool
assess_bad_reviews_query_parse(const char *from, const char *to, const char *by, const char *top,
			       const char *format, const char *accept, BadReviewQuery *out, ApiError *err)
{
	RatesQuery range;
	int v = BAD_BY_DEPARTMENT;

	/* from, to and format as the rates report checks them; its `by` is not this one */
	if (!rates_query_parse(from, to, NULL, format, accept, &range, err))
		return false;
	if (by) {
		for (v = 0; v < BAD_BY__COUNT && strcmp(by, bad_by_names[v]) != 0; v++)
			;
		if (v == BAD_BY__COUNT)
			return api_error_set(err, 400, "bad_request", "by", "by must be department, category or district");
	}
	out->top = 20;
	if (top && !rates_int_param(top, 1, ASSESS_BAD_TOP_MAX, &out->top))
		return api_error_set(err, 400, "bad_request", "top", "top must be an integer 1 to %d", ASSESS_BAD_TOP_MAX);
	memcpy(out->from, range.from, sizeof(out->from));
	memcpy(out->to, range.to, sizeof(out->to));
	out->by = (BadReviewBy)v;
	out->csv = range.csv;
	return true;
}

json_object *
assess_bad_reviews_json(const BadReviewQuery *q, const BadReviewRow *rows, size_t n)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();

	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_new_object();
		double rate;
		bool has = rates_fraction(rows[i].bad, rows[i].visited, &rate);

		json_object_object_add(row, "key", json_object_new_string(rows[i].key));
		json_object_object_add(row, "visited", json_object_new_int64(rows[i].visited));
		json_object_object_add(row, "bad", json_object_new_int64(rows[i].bad));
		json_object_object_add(row, "bad_rate", opt_double(has, rate));
		json_object_object_add(row, "rectified_on_time", json_object_new_int64(rows[i].rectified_on_time));
		json_object_array_add(list, row);
	}
	json_object_object_add(root, "from", json_object_new_string(q->from));
	json_object_object_add(root, "to", json_object_new_string(q->to));
	json_object_object_add(root, "by", json_object_new_string(assess_bad_by_name(q->by)));
	json_object_object_add(root, "top", json_object_new_int(q->top));
	json_object_object_add(root, "rows", list);
	return root;
}

char *
assess_bad_reviews_csv(const BadReviewRow *rows, size_t n, size_t *len)
{
	TextBuf t = {0};
	char num[64];

	textbuf_add_str(&t, "key,visited,bad,bad_rate,rectified_on_time\r\n");
	for (size_t i = 0; i < n; i++) {
		double rate;
		bool has = rates_fraction(rows[i].bad, rows[i].visited, &rate);

		rates_csv_text(&t, rows[i].key);
		snprintf(num, sizeof(num), ",%lld,%lld", (long long)rows[i].visited, (long long)rows[i].bad);
		textbuf_add_str(&t, num);
		csv_number(&t, has, rate);
		snprintf(num, sizeof(num), ",%lld\r\n", (long long)rows[i].rectified_on_time);
		textbuf_add_str(&t, num);
	}
	return csv_finish(&t, len);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* All five weights, numbers >= 0 summing to 1 within ASSESS_WEIGHT_SUM_TOLERANCE. */
static bool
weights_from_json(json_object *obj, Scorecard *out, ApiError *err)
{
	char field[64];
	double sum = 0.0;

	if (!json_object_is_type(obj, json_type_object))
		return api_error_set(err, 422, "invalid_field", "weights", "weights must be an object of the five rates");
	json_object_object_foreach(obj, key, val) {
		int r = 0;

		(void)val;
		while (r < SCORE_RATE__COUNT && strcmp(key, score_rates[r].name) != 0)
			r++;
		if (r == SCORE_RATE__COUNT) {
			snprintf(field, sizeof(field), "weights.%.40s", key);
			return api_error_set(err, 422, "invalid_field", field, "%s is not a rate of the scorecard", field);
		}
	}
	for (int r = 0; r < SCORE_RATE__COUNT; r++) {
		json_object *w = NULL;
		double v;

		snprintf(field, sizeof(field), "weights.%s", score_rates[r].name);
		if (!json_object_object_get_ex(obj, score_rates[r].name, &w) || !w)
			return api_error_set(err, 422, "missing_field", field, "%s is required", field);
		if (!json_object_is_type(w, json_type_double) && !json_object_is_type(w, json_type_int))
			return api_error_set(err, 422, "invalid_field", field, "%s must be a number", field);
		v = json_object_get_double(w);
		if (!isfinite(v) || v < 0.0)
			return api_error_set(err, 422, "invalid_field", field, "%s must be 0 or more", field);
		out->weight[r] = v;
		sum += v;
	}
	if (fabs(sum - 1.0) > ASSESS_WEIGHT_SUM_TOLERANCE)
		return api_error_set(err, 422, "invalid_field", "weights", "the weights must sum to 1, not %.15g", sum);
	return true;
}

/* Score (null last), then dispatched (more first), then department code. */
static int
row_order(const void *a, const void *b)
{
	const ScoreRow *x = a, *y = b;

	if (x->has_score != y->has_score)
		return x->has_score ? -1 : 1;
	if (x->has_score && x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->dispatched != y->dispatched)
		return x->dispatched > y->dispatched ? -1 : 1;
	return strcmp(x->department, y->department);
}

static json_object *
opt_double(bool has, double d)
{
	return has ? rates_double_json(d) : NULL;
}

/* ",<d>" in its shortest exact form, or "," alone for null. */
static void
csv_number(TextBuf *t, bool has, double d)
{
	char num[32];

	textbuf_add_str(t, ",");
	if (has)
		textbuf_add_str(t, rates_format_double(d, num, sizeof(num)));
}

static char *
csv_finish(TextBuf *t, size_t *len)
{
	if (t->failed) {
		free(t->buf);
		return NULL;
	}
	*len = t->len;
	return t->buf;
}
