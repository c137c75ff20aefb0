/*
 * cmd_report: the managers' reports: rates (also as CSV), overdue cases,
 * hotspots, the scorecard and the bad reviews (also as CSV).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

static int run_rates(Cli *cli, const Args *a);
static int run_overdue(Cli *cli, const Args *a);
static int run_hotspots(Cli *cli, const Args *a);
static int run_scorecard(Cli *cli, const Args *a);
static int run_bad_reviews(Cli *cli, const Args *a);
static int get_report(Cli *cli, const char *name, const char *const *query, bool csv,
		      RenderFn render);

static const OptSpec rates_opts[] = {
	{"from", 0, "DATE", "first day, YYYY-MM-DD (required)"},
	{"to", 0, "DATE", "day after the last, YYYY-MM-DD (required)"},
	{"by", 0, "KEY", "department (default), district, type or channel"},
	{"csv", 0, NULL, "print the server's CSV as is"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec overdue_opts[] = {
	{"limit", 0, "N", "list at most N cases per department (all are counted)"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec hotspots_opts[] = {
	{"days", 0, "N", "look at the last N days (server default 7)"},
	{"by", 0, "KEY", "district (default), category or department"},
	{"top", 0, "N", "show the N biggest groups (server default 20)"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec scorecard_opts[] = {
	{"from", 0, "DATE", "first day, YYYY-MM-DD (required)"},
	{"to", 0, "DATE", "day after the last, YYYY-MM-DD (required)"},
	{"csv", 0, NULL, "print the server's CSV as is"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec bad_reviews_opts[] = {
	{"from", 0, "DATE", "first day, YYYY-MM-DD (required)"},
	{"to", 0, "DATE", "day after the last, YYYY-MM-DD (required)"},
	{"by", 0, "KEY", "department (default), category or district"},
	{"top", 0, "N", "show the N groups with the most bad reviews (server default 20)"},
	{"csv", 0, NULL, "print the server's CSV as is"},
	{NULL, 0, NULL, NULL},
};

const Command cmd_report_table[] = {
	{"report rates", "--from DATE --to DATE [--by department|district|type|channel] [--csv]",
	 "response, on-time, resolution and satisfaction rates", rates_opts, 0, 0, run_rates},
	{"report overdue", "[--limit N]", "open cases past a deadline, by department", overdue_opts, 0,
	 0, run_overdue},
	{"report hotspots", "[--days N] [--by district|category|department] [--top N]",
	 "the most frequent problems lately, and the rising ones", hotspots_opts, 0, 0,
	 run_hotspots},
	{"report scorecard", "--from DATE --to DATE [--csv]", "the departments ranked on the weighted rates (考核排名)",
	 scorecard_opts, 0, 0, run_scorecard},
	{"report bad-reviews", "--from DATE --to DATE [--by department|category|district] [--top N] [--csv]",
	 "where the bad reviews (差评) pile up", bad_reviews_opts, 0, 0, run_bad_reviews},
	{NULL, NULL, NULL, NULL, 0, 0, NULL},
};

/*
 *********************************
 * Commands
 *********************************
 */

static int
run_rates(Cli *cli, const Args *a)
{
	static const char *const keys[] = {"department", "district", "type", "channel", NULL};
	const char *from = cli_need(cli, a, "from");
	const char *to = from ? cli_need(cli, a, "to") : NULL;
	const char *by = args_get(a, "by");
	bool csv = args_has(a, "csv");
	const char *const query[] = {"from", from, "to", to, "by", by,
				     "format", csv ? "csv" : NULL, NULL};

	if (to == NULL || !cli_date(cli, "from", from) || !cli_date(cli, "to", to) ||
	    (by && !cli_one_of(cli, "by", by, keys)))
		return HL_USAGE;
	return get_report(cli, "rates", query, csv, render_rates);
}

static int
run_overdue(Cli *cli, const Args *a)
{
	const char *limit = args_get(a, "limit");
	const char *const query[] = {"limit", limit, NULL};
	long long n;

	if (limit && !cli_int(cli, "--limit", limit, 1, 100000, &n))
		return HL_USAGE;
	return get_report(cli, "overdue", query, false, render_any);
}

static int
run_hotspots(Cli *cli, const Args *a)
{
	static const char *const keys[] = {"district", "category", "department", NULL};
	const char *days = args_get(a, "days"), *top = args_get(a, "top"), *by = args_get(a, "by");
	const char *const query[] = {"days", days, "by", by, "top", top, NULL};
	long long n;

	if ((days && !cli_int(cli, "--days", days, 1, 3660, &n)) ||
	    (top && !cli_int(cli, "--top", top, 1, 1000, &n)) ||
	    (by && !cli_one_of(cli, "by", by, keys)))
		return HL_USAGE;
	return get_report(cli, "hotspots", query, false, render_any);
}

static int
run_scorecard(Cli *cli, const Args *a)
{
	const char *from = cli_need(cli, a, "from");
	const char *to = from ? cli_need(cli, a, "to") : NULL;
	bool csv = args_has(a, "csv");
	const char *const query[] = {"from", from, "to", to, "format", csv ? "csv" : NULL, NULL};

	if (to == NULL || !cli_date(cli, "from", from) || !cli_date(cli, "to", to))
		return HL_USAGE;
	return get_report(cli, "scorecard", query, csv, render_any);
}

static int
run_bad_reviews(Cli *cli, const Args *a)
{
	static const char *const keys[] = {"department", "category", "district", NULL};
	const char *from = cli_need(cli, a, "from");
	const char *to = from ? cli_need(cli, a, "to") : NULL;
	const char *by = args_get(a, "by"), *top = args_get(a, "top");
	bool csv = args_has(a, "csv");
	const char *const query[] = {"from", from, "to", to, "by", by, "top", top, "format", csv ? "csv" : NULL, NULL};
	long long n;

	if (to == NULL || !cli_date(cli, "from", from) || !cli_date(cli, "to", to) ||
	    (by && !cli_one_of(cli, "by", by, keys)) || (top && !cli_int(cli, "--top", top, 1, 200, &n)))
		return HL_USAGE;
	return get_report(cli, "bad-reviews", query, csv, render_any);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* GET /v1/reports/<name> with the query's name/value pairs (a NULL value
 * is left out; a NULL name ends them); CSV is printed as the server sent it. */
static int
get_report(Cli *cli, const char *name, const char *const *query, bool csv, RenderFn render)
{
	struct evbuffer *target = evbuffer_new();
	HttpRequest *req = NULL;
	bool ok = target && evbuffer_add_printf(target, "/v1/reports/%s", name) >= 0;
	int rc = HL_FAILED;

	for (size_t i = 0; ok && query[i]; i += 2)
		ok = cli_query(target, query[i], query[i + 1]);
	if (ok)
		req = cli_request(EVHTTP_REQ_GET, cli_buffer_text(target), NULL);
	if (target)
		evbuffer_free(target);
	if (req == NULL)
		return HL_FAILED;
	if (csv)
		req->accept = "text/csv";
	rc = cli_send(cli, req);
	if (rc == HL_OK && csv)
		fwrite(req->response ? req->response : "", 1, req->response_len, stdout);
	else if (rc == HL_OK)
		rc = cli_output(cli, req, render);
	http_request_free(req);
	return rc;
}
