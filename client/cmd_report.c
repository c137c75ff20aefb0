/*
 * cmd_report: the managers' reports: rates (also as CSV), overdue cases,
 * hotspots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

static int run_rates(Cli *cli, const Args *a);
static int run_overdue(Cli *cli, const Args *a);
static int run_hotspots(Cli *cli, const Args *a);
static int get_report(Cli *cli, struct evbuffer *target, bool csv, RenderFn render);

static const OptSpec rates_opts[] = {
	{"from", 0, "DATE", "first day, YYYY-MM-DD (required)"},
	{"to", 0, "DATE", "day after the last, YYYY-MM-DD (required)"},
	{"by", 0, "KEY", "department (default), district, type or channel"},
	{"csv", 0, NULL, "print the server's CSV as is"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec hotspots_opts[] = {
	{"days", 0, "N", "look at the last N days (server default 7)"},
	{"by", 0, "KEY", "district (default), category or department"},
	{"top", 0, "N", "show the N biggest groups (server default 20)"},
	{NULL, 0, NULL, NULL},
};

const Command cmd_report_table[] = {
	{"report rates", "--from DATE --to DATE [--by department|district|type|channel] [--csv]",
	 "response, on-time, resolution and satisfaction rates", rates_opts, 0, 0, run_rates},
	{"report overdue", "", "open cases past a deadline, by department", NULL, 0, 0, run_overdue},
	{"report hotspots", "[--days N] [--by district|category|department] [--top N]",
	 "the most frequent problems lately, and the rising ones", hotspots_opts, 0, 0,
	 run_hotspots},
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
	struct evbuffer *target;
	bool csv = args_has(a, "csv");

	if (to == NULL || !cli_date(cli, "from", from) || !cli_date(cli, "to", to) ||
	    (by && !cli_one_of(cli, "by", by, keys)))
		return HL_USAGE;
	target = evbuffer_new();
	if (target == NULL || evbuffer_add_printf(target, "/v1/reports/rates") < 0 ||
	    !cli_query(target, "from", from) || !cli_query(target, "to", to) ||
	    !cli_query(target, "by", by) || !cli_query(target, "format", csv ? "csv" : NULL)) {
		if (target)
			evbuffer_free(target);
		return HL_FAILED;
	}
	return get_report(cli, target, csv, render_rates);
}

static int
run_overdue(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/reports/overdue", NULL, render_any);
}

static int
run_hotspots(Cli *cli, const Args *a)
{
	static const char *const keys[] = {"district", "category", "department", NULL};
	const char *days = args_get(a, "days"), *top = args_get(a, "top"), *by = args_get(a, "by");
	struct evbuffer *target;
	long long n;

	if ((days && !cli_int(cli, "--days", days, 1, 3660, &n)) ||
	    (top && !cli_int(cli, "--top", top, 1, 1000, &n)) ||
	    (by && !cli_one_of(cli, "by", by, keys)))
		return HL_USAGE;
	target = evbuffer_new();
	if (target == NULL || evbuffer_add_printf(target, "/v1/reports/hotspots") < 0 ||
	    !cli_query(target, "days", days) || !cli_query(target, "by", by) ||
	    !cli_query(target, "top", top)) {
		if (target)
			evbuffer_free(target);
		return HL_FAILED;
	}
	return get_report(cli, target, false, render_any);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* GET target (freed here); CSV is printed as the server sent it. */
static int
get_report(Cli *cli, struct evbuffer *target, bool csv, RenderFn render)
{
	HttpRequest *req = cli_request(EVHTTP_REQ_GET, cli_buffer_text(target), NULL);
	int rc = HL_FAILED;

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
