/*
 * api/reports: the manager reports (API.md section 5), for managers and admins only.
 *
 * SQL counts (sql/007_reports.sql: report_rates, report_hotspots over the narrow
 * case_facts table; report_overdue over the open cases' partial index), core/rates.c
 * turns counts into rates and renders JSON or CSV. No report carries caller data.
 * The query is validated before the database is asked, and validated again in the
 * callback to get it back (it cannot fail there: the request has not changed).
 * Every report runs on the slow-read lane (http/request.h).
 */
#include "api/reports.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/rates.h"
#include "http/reply.h"
#include "log.h"

static bool rates_query_of(Req *req, RatesQuery *q, ApiError *err);
static bool hotspot_query_of(Req *req, HotspotQuery *q, ApiError *err);
static void reports_rates_done(Req *req, PGresult *res);
static void reports_hotspots_done(Req *req, PGresult *res);
static void reply_bad_result(Req *req, const char *what);

/*
 *********************************
 * Handlers
 *********************************
 */

static void
reports_rates(Req *req)
{
	RatesQuery q;
	ApiError err;

	if (!rates_query_of(req, &q, &err)) {
		reply_api_error(req, &err);
		return;
	}
	const char *params[] = {q.from, q.to, rates_by_name(q.by)};

	if (!req_enter_read_lane(req))
		return;
	req_query(req, "SELECT * FROM report_rates($1::date, $2::date, $3)", 3, params, reports_rates_done);
}

static void
reports_overdue(Req *req)
{
	ApiError err;
	char limit[16];
	int n;

	if (!overdue_query_parse(req_param(req, "limit"), &n, &err)) {
		reply_api_error(req, &err);
		return;
	}
	snprintf(limit, sizeof(limit), "%d", n);
	const char *params[] = {limit};

	if (!req_enter_read_lane(req))
		return;
	req_query_reply(req, "SELECT * FROM report_overdue($1::integer)", 1, params);
}

static void
reports_hotspots(Req *req)
{
	HotspotQuery q;
	ApiError err;
	char days[16], top[16];

	if (!hotspot_query_of(req, &q, &err)) {
		reply_api_error(req, &err);
		return;
	}
	snprintf(days, sizeof(days), "%d", q.days);
	snprintf(top, sizeof(top), "%d", q.top);
	const char *params[] = {days, hotspot_by_name(q.by), top};

	if (!req_enter_read_lane(req))
		return;
	req_query(req, "SELECT * FROM report_hotspots($1::integer, $2, $3::integer)", 3, params,
		  reports_hotspots_done);
}

#define REPORTERS (ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_ADMIN))

static const Route reports_route_list[] = {
	{"GET", "/v1/reports/rates", REPORTERS, BODY_NONE, reports_rates},
	{"GET", "/v1/reports/overdue", REPORTERS, BODY_NONE, reports_overdue},
	{"GET", "/v1/reports/hotspots", REPORTERS, BODY_NONE, reports_hotspots},
};

const RouteTable *
reports_routes(void)
{
	static const RouteTable table = {reports_route_list,
					 sizeof(reports_route_list) / sizeof(reports_route_list[0])};

	return &table;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static bool
rates_query_of(Req *req, RatesQuery *q, ApiError *err)
{
	return rates_query_parse(req_param(req, "from"), req_param(req, "to"), req_param(req, "by"),
				 req_param(req, "format"), req_header(req, "Accept"), q, err);
}

static bool
hotspot_query_of(Req *req, HotspotQuery *q, ApiError *err)
{
	return hotspot_query_parse(req_param(req, "days"), req_param(req, "by"), req_param(req, "top"), q, err);
}

/* Rows of report_rates: key, then the RC__COUNT counts. Keys point into res. */
static void
reports_rates_done(Req *req, PGresult *res)
{
	int n = PQntuples(res);
	RateRow *rows = NULL;
	RatesQuery q;
	ApiError err;

	if (!rates_query_of(req, &q, &err) || PQnfields(res) != 1 + RC__COUNT) {
		reply_bad_result(req, "rates");
		return;
	}
	rows = calloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	if (!rows) {
		reply_out_of_memory(req);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *texts[RC__COUNT];

		rows[i].key = db_value(res, i, 0);
		for (int j = 0; j < RC__COUNT; j++)
			texts[j] = PQgetvalue(res, i, j + 1);
		if (!rates_counts_parse(texts, &rows[i].counts)) {
			reply_bad_result(req, "rates");
			goto done;
		}
	}
	if (q.csv) {
		char filename[64];
		size_t len = 0;
		char *csv = rates_report_csv(rows, (size_t)n, &len);

		snprintf(filename, sizeof(filename), "rates-%s-%s-%s.csv", rates_by_name(q.by), q.from, q.to);
		if (csv)
			reply_csv(req, csv, len, filename);
		else
			reply_out_of_memory(req);
		free(csv);
	} else {
		json_object *report = rates_report_json(&q, rows, (size_t)n);

		if (report)
			reply_json(req, 200, report);
		else
			reply_out_of_memory(req);
	}
done:
	free(rows);
}

/* Rows of report_hotspots: key, count, previous, window_from, window_to; one row of NULL
 * key and counts when no group has cases. */
static void
reports_hotspots_done(Req *req, PGresult *res)
{
	int n = PQntuples(res), used = 0;
	Hotspot *rows = NULL;
	HotspotQuery q;
	ApiError err;
	json_object *report;

	if (!hotspot_query_of(req, &q, &err) || PQnfields(res) != 5 || n < 1) {
		reply_bad_result(req, "hotspots");
		return;
	}
	rows = calloc((size_t)n, sizeof(*rows));
	if (!rows) {
		reply_out_of_memory(req);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (PQgetisnull(res, i, 1))
			continue;
		rows[used].key = PQgetvalue(res, i, 0);
		rows[used].count = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		rows[used].previous = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		used++;
	}
	report = rates_hotspots_json(&q, PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), rows, (size_t)used);
	if (report)
		reply_json(req, 200, report);
	else
		reply_out_of_memory(req);
	free(rows);
}

static void
reply_bad_result(Req *req, const char *what)
{
	log_error("req=%llu: the %s report query gave an unexpected result", (unsigned long long)req->id, what);
	reply_internal(req);
}
