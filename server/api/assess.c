/*
 * api/assess: the scorecard weights and the assessment reports (API.md section 17).
 *
 * The weights live in one row (sql/014_handling.sql `scorecard`), stored as core/assess.c
 * wrote them. The scorecard report is one call of report_scorecard (the weights, then the
 * section 5 counts per department); core/assess computes, filters and ranks. The
 * bad-reviews report is one call of report_bad_reviews, which counts, orders and cuts. Both
 * reports take the slow-read lane, as the section 5 reports do.
 */
#include "api/assess.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/assess.h"
#include "http/reply.h"
#include "log.h"

/* The columns of report_scorecard, in its order. */
enum {
	SC_WEIGHTS,
	SC_DEPARTMENT,
	SC_NAME,
	SC_DISPATCHED,
	SC_CONTACTED_ON_TIME,
	SC_REPLIED,
	SC_REPLIED_ON_TIME,
	SC_VISITED,
	SC_RESOLVED,
	SC_SATISFIED,
	SC_RETURNED,
	SC__COUNT
};

/* Where each counted column goes in a RateCounts. */
static const RateCount sc_counts[SC__COUNT] = {
	[SC_DISPATCHED] = RC_DISPATCHED,   [SC_CONTACTED_ON_TIME] = RC_CONTACTED_ON_TIME,
	[SC_REPLIED] = RC_REPLIED,         [SC_REPLIED_ON_TIME] = RC_REPLIED_ON_TIME,
	[SC_VISITED] = RC_VISITED,         [SC_RESOLVED] = RC_RESOLVED,
	[SC_SATISFIED] = RC_SATISFIED,     [SC_RETURNED] = RC_RETURNED,
};

static void scorecard_get_cb(Req *req, PGresult *res);
static void scorecard_report_cb(Req *req, PGresult *res);
static void bad_reviews_cb(Req *req, PGresult *res);
static bool stored_scorecard(Req *req, const char *text, Scorecard *out);
static bool scorecard_query_of(Req *req, RatesQuery *q, ApiError *err);
static bool bad_query_of(Req *req, BadReviewQuery *q, ApiError *err);
static void reply_csv_or_oom(Req *req, char *csv, size_t len, const char *filename);
static void reply_json_or_oom(Req *req, json_object *obj);

/*
 *********************************
 * Handlers
 *********************************
 */

static void
scorecard_get(Req *req)
{
	req_query(req, "SELECT body::text FROM scorecard", 0, NULL, scorecard_get_cb);
}

static void
scorecard_put(Req *req)
{
	Scorecard s;
	ApiError err;
	json_object *canonical;
	char actor[24];

	if (!assess_scorecard_from_json(req->body, &s, &err)) {
		reply_api_error(req, &err);
		return;
	}
	canonical = assess_scorecard_to_json(&s);
	if (!canonical) {
		reply_out_of_memory(req);
		return;
	}
	snprintf(actor, sizeof(actor), "%lld", (long long)req->user.id);
	const char *params[] = {
		json_object_to_json_string_ext(canonical, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), actor};

	req_query(req,
		  "UPDATE scorecard SET body = $1::jsonb, updated_at = now(), updated_by = $2::bigint "
		  "RETURNING body::text",
		  2, params, scorecard_get_cb); /* copies the params */
	json_object_put(canonical);
}

static void
scorecard_report(Req *req)
{
	RatesQuery q;
	ApiError err;

	if (!scorecard_query_of(req, &q, &err)) {
		reply_api_error(req, &err);
		return;
	}
	const char *params[] = {q.from, q.to};

	if (!req_enter_read_lane(req))
		return;
	req_query(req, "SELECT * FROM report_scorecard($1::date, $2::date)", 2, params, scorecard_report_cb);
}

static void
bad_reviews(Req *req)
{
	BadReviewQuery q;
	ApiError err;
	char top[16];

	if (!bad_query_of(req, &q, &err)) {
		reply_api_error(req, &err);
		return;
	}
	snprintf(top, sizeof(top), "%d", q.top);
	const char *params[] = {q.from, q.to, assess_bad_by_name(q.by), top};

	if (!req_enter_read_lane(req))
		return;
	req_query(req, "SELECT * FROM report_bad_reviews($1::date, $2::date, $3, $4::integer)", 4, params,
		  bad_reviews_cb);
}

#define ADMIN ROLE_BIT(ROLE_ADMIN)
#define READERS (ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_ADMIN))

static const Route assess_route_list[] = {
	{"GET", "/v1/scorecard", READERS, BODY_NONE, scorecard_get},
	{"PUT", "/v1/scorecard", ADMIN, BODY_JSON, scorecard_put},
	{"GET", "/v1/reports/scorecard", READERS, BODY_NONE, scorecard_report},
	{"GET", "/v1/reports/bad-reviews", READERS, BODY_NONE, bad_reviews},
};

const RouteTable *
assess_routes(void)
{
	static const RouteTable table = {assess_route_list, sizeof(assess_route_list) / sizeof(assess_route_list[0])};

	return &table;
}

/*
 *********************************
 * Callbacks
 *********************************
 */

/* The stored (or just stored) weights, answered in canonical form. */
static void
scorecard_get_cb(Req *req, PGresult *res)
{
	Scorecard s;

	if (PQntuples(res) != 1 || !stored_scorecard(req, PQgetvalue(res, 0, 0), &s))
		return;
	reply_json_or_oom(req, assess_scorecard_to_json(&s));
}

/* Rows of report_scorecard: the weights in each, one row of NULL department when there is none. */
static void
scorecard_report_cb(Req *req, PGresult *res)
{
	int n = PQntuples(res);
	size_t used = 0, ranked;
	ScoreInput *in = NULL;
	ScoreRow *rows = NULL;
	Scorecard s;
	RatesQuery q;
	ApiError err;

	if (!scorecard_query_of(req, &q, &err) || n < 1 || PQnfields(res) != SC__COUNT) {
		log_error("req=%llu: the scorecard query gave an unexpected result", (unsigned long long)req->id);
		reply_internal(req);
		return;
	}
	if (!stored_scorecard(req, PQgetvalue(res, 0, SC_WEIGHTS), &s))
		return;
	in = calloc((size_t)n, sizeof(*in));
	rows = calloc((size_t)n, sizeof(*rows));
	if (!in || !rows) {
		reply_out_of_memory(req);
		goto done;
	}
	for (int i = 0; i < n; i++) {
		if (PQgetisnull(res, i, SC_DEPARTMENT))
			continue;
		in[used].department = PQgetvalue(res, i, SC_DEPARTMENT);
		in[used].name = db_value(res, i, SC_NAME);
		for (int c = SC_DISPATCHED; c < SC__COUNT; c++)
			in[used].counts.n[sc_counts[c]] = strtoll(PQgetvalue(res, i, c), NULL, 10);
		used++;
	}
	ranked = assess_scorecard_rank(&s, in, used, rows);
	if (q.csv) {
		char filename[64];
		size_t len = 0;
		char *csv = assess_scorecard_csv(rows, ranked, &len);

		snprintf(filename, sizeof(filename), "scorecard-%s-%s.csv", q.from, q.to);
		reply_csv_or_oom(req, csv, len, filename);
	} else {
		reply_json_or_oom(req, assess_scorecard_json(&s, q.from, q.to, rows, ranked));
	}
done:
	free(in);
	free(rows);
}

/* Rows of report_bad_reviews: key, visited, bad, rectified_on_time. */
static void
bad_reviews_cb(Req *req, PGresult *res)
{
	int n = PQntuples(res);
	BadReviewRow *rows = NULL;
	BadReviewQuery q;
	ApiError err;

	if (!bad_query_of(req, &q, &err) || PQnfields(res) != 4) {
		log_error("req=%llu: the bad-reviews query gave an unexpected result", (unsigned long long)req->id);
		reply_internal(req);
		return;
	}
	rows = calloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	if (!rows) {
		reply_out_of_memory(req);
		return;
	}
	for (int i = 0; i < n; i++) {
		rows[i].key = PQgetvalue(res, i, 0);
		rows[i].visited = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		rows[i].bad = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		rows[i].rectified_on_time = strtoll(PQgetvalue(res, i, 3), NULL, 10);
	}
	if (q.csv) {
		char filename[80];
		size_t len = 0;
		char *csv = assess_bad_reviews_csv(rows, (size_t)n, &len);

		snprintf(filename, sizeof(filename), "bad-reviews-%s-%s-%s.csv", assess_bad_by_name(q.by), q.from, q.to);
		reply_csv_or_oom(req, csv, len, filename);
	} else {
		reply_json_or_oom(req, assess_bad_reviews_json(&q, rows, (size_t)n));
	}
	free(rows);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* The stored weights parsed; answers 500 and returns false when they do not parse. */
static bool
stored_scorecard(Req *req, const char *text, Scorecard *out)
{
	json_object *stored = json_tokener_parse(text);
	ApiError err;
	bool ok = stored && assess_scorecard_from_json(stored, out, &err);

	json_object_put(stored);
	if (!ok) {
		log_error("req=%llu: the stored scorecard does not parse", (unsigned long long)req->id);
		reply_internal(req);
	}
	return ok;
}

/* from, to and format as the rates report takes them (its `by` does not apply). */
static bool
scorecard_query_of(Req *req, RatesQuery *q, ApiError *err)
{
	return rates_query_parse(req_param(req, "from"), req_param(req, "to"), NULL, req_param(req, "format"),
				 req_header(req, "Accept"), q, err);
}

static bool
bad_query_of(Req *req, BadReviewQuery *q, ApiError *err)
{
	return assess_bad_reviews_query_parse(req_param(req, "from"), req_param(req, "to"), req_param(req, "by"),
					      req_param(req, "top"), req_param(req, "format"),
					      req_header(req, "Accept"), q, err);
}

/* Send csv (taking it) or answer out of memory when it is NULL. */
static void
reply_csv_or_oom(Req *req, char *csv, size_t len, const char *filename)
{
	if (csv)
		reply_csv(req, csv, len, filename);
	else
		reply_out_of_memory(req);
	free(csv);
}

static void
reply_json_or_oom(Req *req, json_object *obj)
{
	if (obj)
		reply_json(req, 200, obj);
	else
		reply_out_of_memory(req);
}
