/*
 * cmd_aids: the intake aids (API.md 13-15): a citizen's tracking, a caller's history,
 * and the knowledge base.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

static int run_track(Cli *cli, const Args *a);
static int run_caller(Cli *cli, const Args *a);
static int run_caller_flag(Cli *cli, const Args *a);
static int run_caller_unflag(Cli *cli, const Args *a);
static bool caller_path(Cli *cli, const char *phone, const char *suffix, char *path, size_t len);
static int run_kb_search(Cli *cli, const Args *a);
static int run_kb_show(Cli *cli, const Args *a);
static int get_target(Cli *cli, const char *path, const char *const *query, RenderFn render);

static const OptSpec caller_flag_opts[] = {
	{"note", 0, "TEXT", "what the operators should know (at most 500 characters)"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec kb_search_opts[] = {
	{"department", 0, "CODE", "only this department's articles"},
	{"limit", 0, "N", "at most N articles (server default 20, at most 100)"},
	{NULL, 0, NULL, NULL},
};

const Command cmd_aids_table[] = {
	{"track", "NUMBER CODE", "follow a case as the citizen does, with its number and tracking code (no token)",
	 NULL, 2, 2, run_track},
	/* before "caller": the first name that matches is taken */
	{"caller flag", "PHONE repeat|malicious [--note TEXT]",
	 "mark a caller as a repeat (重复来电) or malicious (恶意来电) caller (manager)", caller_flag_opts, 2, 2,
	 run_caller_flag},
	{"caller unflag", "PHONE", "clear a caller's flag (manager)", NULL, 1, 1, run_caller_unflag},
	{"caller", "PHONE", "a caller's cases of the last 90 days and flag (operator, manager, admin)", NULL, 1, 1,
	 run_caller},
	{"kb search", "[QUERY] [--department CODE] [--limit N]",
	 "knowledge-base articles, best match first (all enabled ones without QUERY)", kb_search_opts, 0, 1,
	 run_kb_search},
	{"kb show", "ID", "one knowledge-base article", NULL, 1, 1, run_kb_show},
	{NULL, NULL, NULL, NULL, 0, 0, NULL},
};

/*
 *********************************
 * Commands
 *********************************
 */

static int
run_track(Cli *cli, const Args *a)
{
	const char *query[] = {"code", a->pos[1], NULL};
	char path[128];

	if (snprintf(path, sizeof(path), "/v1/track/%s", a->pos[0]) >= (int)sizeof(path) ||
	    strchr(a->pos[0], '/') || strchr(a->pos[0], '?'))
		return cli_usage(cli, "NUMBER is a case number such as 20261128-000042");
	cli->anonymous = true;
	return get_target(cli, path, query, render_any);
}

static int
run_caller(Cli *cli, const Args *a)
{
	char path[64];
	const char *query[] = {NULL};

	if (!caller_path(cli, a->pos[0], "", path, sizeof(path)))
		return HL_USAGE;
	return get_target(cli, path, query, render_any);
}

static int
run_caller_flag(Cli *cli, const Args *a)
{
	char path[64];
	json_object *body;
	int rc;

	if (!caller_path(cli, a->pos[0], "/flag", path, sizeof(path)))
		return HL_USAGE;
	if (strcmp(a->pos[1], "repeat") != 0 && strcmp(a->pos[1], "malicious") != 0)
		return cli_usage(cli, "the flag is repeat or malicious");
	body = json_object_new_object();
	if (body == NULL || !cli_add_string(body, "kind", a->pos[1]) ||
	    !cli_add_string(body, "note", args_get(a, "note"))) {
		json_object_put(body);
		fputs("hotline: out of memory\n", stderr);
		return HL_FAILED;
	}
	rc = cli_call(cli, EVHTTP_REQ_PUT, path, body, render_any);
	json_object_put(body);
	return rc;
}

static int
run_caller_unflag(Cli *cli, const Args *a)
{
	char path[64];

	if (!caller_path(cli, a->pos[0], "/flag", path, sizeof(path)))
		return HL_USAGE;
	return cli_call(cli, EVHTTP_REQ_DELETE, path, NULL, render_any);
}

static int
run_kb_search(Cli *cli, const Args *a)
{
	const char *limit = args_get(a, "limit");
	const char *query[] = {"q", a->npos > 0 ? a->pos[0] : NULL, "department", args_get(a, "department"),
			       "limit", limit, NULL};
	long long n;

	if (limit && !cli_int(cli, "--limit", limit, 1, 100, &n))
		return HL_USAGE;
	return get_target(cli, "/v1/kb", query, render_articles);
}

static int
run_kb_show(Cli *cli, const Args *a)
{
	long long id;
	char path[64];
	const char *query[] = {NULL};

	if (!cli_id(cli, a->pos[0], &id))
		return HL_USAGE;
	snprintf(path, sizeof(path), "/v1/kb/%lld", id);
	return get_target(cli, path, query, render_any);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* /v1/callers/PHONE followed by suffix, or false after a usage message for a malformed phone. */
static bool
caller_path(Cli *cli, const char *phone, const char *suffix, char *path, size_t len)
{
	if (strlen(phone) > 20 || strspn(phone, "0123456789+-") != strlen(phone)) {
		cli_usage(cli, "PHONE is up to 20 digits, '+' and '-'");
		return false;
	}
	snprintf(path, len, "/v1/callers/%s%s", phone, suffix);
	return true;
}

/* GET path with the query's name/value pairs (NULL values left out, a NULL name ends them). */
static int
get_target(Cli *cli, const char *path, const char *const *query, RenderFn render)
{
	struct evbuffer *target = evbuffer_new();
	bool ok = target && evbuffer_add_printf(target, "%s", path) >= 0;
	int rc = HL_FAILED;

	for (size_t i = 0; ok && query[i]; i += 2)
		ok = cli_query(target, query[i], query[i + 1]);
	if (ok)
		rc = cli_call(cli, EVHTTP_REQ_GET, cli_buffer_text(target), NULL, render);
	else
		fputs("hotline: out of memory\n", stderr);
	if (target)
		evbuffer_free(target);
	return rc;
}
