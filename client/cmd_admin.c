/*
 * cmd_admin: administration: routing rules, users and tokens, the SLA
 * policy, the working-day calendar, and who am I.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

static int run_rules_list(Cli *cli, const Args *a);
static int run_rules_add(Cli *cli, const Args *a);
static int run_rules_rm(Cli *cli, const Args *a);
static int run_users_add(Cli *cli, const Args *a);
static int run_users_list(Cli *cli, const Args *a);
static int run_users_disable(Cli *cli, const Args *a);
static int run_users_token(Cli *cli, const Args *a);
static int run_me(Cli *cli, const Args *a);
static int run_sla_get(Cli *cli, const Args *a);
static int run_sla_set(Cli *cli, const Args *a);
static int run_scorecard_get(Cli *cli, const Args *a);
static int run_scorecard_set(Cli *cli, const Args *a);
static int run_calendar_get(Cli *cli, const Args *a);
static int run_calendar_set(Cli *cli, const Args *a);
static int run_departments(Cli *cli, const Args *a);
static int run_categories(Cli *cli, const Args *a);
static json_object *rule_match(const Args *a);
static int remove_thing(Cli *cli, const Args *a, const char *what, const char *done);
static int print_token(Cli *cli, HttpRequest *req, const char *note);
static int put_file(Cli *cli, const char *target, const char *path);
static bool year_arg(const Cli *cli, const Args *a, long long *year);

static const OptSpec rules_add_opts[] = {
	{"name", 0, "N", "the rule's name (required)"},
	{"department", 0, "D", "where matching cases go (required)"},
	{"any", 0, "K1,K2", "at least one of these keywords"},
	{"all", 0, "K1,K2", "every one of these keywords"},
	{"none", 0, "K1,K2", "none of these keywords"},
	{"priority", 0, "P", "lower wins (server default)"},
	{"districts", 0, "D1,D2", "only cases from these districts"},
	{"types", 0, "T1,T2", "only cases of these types"},
	{"channels", 0, "C1,C2", "only cases from these channels"},
	{"categories", 0, "C1,C2", "only cases in these categories"},
	{"disabled", 0, NULL, "create it switched off"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec users_add_opts[] = {
	{"role", 0, "ROLE", "operator, department, manager or admin (required)"},
	{"department", 0, "CODE", "the department of a department user"},
	{NULL, 0, NULL, NULL},
};

const Command cmd_admin_table[] = {
	{"rules list", "", "list the routing rules", NULL, 0, 0, run_rules_list},
	{"rules add", "--name N --department D --any K1,K2 [--all ...] [--none ...] [--priority P]",
	 "add a routing rule (admin)", rules_add_opts, 0, 0, run_rules_add},
	{"rules rm", "ID", "delete a routing rule (admin)", NULL, 1, 1, run_rules_rm},
	{"users add", "NAME --role ROLE [--department CODE]",
	 "add a user and print its token (shown only once)", users_add_opts, 1, 1, run_users_add},
	{"users list", "", "list the users", NULL, 0, 0, run_users_list},
	{"users disable", "ID", "disable a user: its tokens stop working", NULL, 1, 1,
	 run_users_disable},
	{"users token", "ID", "give a user a new token (the old one stops working)", NULL, 1, 1,
	 run_users_token},
	{"me", "", "who the token belongs to", NULL, 0, 0, run_me},
	{"sla get", "", "show the time-limit policy", NULL, 0, 0, run_sla_get},
	{"sla set", "FILE.json|-", "replace the time-limit policy (admin)", NULL, 1, 1, run_sla_set},
	{"scorecard get", "", "show the assessment weights", NULL, 0, 0, run_scorecard_get},
	{"scorecard set", "FILE.json|-", "replace the assessment weights (admin)", NULL, 1, 1, run_scorecard_set},
	{"calendar get", "YEAR", "show a year's holidays and make-up working days", NULL, 1, 1,
	 run_calendar_get},
	{"calendar set", "YEAR FILE.json|-", "replace a year's calendar (admin)", NULL, 2, 2,
	 run_calendar_set},
	{"departments", "", "list the departments", NULL, 0, 0, run_departments},
	{"categories", "", "list the case categories", NULL, 0, 0, run_categories},
	{NULL, NULL, NULL, NULL, 0, 0, NULL},
};

/*
 *********************************
 * Commands
 *********************************
 */

static int
run_rules_list(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/rules", NULL, render_rules);
}

static int
run_rules_add(Cli *cli, const Args *a)
{
	const char *name = cli_need(cli, a, "name");
	const char *dept = name ? cli_need(cli, a, "department") : NULL;
	const char *prio = args_get(a, "priority");
	json_object *body, *match;
	long long p;
	int rc;

	if (dept == NULL || (prio && !cli_int(cli, "--priority", prio, -1000000, 1000000, &p)))
		return HL_USAGE;
	body = json_object_new_object();
	match = rule_match(a);
	json_object_object_add(body, "name", json_object_new_string(name));
	json_object_object_add(body, "department", json_object_new_string(dept));
	if (prio)
		json_object_object_add(body, "priority", json_object_new_int64(p));
	if (args_has(a, "disabled"))
		json_object_object_add(body, "enabled", json_object_new_boolean(0));
	json_object_object_add(body, "match", match);
	rc = cli_call(cli, EVHTTP_REQ_POST, "/v1/rules", body, render_any);
	json_object_put(body);
	return rc;
}

static int
run_rules_rm(Cli *cli, const Args *a)
{
	return remove_thing(cli, a, "rules", "deleted");
}

static int
run_users_add(Cli *cli, const Args *a)
{
	static const char *const roles[] = {"operator", "department", "manager", "admin", NULL};
	const char *role = cli_need(cli, a, "role");
	const char *dept = args_get(a, "department");
	json_object *body;
	HttpRequest *req;

	if (role == NULL || !cli_one_of(cli, "role", role, roles))
		return HL_USAGE;
	if (strcmp(role, "department") == 0 && dept == NULL)
		return cli_usage(cli, "a department user needs --department CODE");
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(a->pos[0]));
	json_object_object_add(body, "role", json_object_new_string(role));
	if (dept)
		json_object_object_add(body, "department", json_object_new_string(dept));
	req = cli_request(EVHTTP_REQ_POST, "/v1/users", body);
	json_object_put(body);
	return print_token(cli, req, "created");
}

static int
run_users_list(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/users", NULL, render_any);
}

static int
run_users_disable(Cli *cli, const Args *a)
{
	return remove_thing(cli, a, "users", "disabled: its tokens no longer work");
}

static int
run_users_token(Cli *cli, const Args *a)
{
	json_object *body = json_object_new_object();
	char target[64];
	long long id;
	HttpRequest *req;

	if (!cli_id(cli, a->pos[0], &id)) {
		json_object_put(body);
		return HL_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/users/%lld/token", id);
	req = cli_request(EVHTTP_REQ_POST, target, body);
	json_object_put(body);
	return print_token(cli, req, "has a new token (the old one is revoked)");
}

static int
run_me(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/me", NULL, render_any);
}

static int
run_sla_get(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/sla", NULL, render_any);
}

static int
run_sla_set(Cli *cli, const Args *a)
{
	return put_file(cli, "/v1/sla", a->pos[0]);
}

static int
run_scorecard_get(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/scorecard", NULL, render_any);
}

static int
run_scorecard_set(Cli *cli, const Args *a)
{
	return put_file(cli, "/v1/scorecard", a->pos[0]);
}

static int
run_calendar_get(Cli *cli, const Args *a)
{
	char target[64];
	long long year;

	if (!year_arg(cli, a, &year))
		return HL_USAGE;
	snprintf(target, sizeof(target), "/v1/calendar/%lld", year);
	return cli_call(cli, EVHTTP_REQ_GET, target, NULL, render_any);
}

static int
run_calendar_set(Cli *cli, const Args *a)
{
	char target[64];
	long long year;

	if (!year_arg(cli, a, &year))
		return HL_USAGE;
	snprintf(target, sizeof(target), "/v1/calendar/%lld", year);
	return put_file(cli, target, a->pos[1]);
}

static int
run_departments(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/departments", NULL, render_any);
}

static int
run_categories(Cli *cli, const Args *a)
{
	(void)a;
	return cli_call(cli, EVHTTP_REQ_GET, "/v1/categories", NULL, render_any);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* The rule's "match": any/all/none always (empty when not given), the
 * limiting lists only when given. */
static json_object *
rule_match(const Args *a)
{
	static const char *const always[] = {"any", "all", "none"};
	static const char *const limits[] = {"districts", "types", "channels", "categories"};
	json_object *match = json_object_new_object();

	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		json_object_object_add(match, always[i], cli_list_value(args_get(a, always[i])));
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (args_has(a, limits[i]))
			json_object_object_add(match, limits[i], cli_list_value(args_get(a, limits[i])));
	}
	return match;
}

/* DELETE /v1/<what>/ID; says "<thing> ID <done>". */
static int
remove_thing(Cli *cli, const Args *a, const char *what, const char *done)
{
	char target[64];
	long long id;
	HttpRequest *req;
	int rc;

	if (!cli_id(cli, a->pos[0], &id))
		return HL_USAGE;
	snprintf(target, sizeof(target), "/v1/%s/%lld", what, id);
	req = cli_request(EVHTTP_REQ_DELETE, target, NULL);
	if (req == NULL)
		return HL_FAILED;
	rc = cli_send(cli, req);
	if (rc == HL_OK && cli->json)
		rc = cli_output(cli, req, render_any);
	else if (rc == HL_OK)
		printf("%s %lld %s\n", strcmp(what, "rules") == 0 ? "rule" : "user", id, done);
	http_request_free(req);
	return rc;
}

/* Send req (freed here), whose answer holds a user and its new token:
 * the token alone goes to stdout, so that TOKEN=$(hotline users add ...)
 * works, and a note to stderr. */
static int
print_token(Cli *cli, HttpRequest *req, const char *note)
{
	json_object *doc = NULL, *token;
	char id[32], name[128], role[32];
	int rc;

	if (req == NULL)
		return HL_FAILED;
	rc = cli_send(cli, req);
	if (rc == HL_OK && cli->json)
		rc = cli_output(cli, req, render_any);
	else if (rc == HL_OK && (doc = cli_parse(req)) != NULL &&
		 json_object_object_get_ex(doc, "token", &token)) {
		puts(json_object_get_string(token));
		fprintf(stderr, "hotline: user %s (%s, %s) %s; keep the token: it is shown only once\n",
			render_text(doc, "id", id, sizeof(id)),
			render_text(doc, "name", name, sizeof(name)),
			render_text(doc, "role", role, sizeof(role)), note);
	} else if (rc == HL_OK) {
		fputs("hotline: the server's answer holds no token; see it with --json\n", stderr);
		rc = HL_FAILED;
	}
	json_object_put(doc);
	http_request_free(req);
	return rc;
}

/* PUT the JSON document in path ("-": stdin) to target. */
static int
put_file(Cli *cli, const char *target, const char *path)
{
	size_t len;
	char *text = cli_read_input(path, &len);
	json_object *doc;
	int rc;

	if (text == NULL)
		return HL_USAGE;
	doc = json_tokener_parse(text);
	free(text);
	if (!json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return cli_usage(cli, "%s does not hold a JSON object", path);
	}
	rc = cli_call(cli, EVHTTP_REQ_PUT, target, doc, render_any);
	json_object_put(doc);
	return rc;
}

static bool
year_arg(const Cli *cli, const Args *a, long long *year)
{
	return cli_int(cli, "YEAR", a->pos[0], 1900, 9999, year);
}
