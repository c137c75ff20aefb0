/*
 * cmd_cases: commands on cases: submit, show, history, list, inbox, the
 * actions of the case's life (dispatch ... merge), and the routing dry run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

#define IF_MATCH_OPT {"if-match", 0, "VERSION", "act only if the case is still at this version"}
#define MAX_PAGES 100000	/* list --all stops here even if the server never does */

static int run_submit(Cli *cli, const Args *a);
static int run_show(Cli *cli, const Args *a);
static int run_history(Cli *cli, const Args *a);
static int run_list(Cli *cli, const Args *a);
static int run_inbox(Cli *cli, const Args *a);
static int run_dispatch(Cli *cli, const Args *a);
static int run_sign(Cli *cli, const Args *a);
static int run_return(Cli *cli, const Args *a);
static int run_contact(Cli *cli, const Args *a);
static int run_extend(Cli *cli, const Args *a);
static int run_approve(Cli *cli, const Args *a);
static int run_reject(Cli *cli, const Args *a);
static int run_reply(Cli *cli, const Args *a);
static int run_visit(Cli *cli, const Args *a);
static int run_supervise(Cli *cli, const Args *a);
static int run_merge(Cli *cli, const Args *a);
static int run_assist(Cli *cli, const Args *a);
static int run_suspend(Cli *cli, const Args *a);
static int run_resume(Cli *cli, const Args *a);
static int run_review(Cli *cli, const Args *a);
static int run_decline(Cli *cli, const Args *a);
static int run_route(Cli *cli, const Args *a);
static int run_similar(Cli *cli, const Args *a);
static int post_probe(Cli *cli, const Args *a, const char *target, RenderFn render);
static json_object *case_body(const Cli *cli, const Args *a);
static json_object *text_body(Cli *cli, const Args *a, int *rc);
static bool add_number(const Cli *cli, json_object *obj, const char *key, const char *text,
		       double min, double max);
static bool valid_key(const char *key);
static int submit_output(const Cli *cli, const HttpRequest *req);
typedef char *(*PageTarget)(const Cli *cli, const Args *a, const char *after);
static char *list_target(const Cli *cli, const Args *a, const char *after);
static char *inbox_target(const Cli *cli, const Args *a, const char *after);
static int one_page(Cli *cli, const Args *a, PageTarget target_of);
static int all_pages(Cli *cli, const Args *a, PageTarget target_of);
static int act(Cli *cli, const Args *a, const char *action, json_object *body);
static int get_case_path(Cli *cli, const Args *a, const char *suffix, RenderFn render);

static const OptSpec submit_opts[] = {
	{"text", 0, "TEXT", "what the citizen said (required; - reads standard input)"},
	{"title", 0, "T", "short title"},
	{"type", 0, "T", "consult, complaint (default), help, report, suggestion, praise"},
	{"channel", 0, "C", "phone (default), web, app, wechat, kiosk, hall, email, open311"},
	{"category", 0, "CODE", "category code, e.g. urban_mgmt.03"},
	{"district", 0, "D", "district"},
	{"address", 0, "A", "address"},
	{"lat", 0, "DEG", "latitude, -90 to 90"},
	{"lon", 0, "DEG", "longitude, -180 to 180"},
	{"urgent", 0, NULL, "urgent case (short deadlines)"},
	{"name", 0, "N", "caller's name"},
	{"phone", 0, "P", "caller's phone"},
	{"confidential", 0, NULL, "hide the caller from the department"},
	{"department", 0, "CODE", "dispatch to this department directly"},
	{"answer", 0, "TEXT", "answered on the call (the case starts 'answered')"},
	{"kb", 0, "ID", "the knowledge-base article the answer used (with --answer)"},
	{"key", 0, "KEY", "Idempotency-Key (default: a new UUID); reuse it to retry safely"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec list_opts[] = {
	{"state", 0, "S", "only cases in this state"},
	{"department", 0, "D", "only this department's cases"},
	{"district", 0, "D", "only this district"},
	{"type", 0, "T", "only this type"},
	{"channel", 0, "C", "only this channel"},
	{"urgent", 0, NULL, "only urgent cases"},
	{"overdue", 0, NULL, "only cases past a deadline"},
	{"from", 0, "DATE", "created on or after this day (YYYY-MM-DD)"},
	{"to", 0, "DATE", "created before this day (YYYY-MM-DD)"},
	{"q", 'q', "TEXT", "search title and text"},
	{"limit", 0, "N", "cases per page, 1 to 500 (server default 50)"},
	{"after", 0, "CURSOR", "continue after this cursor (from a previous page)"},
	{"all", 0, NULL, "follow the cursors and list every matching case"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec inbox_opts[] = {
	{"limit", 0, "N", "cases per page, 1 to 500 (server default 50)"},
	{"after", 0, "CURSOR", "continue after this cursor (from a previous page)"},
	{"all", 0, NULL, "follow the cursors and show every open case"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec if_match_opts[] = {IF_MATCH_OPT, {NULL, 0, NULL, NULL}};
static const OptSpec dispatch_opts[] = {
	{"co", 0, "D1,D2", "co-departments (协办, at most 5) beside the lead DEPT"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec assist_opts[] = {
	{"text", 0, "T", "this co-department's part (required; - reads standard input)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec suspend_opts[] = {
	{"reason", 0, "R", "what the case waits for (required)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec review_opts[] = {
	{"approve", 0, NULL, "approve the reply (the citizen can be called back)"},
	{"send-back", 0, NULL, "send the reply back to the department (退回重办)"},
	{"reason", 0, "R", "why it goes back (required with --send-back)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec decline_opts[] = {
	{"reason", 0, "CODE", "out_of_scope, emergency, judicial, petition, legislature, repeat_no_new_facts, "
			      "malicious or secret (required)"},
	{"note", 0, "N", "what the citizen was told"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec return_opts[] = {
	{"reason", 0, "R", "why it is not this department's (required)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec contact_opts[] = {
	{"note", 0, "N", "what was said to the citizen"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec extend_opts[] = {
	{"workdays", 0, "N", "working days more (required)"},
	{"reason", 0, "R", "why (required)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec reply_opts[] = {
	{"text", 0, "T", "the department's reply (required; - reads standard input)"},
	{"unresolved", 0, NULL, "the problem is not solved"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec visit_opts[] = {
	{"score", 0, "1-5", "5 very satisfied ... 1 very unsatisfied (required)"},
	{"unresolved", 0, NULL, "the citizen says the problem is not solved"},
	{"comment", 0, "C", "what the citizen said"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec supervise_opts[] = {
	{"note", 0, "N", "the supervision note (required)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec merge_opts[] = {
	{"into", 0, "ID2", "the open case this one duplicates (required)"},
	IF_MATCH_OPT, {NULL, 0, NULL, NULL},
};
static const OptSpec route_opts[] = {
	{"text", 0, "TEXT", "the case text (required unless --explain; - reads standard input)"},
	{"explain", 0, "TEXT", "route TEXT and explain: the rules' decision and the model's top three"},
	{"title", 0, "T", "title"},
	{"district", 0, "D", "district"},
	{"type", 0, "T", "type"},
	{"channel", 0, "C", "channel"},
	{"category", 0, "CODE", "category code"},
	{NULL, 0, NULL, NULL},
};

const Command cmd_cases_table[] = {
	{"submit", "--text TEXT|- [options]", "create a case (retried safely with an Idempotency-Key)",
	 submit_opts, 0, 0, run_submit},
	{"show", "ID", "show one case", NULL, 1, 1, run_show},
	{"history", "ID", "show a case's history", NULL, 1, 1, run_history},
	{"list", "[filters] [--limit N] [--all]", "list cases, newest first", list_opts, 0, 0,
	 run_list},
	{"inbox", "[--limit N] [--all]", "your department's open cases, nearest deadline first", inbox_opts, 0,
	 0, run_inbox},
	{"dispatch", "ID DEPT [--co D1,D2]", "send a pending case to a department (and co-departments)",
	 dispatch_opts, 2, 2, run_dispatch},
	{"sign", "ID", "sign for a dispatched case (department)", if_match_opts, 1, 1, run_sign},
	{"return", "ID --reason R", "return a case that is not yours (department)", return_opts, 1, 1,
	 run_return},
	{"contact", "ID [--note N]", "record the first contact with the citizen", contact_opts, 1, 1,
	 run_contact},
	{"extend", "ID --workdays N --reason R", "ask for more time", extend_opts, 1, 1, run_extend},
	{"approve", "ID", "approve a case's extension request (manager)", if_match_opts, 1, 1,
	 run_approve},
	{"reject", "ID", "reject a case's extension request (manager)", if_match_opts, 1, 1,
	 run_reject},
	{"reply", "ID --text T|- [--unresolved]", "reply to the citizen (department)", reply_opts, 1, 1,
	 run_reply},
	{"visit", "ID --score 1-5 [--unresolved] [--comment C]", "record the satisfaction visit",
	 visit_opts, 1, 1, run_visit},
	{"supervise", "ID --note N", "supervise a case (manager)", supervise_opts, 1, 1,
	 run_supervise},
	{"merge", "ID --into ID2", "merge a duplicate into an open case", merge_opts, 1, 1,
	 run_merge},
	{"assist", "ID --text T|-", "record a co-department's part (co-department)", assist_opts, 1, 1,
	 run_assist},
	{"suspend", "ID --reason R", "stop the clocks while the case waits (department)", suspend_opts, 1, 1,
	 run_suspend},
	{"resume", "ID", "start the clocks again (department, manager)", if_match_opts, 1, 1, run_resume},
	{"review", "ID --approve | --send-back --reason R", "review a reply (operator, manager)", review_opts, 1,
	 1, run_review},
	{"decline", "ID --reason CODE [--note N]", "decline a request (不予受理; operator, manager)",
	 decline_opts, 1, 1, run_decline},
	{"route", "--text TEXT | --explain TEXT [--district D] [--type T] [--channel C]",
	 "show where a case would go, creating nothing", route_opts, 0, 0, run_route},
	{"similar", "--text TEXT [--title T] [--district D]",
	 "open cases of the last 30 days like this one (to merge instead of filing a duplicate)", route_opts, 0, 0,
	 run_similar},
	{NULL, NULL, NULL, NULL, 0, 0, NULL},
};

/*
 *********************************
 * Commands
 *********************************
 */

static int
run_submit(Cli *cli, const Args *a)
{
	const char *key = args_get(a, "key");
	json_object *body = case_body(cli, a);
	HttpRequest *req = NULL;
	int rc = HL_USAGE;

	if (body == NULL)
		return HL_USAGE;
	if (key && !valid_key(key)) {
		cli_usage(cli, "--key must be 1 to 255 printable ASCII characters");
		goto done;
	}
	rc = HL_FAILED;
	req = cli_request(EVHTTP_REQ_POST, "/v1/cases", body);
	if (req == NULL)
		goto done;
	if (key)
		snprintf(req->idempotency_key, sizeof(req->idempotency_key), "%s", key);
	else if (!http_uuid4(req->idempotency_key)) {
		fputs("hotline: no randomness for an Idempotency-Key; pass --key\n", stderr);
		goto done;
	}
	/* The key makes a repeat harmless: the server answers the first case. */
	req->replayable = true;
	rc = cli_send(cli, req);
	if (rc == HL_OK)
		rc = submit_output(cli, req);
	else if (rc == HL_UNREACHABLE)
		fprintf(stderr, "hotline: to try again without making a duplicate, add --key %s\n",
			req->idempotency_key);
done:
	http_request_free(req);
	json_object_put(body);
	return rc;
}

static int
run_show(Cli *cli, const Args *a)
{
	return get_case_path(cli, a, "", render_any);
}

static int
run_history(Cli *cli, const Args *a)
{
	return get_case_path(cli, a, "/events", render_history);
}

static int
run_list(Cli *cli, const Args *a)
{
	return args_has(a, "all") ? all_pages(cli, a, list_target) : one_page(cli, a, list_target);
}

static int
run_inbox(Cli *cli, const Args *a)
{
	return args_has(a, "all") ? all_pages(cli, a, inbox_target) : one_page(cli, a, inbox_target);
}

/* One page of a listing, with a hint on stderr when there are more. */
static int
one_page(Cli *cli, const Args *a, PageTarget target_of)
{
	char *target;
	HttpRequest *req;
	json_object *doc, *next;
	int rc;

	target = target_of(cli, a, args_get(a, "after"));
	if (target == NULL)
		return HL_USAGE;
	req = cli_request(EVHTTP_REQ_GET, target, NULL);
	free(target);
	if (req == NULL)
		return HL_FAILED;
	rc = cli_send(cli, req);
	if (rc == HL_OK)
		rc = cli_output(cli, req, render_case_table);
	doc = rc == HL_OK && !cli->json ? cli_parse(req) : NULL;
	next = render_get(doc, "next");
	if (json_object_is_type(next, json_type_string))
		fprintf(stderr, "hotline: more cases: add --after %s, or --all for every page\n",
			json_object_get_string(next));
	json_object_put(doc);
	http_request_free(req);
	return rc;
}

static int
run_dispatch(Cli *cli, const Args *a)
{
	json_object *body = json_object_new_object();
	const char *co = args_get(a, "co");

	cli_add_string(body, "department", a->pos[1]);
	if (co)
		json_object_object_add(body, "co", cli_list_value(co));
	return act(cli, a, "dispatch", body);
}

static int
run_sign(Cli *cli, const Args *a)
{
	return act(cli, a, "sign", json_object_new_object());
}

static int
run_return(Cli *cli, const Args *a)
{
	const char *reason = cli_need(cli, a, "reason");
	json_object *body;

	if (reason == NULL)
		return HL_USAGE;
	body = json_object_new_object();
	cli_add_string(body, "reason", reason);
	return act(cli, a, "return", body);
}

static int
run_contact(Cli *cli, const Args *a)
{
	json_object *body = json_object_new_object();

	cli_add_string(body, "note", args_get(a, "note"));
	return act(cli, a, "contact", body);
}

static int
run_extend(Cli *cli, const Args *a)
{
	const char *days = cli_need(cli, a, "workdays");
	const char *reason = days ? cli_need(cli, a, "reason") : NULL;
	long long n;
	json_object *body;

	if (reason == NULL || !cli_int(cli, "--workdays", days, 1, 365, &n))
		return HL_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "workdays", json_object_new_int64(n));
	cli_add_string(body, "reason", reason);
	return act(cli, a, "extend", body);
}

static int
run_approve(Cli *cli, const Args *a)
{
	return act(cli, a, "extension/approve", json_object_new_object());
}

static int
run_reject(Cli *cli, const Args *a)
{
	return act(cli, a, "extension/reject", json_object_new_object());
}

static int
run_reply(Cli *cli, const Args *a)
{
	int rc;
	json_object *body = text_body(cli, a, &rc);

	if (body == NULL)
		return rc;
	json_object_object_add(body, "resolved", json_object_new_boolean(!args_has(a, "unresolved")));
	return act(cli, a, "reply", body);
}

static int
run_visit(Cli *cli, const Args *a)
{
	const char *score = cli_need(cli, a, "score");
	long long n;
	json_object *body;

	if (score == NULL || !cli_int(cli, "--score", score, 1, 5, &n))
		return HL_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "score", json_object_new_int64(n));
	json_object_object_add(body, "resolved", json_object_new_boolean(!args_has(a, "unresolved")));
	cli_add_string(body, "comment", args_get(a, "comment"));
	return act(cli, a, "visit", body);
}

static int
run_supervise(Cli *cli, const Args *a)
{
	const char *note = cli_need(cli, a, "note");
	json_object *body;

	if (note == NULL)
		return HL_USAGE;
	body = json_object_new_object();
	cli_add_string(body, "note", note);
	return act(cli, a, "supervise", body);
}

static int
run_merge(Cli *cli, const Args *a)
{
	const char *into = cli_need(cli, a, "into");
	long long id;
	json_object *body;

	if (into == NULL || !cli_id(cli, into, &id))
		return HL_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "into", json_object_new_int64(id));
	return act(cli, a, "merge", body);
}

static int
run_assist(Cli *cli, const Args *a)
{
	int rc;
	json_object *body = text_body(cli, a, &rc);

	return body ? act(cli, a, "assist", body) : rc;
}

static int
run_suspend(Cli *cli, const Args *a)
{
	const char *reason = cli_need(cli, a, "reason");
	json_object *body;

	if (reason == NULL)
		return HL_USAGE;
	body = json_object_new_object();
	cli_add_string(body, "reason", reason);
	return act(cli, a, "suspend", body);
}

static int
run_resume(Cli *cli, const Args *a)
{
	return act(cli, a, "resume", json_object_new_object());
}

static int
run_review(Cli *cli, const Args *a)
{
	bool approve = args_has(a, "approve"), back = args_has(a, "send-back");
	const char *reason = args_get(a, "reason");
	json_object *body;

	if (approve == back) {
		fprintf(stderr, "hotline: review: give --approve or --send-back\n");
		return HL_USAGE;
	}
	if (back && cli_need(cli, a, "reason") == NULL)
		return HL_USAGE;
	body = json_object_new_object();
	json_object_object_add(body, "approve", json_object_new_boolean(approve));
	cli_add_string(body, "reason", reason);
	return act(cli, a, "review", body);
}

static int
run_decline(Cli *cli, const Args *a)
{
	static const char *const reasons[] = {"out_of_scope", "emergency", "judicial", "petition", "legislature",
					      "repeat_no_new_facts", "malicious", "secret", NULL};
	const char *reason = cli_need(cli, a, "reason");
	json_object *body;

	if (reason == NULL || !cli_one_of(cli, "reason", reason, reasons))
		return HL_USAGE;
	body = json_object_new_object();
	cli_add_string(body, "reason", reason);
	cli_add_string(body, "note", args_get(a, "note"));
	return act(cli, a, "decline", body);
}

static int
run_route(Cli *cli, const Args *a)
{
	if (args_get(a, "explain"))
		return post_probe(cli, a, "/v1/route?explain=true", render_route_explained);
	return post_probe(cli, a, "/v1/route", render_any);
}

static int
run_similar(Cli *cli, const Args *a)
{
	return post_probe(cli, a, "/v1/cases/similar", render_any);
}

/* POST a case body made of the route options to target, which creates nothing; the text
 * is --explain's when given, else --text's. */
static int
post_probe(Cli *cli, const Args *a, const char *target, RenderFn render)
{
	static const char *const fields[] = {"title", "district", "type", "channel", "category"};
	const char *explain = args_get(a, "explain");
	const char *value = explain ? explain : cli_need(cli, a, "text");
	char *text = value ? cli_text_value(value) : NULL;
	json_object *body;
	int rc;

	if (text == NULL)
		return value ? HL_FAILED : HL_USAGE;
	body = json_object_new_object();
	cli_add_string(body, "text", text);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cli_add_string(body, fields[i], args_get(a, fields[i]));
	rc = cli_call(cli, EVHTTP_REQ_POST, target, body, render);
	json_object_put(body);
	free(text);
	return rc;
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* {"text": --text}, "-" reading standard input; NULL with *rc set after printing why. */
static json_object *
text_body(Cli *cli, const Args *a, int *rc)
{
	const char *value = cli_need(cli, a, "text");
	char *text = value ? cli_text_value(value) : NULL;
	json_object *body;

	if (text == NULL) {
		*rc = value ? HL_FAILED : HL_USAGE;
		return NULL;
	}
	body = json_object_new_object();
	cli_add_string(body, "text", text);
	free(text);
	return body;
}

/* The create body of API.md from submit's options; NULL after a usage
 * error. Only the options given are sent: the server applies defaults. */
static json_object *
case_body(const Cli *cli, const Args *a)
{
	static const char *const fields[] = {"title",    "type",       "channel", "category",
					     "district", "address",    "department", "answer"};
	const char *value = cli_need(cli, a, "text");
	char *text = value ? cli_text_value(value) : NULL;
	json_object *body = json_object_new_object(), *caller = json_object_new_object();

	if (text == NULL || body == NULL || caller == NULL)
		goto fail;
	cli_add_string(body, "text", text);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cli_add_string(body, fields[i], args_get(a, fields[i]));
	if (args_has(a, "urgent"))
		json_object_object_add(body, "urgent", json_object_new_boolean(1));
	if (!add_number(cli, body, "lat", args_get(a, "lat"), -90, 90) ||
	    !add_number(cli, body, "lon", args_get(a, "lon"), -180, 180))
		goto fail;
	if (args_get(a, "kb")) {
		long long kb;

		if (!cli_int(cli, "--kb", args_get(a, "kb"), 1, 9007199254740991LL, &kb))
			goto fail;
		json_object_object_add(body, "kb", json_object_new_int64(kb));
	}
	cli_add_string(caller, "name", args_get(a, "name"));
	cli_add_string(caller, "phone", args_get(a, "phone"));
	if (args_has(a, "confidential"))
		json_object_object_add(caller, "confidential", json_object_new_boolean(1));
	if (json_object_object_length(caller) > 0)
		json_object_object_add(body, "caller", json_object_get(caller));
	json_object_put(caller);
	free(text);
	return body;
fail:
	json_object_put(caller);
	json_object_put(body);
	free(text);
	return NULL;
}

static bool
add_number(const Cli *cli, json_object *obj, const char *key, const char *text, double min,
	   double max)
{
	char *end;
	double v;

	if (text == NULL)
		return true;
	v = strtod(text, &end);
	if (text[0] == '\0' || *end != '\0' || !(v >= min && v <= max)) {
		cli_usage(cli, "--%s must be a number from %g to %g, not '%s'", key, min, max, text);
		return false;
	}
	json_object_object_add(obj, key, json_object_new_double(v));
	return true;
}

/* API.md: 1 to 255 printable ASCII characters. */
static bool
valid_key(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (key[i] < 0x20 || key[i] > 0x7E)
			return false;
	}
	return true;
}

static int
submit_output(const Cli *cli, const HttpRequest *req)
{
	json_object *doc;
	char id[32], number[32], code[16];
	int rc;

	if (cli->json)
		return cli_output(cli, req, render_any);
	doc = cli_parse(req);
	if (doc == NULL) {
		fputs("hotline: the server's answer is not JSON\n", stderr);
		return HL_FAILED;
	}
	render_text(doc, "id", id, sizeof(id));
	render_text(doc, "track_code", code, sizeof(code));
	if (req->status == 201)
		printf("created case %s\n", id);
	else
		printf("case %s already existed: this key was used before, nothing new was made\n", id);
	render_text(doc, "number", number, sizeof(number));
	printf("the caller follows it with number %s and code %s\n\n", number, code);
	rc = render_any(doc);
	json_object_put(doc);
	return rc;
}

/* "/v1/inbox?..." (malloc'd), NULL after a usage error. */
static char *
inbox_target(const Cli *cli, const Args *a, const char *after)
{
	struct evbuffer *b = evbuffer_new();
	const char *limit = args_get(a, "limit");
	long long n;
	char *target = NULL;

	if (b == NULL)
		return NULL;
	if ((!limit || cli_int(cli, "--limit", limit, 1, 500, &n)) && evbuffer_add_printf(b, "/v1/inbox") >= 0 &&
	    cli_query(b, "limit", limit) && cli_query(b, "after", after))
		target = strdup(cli_buffer_text(b));
	evbuffer_free(b);
	return target;
}

/* "/v1/cases?..." from list's filters (malloc'd), NULL after a usage error. */
static char *
list_target(const Cli *cli, const Args *a, const char *after)
{
	static const char *const plain[] = {"state", "department", "district", "type", "channel",
					    "q"};
	struct evbuffer *b = evbuffer_new();
	const char *limit = args_get(a, "limit");
	long long n;
	char *target = NULL;
	bool ok;

	if (b == NULL)
		return NULL;
	if ((args_has(a, "from") && !cli_date(cli, "from", args_get(a, "from"))) ||
	    (args_has(a, "to") && !cli_date(cli, "to", args_get(a, "to"))) ||
	    (limit && !cli_int(cli, "--limit", limit, 1, 500, &n)))
		goto done;
	ok = evbuffer_add_printf(b, "/v1/cases") >= 0;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		ok = ok && cli_query(b, plain[i], args_get(a, plain[i]));
	ok = ok && cli_query(b, "urgent", args_has(a, "urgent") ? "true" : NULL) &&
	     cli_query(b, "overdue", args_has(a, "overdue") ? "true" : NULL) &&
	     cli_query(b, "from", args_get(a, "from")) && cli_query(b, "to", args_get(a, "to")) &&
	     cli_query(b, "limit", limit) && cli_query(b, "after", after);
	if (ok)
		target = strdup(cli_buffer_text(b));
done:
	evbuffer_free(b);
	return target;
}

/* list/inbox --all: every page, following "next" until it is null. --json prints
 * one document {"items": [...], "next": null} (the page as is when there
 * is only one). */
static int
all_pages(Cli *cli, const Args *a, PageTarget target_of)
{
	json_object *all = json_object_new_array(), *doc = NULL, *out;
	char *cursor = args_has(a, "after") ? strdup(args_get(a, "after")) : NULL;
	int rc = HL_OK, pages = 0;
	HttpRequest *req = NULL;

	do {
		char *target = target_of(cli, a, cursor);
		json_object *items, *next;

		if (target == NULL) {
			rc = HL_USAGE;
			break;
		}
		http_request_free(req);
		req = cli_request(EVHTTP_REQ_GET, target, NULL);
		free(target);
		rc = req ? cli_send(cli, req) : HL_FAILED;
		if (rc != HL_OK)
			break;
		json_object_put(doc);
		doc = cli_parse(req);
		items = render_items(doc);
		for (size_t i = 0; items && i < json_object_array_length(items); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(items, i)));
		next = render_get(doc, "next");
		free(cursor);
		cursor = json_object_is_type(next, json_type_string)
			     ? strdup(json_object_get_string(next))
			     : NULL;
		pages++;
	} while (cursor && pages < MAX_PAGES);
	if (rc == HL_OK && pages == 1) {
		rc = cli_output(cli, req, render_case_table);
	} else if (rc == HL_OK && cli->json) {
		out = json_object_new_object();
		json_object_object_add(out, "items", json_object_get(all));
		json_object_object_add(out, "next", NULL);
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
	} else if (rc == HL_OK) {
		rc = render_case_table(all);
	}
	free(cursor);
	json_object_put(doc);
	json_object_put(all);
	http_request_free(req);
	return rc;
}

/* POST /v1/cases/ID/<action> with body (consumed); prints the case's new
 * state. Not replayed after it was sent: actions are not idempotent. */
static int
act(Cli *cli, const Args *a, const char *action, json_object *body)
{
	const char *version = args_get(a, "if-match");
	char target[128];
	long long id, v;
	HttpRequest *req = NULL;
	int rc = HL_USAGE;

	if (!cli_id(cli, a->pos[0], &id) ||
	    (version && !cli_int(cli, "--if-match", version, 0, 9007199254740991LL, &v)))
		goto done;
	rc = HL_FAILED;
	snprintf(target, sizeof(target), "/v1/cases/%lld/%s", id, action);
	req = cli_request(EVHTTP_REQ_POST, target, body);
	if (req == NULL)
		goto done;
	if (version)
		snprintf(req->if_match, sizeof(req->if_match), "%lld", v);
	rc = cli_send(cli, req);
	if (rc == HL_OK)
		rc = cli_output(cli, req, render_case_line);
done:
	http_request_free(req);
	json_object_put(body);
	return rc;
}

/* GET /v1/cases/ID<suffix>, printed with render. */
static int
get_case_path(Cli *cli, const Args *a, const char *suffix, RenderFn render)
{
	char target[128];
	long long id;

	if (!cli_id(cli, a->pos[0], &id))
		return HL_USAGE;
	snprintf(target, sizeof(target), "/v1/cases/%lld%s", id, suffix);
	return cli_call(cli, EVHTTP_REQ_GET, target, NULL, render);
}
