/*
 * api/cases: the case endpoints of API.md section 2.
 *
 * Every handler validates with the core (case_input, case_state), calls ONE function
 * of sql/005_cases.sql, and replies with the (status, body) it returns. The state guard
 * is the core's table: each action passes its allowed from-states and their targets to
 * SQL, which applies them in a guarded UPDATE.
 *
 * Routing and deadlines are decided here, with the router and the SLA policy in force
 * (routing_state, sla_state): create routes and, when dispatched, computes the three
 * clocks; dispatch and extension approval first read the case (its type and urgency,
 * its finish_by) because their deadlines depend on it.
 *
 * The inbox is the exception to "SQL replies": it is read often and 50 cases at a time,
 * so sql/010_inbox.sql returns plain rows and core/case_render writes the JSON.
 */
#include "api/cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/intake_batch_sql.h"
#include "core/case_input.h"
#include "core/case_render.h"
#include "core/case_state.h"
#include "core/local_time.h"
#include "core/codes.h"
#include "core/route_blend.h"
#include "core/router.h"
#include "core/strv.h"
#include "core/utf8.h"
#include "core/ymd.h"
#include "http/reply.h"
#include "log.h"
#include "routing_model.h"
#include "routing_state.h"
#include "sla_state.h"
#include "token.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 500
#define IDEMPOTENCY_KEY_MAX 255
#define QUERY_TEXT_MAX 200    /* characters of q= and of the text filters */
#define CURSOR_MAX 64         /* bytes of an inbox cursor */
#define TS_TEXT 32            /* "2026-11-28T01:30:00Z" and its NUL, with room */
#define STATES_TEXT 128       /* "{pending,dispatched,...}" of every state */
#define CALL_PARAMS_MAX 20
#define CO_TEXT (CASE_CO_MAX * (DEPARTMENT_CODE_MAX + 3) + 3) /* ["a","b"] */

/* One action endpoint: its path and the SQL function that performs it. */
typedef struct ActionEndpoint {
	const char *pattern;
	const char *function;
	bool reads_case; /* the call needs CaseFacts (deadlines computed from the case) */
} ActionEndpoint;

static const ActionEndpoint endpoints[CASE_ACTION__COUNT] = {
	[CASE_CREATE] = {NULL, NULL, false}, /* POST /v1/cases, cases_create */
	[CASE_DISPATCH] = {"/v1/cases/{id}/dispatch", "case_dispatch", true},
	[CASE_SIGN] = {"/v1/cases/{id}/sign", "case_sign", false},
	[CASE_RETURN] = {"/v1/cases/{id}/return", "case_return", false},
	[CASE_CONTACT] = {"/v1/cases/{id}/contact", "case_contact", false},
	[CASE_EXTEND] = {"/v1/cases/{id}/extend", "case_extend", false},
	[CASE_APPROVE] = {"/v1/cases/{id}/extension/approve", "case_extension_approve", true},
	[CASE_REJECT] = {"/v1/cases/{id}/extension/reject", "case_extension_reject", false},
	[CASE_REPLY] = {"/v1/cases/{id}/reply", "case_reply", false},
	[CASE_VISIT] = {"/v1/cases/{id}/visit", "case_visit", false},
	[CASE_SUPERVISE] = {"/v1/cases/{id}/supervise", "case_supervise", false},
	[CASE_MERGE] = {"/v1/cases/{id}/merge", "case_merge", false},
	[CASE_ASSIST] = {"/v1/cases/{id}/assist", "case_assist", false},
	[CASE_SUSPEND] = {"/v1/cases/{id}/suspend", "case_suspend", false},
	[CASE_RESUME] = {"/v1/cases/{id}/resume", "case_resume", true},
	[CASE_REVIEW] = {"/v1/cases/{id}/review", "case_review", true},
	[CASE_DECLINE] = {"/v1/cases/{id}/decline", "case_decline", false},
};

/* One of a case's clocks as stored: exact text (guards compare it), instant, and whether it runs. */
typedef struct ClockFact {
	const char *text; /* NULL when the case has no such deadline */
	time_t at;
	bool open;        /* its event (sign, contact, reply) has not happened */
} ClockFact;

/* What dispatch, approve, resume and review need to know of the case first. Strings are
 * borrowed from the PGresult: valid during its callback. */
typedef struct CaseFacts {
	bool found;
	const char *type;
	bool urgent;
	ClockFact clock[3];    /* sign, contact, finish: the order of CallParams.ts */
	int ext_workdays;      /* 0 unless an extension request is pending */
	const char *suspended_since; /* exact text, NULL unless suspended */
	time_t suspended_at;
	CaseState origin;      /* suspended_from, or review_from; CASE_STATE_NONE when neither */
	const char *clock_workdays; /* SLA_CLOCK_* mask as text, NULL when not recorded */
} CaseFacts;

/* Where the routing decision of a new case comes from. */
typedef struct CreatePlan {
	CaseState state;
	const char *department; /* NULL unless dispatched */
	const char *method;     /* "none", "manual", "rule", "model", "category" */
	char rule_id[24];       /* "" unless method is rule */
	const char *rule_name;
	char sign_by[TS_TEXT], contact_by[TS_TEXT], finish_by[TS_TEXT]; /* "" unless dispatched */
} CreatePlan;

/* Text parameters of one SQL call and the buffers they point into. */
typedef struct CallParams {
	const char *values[CALL_PARAMS_MAX];
	int n;
	char id[24], user_id[24], if_match[16], from[STATES_TEXT], to[STATES_TEXT];
	char number[24];
	char ts[3][TS_TEXT];
	time_t clocks[3];        /* the instants of ts (a new case's answer writes them: CreatedCase) */
	char at[TS_TEXT];        /* the instant the clocks start: stored as dispatched_at/visited_at */
	char kinds[8];           /* SLA_CLOCK_* mask of the clocks that count working days */
	char co[CO_TEXT];        /* dispatch's co as a JSON array */
	char track_code[TRACK_CODE_LEN + 1]; /* a new case's tracking code */
} CallParams;

#define CREATE_PARAMS 17
static const char sql_create[] =
	"SELECT status, body FROM case_create($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
	"$17)";
/* The same calls, several in one transaction, are api/intake_batch.sql (intake_batch_sql): a
 * created case comes with a NULL body and the columns below, the call's index last. Its calls'
 * keys (user and Idempotency-Key, parameters 1 and 5) are distinct: */
enum { CREATE_PARAM_USER = 0, CREATE_PARAM_KEY = 4 };
/* A key claimed already (a client's retry) fails the batch with unique_violation, and its calls
 * go again alone: expected, not worth a warning (api/intake_batch.sql). */
#define CREATE_BATCH_SPLIT_EXPECTED "23505"
/* How the batch sends each parameter's array: in binary, but the four instants, which stay
 * array literals of text (a binary timestamptz is microseconds since 2000: the server would
 * parse its own text back). array_in's parsing of the literals was ~1.9% of the backends' CPU
 * under load (bench/RESULTS.md, session 9). */
static const PgArrayElem create_elem[CREATE_PARAMS] = {
	PG_ARRAY_INT8, PG_ARRAY_TEXT, PG_ARRAY_TEXT, PG_ARRAY_TEXT, PG_ARRAY_TEXT,   /* user .. key */
	PG_ARRAY_JSONB, PG_ARRAY_TEXT, PG_ARRAY_TEXT, PG_ARRAY_TEXT, PG_ARRAY_INT8,  /* input .. rule id */
	PG_ARRAY_TEXT, PG_ARRAY_LITERAL, PG_ARRAY_LITERAL, PG_ARRAY_LITERAL,        /* rule name, deadlines */
	PG_ARRAY_LITERAL, PG_ARRAY_INT2, PG_ARRAY_TEXT,                             /* at, kinds, code */
};
/* A created case's row: what PostgreSQL made (id, number) or prints its own way (lat and lon,
 * as float8out does); the rest of its columns are what the server sent (CreatedCase). */
enum {
	CREATED_ID = 2, /* after status and body */
	CREATED_NUMBER,
	CREATED_LAT,
	CREATED_LON,
	CREATED_TRACK_CODE,
	CREATED__COUNT = CREATED_TRACK_CODE + 2 /* and the call's index */
};
/* The local texts of the instants new cases were created at and are due at (created_case_keep):
 * the same four for every create of a kind within a second. The loop's thread only. */
static LocalTimeMemo created_times;

static const char sql_get[] = "SELECT status, body FROM case_get($1, $2, $3)";
static const char sql_events[] = "SELECT status, body FROM case_events_list($1, $2, $3)";
static const char sql_list[] =
	"SELECT status, body FROM case_list($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
static const char sql_inbox[] = "SELECT * FROM case_inbox_page($1, $2, $3)";
/* The columns of sql_facts, in its order. */
enum {
	FACT_TYPE,
	FACT_URGENT,
	FACT_CLOCKS,          /* three columns per clock (sign, contact, finish): text, epoch, open */
	FACT_EXT_WORKDAYS = FACT_CLOCKS + 9,
	FACT_SUSPENDED_SINCE, /* text, epoch */
	FACT_ORIGIN = FACT_SUSPENDED_SINCE + 2,
	FACT_CLOCK_WORKDAYS,
	FACT__COUNT
};
static const char sql_facts[] =
	"SELECT type, urgent, "
	"       sign_by::text, floor(extract(epoch FROM sign_by))::bigint, signed_at IS NULL, "
	"       contact_by::text, floor(extract(epoch FROM contact_by))::bigint, contacted_at IS NULL, "
	"       finish_by::text, floor(extract(epoch FROM finish_by))::bigint, replied_at IS NULL, "
	"       CASE WHEN ext_state = 'pending' THEN ext_workdays ELSE 0 END, "
	"       suspended_since::text, floor(extract(epoch FROM suspended_since))::bigint, "
	"       coalesce(suspended_from, review_from), clock_workdays "
	"  FROM cases WHERE id = $1";

/* The columns of a case being created that are what the server sends (strings of its own),
 * kept until its row comes back: CaseRow's column strings, NULL for SQL NULL. */
typedef struct CreatedCase {
	char **col; /* CASE_COL__COUNT of them, one block (core/strv) */
} CreatedCase;

static bool cases_created_body(Req *req, PGresult *res, int row, TextBuf *out);
static bool created_case_keep(Req *req, const CaseInput *in, const CreatePlan *plan, const CallParams *p, time_t now);
static void created_case_free(void *state);
static void cases_read(Req *req, const char *sql);
static void cases_inbox_done(Req *req, PGresult *res);
static void cases_action_facts_cb(Req *req, PGresult *res);
static bool action_prepare(Req *req, CaseAction *action, CaseActionInput *in, CallParams *p);
static void action_call(Req *req, CaseAction action, const CaseActionInput *in, CallParams *p,
			const CaseFacts *facts);
static bool action_move(Req *req, CaseAction action, const CaseActionInput *in, const CaseFacts *facts,
			CaseMove *move);
static void facts_read(PGresult *res, CaseFacts *facts);
static bool resume_deadlines(Req *req, const CaseFacts *facts, CallParams *p);
static bool clock_kinds(const char *type, bool urgent, char *buf, size_t len);
static const char *co_json(const CodeList *co, char *buf, size_t len);
static bool action_extra_params(Req *req, CaseAction action, const CaseActionInput *in, CallParams *p,
				const CaseFacts *facts);
static bool case_route_decide(const CaseInput *in, CreatePlan *plan);
static bool case_deadlines(const char *type, bool urgent, time_t at, CallParams *p);
static bool state_arrays(CaseAction action, const CaseMove *move, CallParams *p);
static bool idempotency_key_valid(const char *key);
static bool param_text(Req *req, const char *name, size_t max_chars, const char **out, ApiError *err);
static bool param_bool(Req *req, const char *name, const char **out, ApiError *err);
static bool param_date(Req *req, const char *name, const char **out, ApiError *err);
static bool param_enum(Req *req, const char *name, bool (*valid)(const char *), const char **out,
		       ApiError *err);
static bool param_limit(Req *req, char *buf, size_t len, ApiError *err);
static bool parse_positive(const char *s, long long max, long long *out);
static bool inbox_cursor_valid(const char *cursor);
static bool state_name_valid(const char *name);
static const char *format_ts(time_t t, char *buf, size_t len);
static void push(CallParams *p, const char *value);
static void push_actor(Req *req, CallParams *p);

/*
 *********************************
 * Public functions
 *********************************
 */

DbBatch *
cases_intake_batch_new(struct event_base *base, DbPool *pool, const Config *cfg)
{
	DbBatchConfig bc = {sql_create, intake_batch_sql, CREATE_PARAMS, cfg->intake_transactions,
			    cfg->intake_batch_max, cfg->intake_batch_min, cfg->intake_linger_us, cfg->queue_max,
			    2, {CREATE_PARAM_USER, CREATE_PARAM_KEY}, create_elem, CREATE_BATCH_SPLIT_EXPECTED};

	return db_batch_new(base, pool, &bc);
}

/*
 *********************************
 * Handlers
 *********************************
 */

static void
cases_create(Req *req)
{
	CaseInput in;
	ApiError err;
	const char *key = req_header(req, "Idempotency-Key");

	if (!case_input_create(req->body, &in, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (key && !idempotency_key_valid(key)) {
		reply_error(req, 400, "bad_request", "Idempotency-Key",
			    "Idempotency-Key must be 1 to %d printable ASCII characters", IDEMPOTENCY_KEY_MAX);
		return;
	}
	cases_create_submit(req, &in, NULL, key, NULL);
}

void
cases_create_submit(Req *req, const CaseInput *in, json_object *history, const char *key, ReqRowCb done)
{
	CreatePlan plan;
	CallParams p = {0};
	json_object *input = NULL;
	time_t now = time(NULL);

	if (!case_route_decide(in, &plan)) {
		reply_error(req, 503, "unavailable", NULL, "routing rules are loading, try again");
		return;
	}
	if (plan.state == CASE_DISPATCHED && !case_deadlines(in->type, in->urgent.value, now, &p)) {
		reply_error(req, 503, "unavailable", NULL, "the SLA policy is loading, try again");
		return;
	}
	if (!token_track_code(p.track_code)) {
		reply_error(req, 503, "unavailable", NULL, "no randomness for the tracking code, try again");
		return;
	}
	input = case_input_to_json(in);
	if (input && history && json_object_object_add(input, "history", json_object_get(history)) != 0)
		json_object_put(history); /* not added: the reference taken for it goes */
	if (!input || (history && !json_object_object_get_ex(input, "history", NULL))) {
		json_object_put(input);
		reply_out_of_memory(req);
		return;
	}
	push_actor(req, &p);
	push(&p, key);
	push(&p, json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	push(&p, case_state_name(plan.state));
	push(&p, plan.department);
	push(&p, plan.method);
	push(&p, plan.rule_id[0] ? plan.rule_id : NULL);
	push(&p, plan.rule_name);
	for (int i = 0; i < 3; i++)
		push(&p, plan.state == CASE_DISPATCHED ? p.ts[i] : NULL);
	/* The deadlines were computed from this instant; the row stores the same one, so a
	 * reader can recompute every deadline from created_at/dispatched_at to the second. */
	push(&p, format_ts(now, p.at, sizeof(p.at)));
	push(&p, plan.state == CASE_DISPATCHED && clock_kinds(in->type, in->urgent.value, p.kinds, sizeof(p.kinds))
			 ? p.kinds
			 : NULL);
	push(&p, p.track_code);
	if (!created_case_keep(req, in, &plan, &p, now)) {
		json_object_put(input);
		reply_out_of_memory(req);
		return;
	}
	if (done)
		req_batch(req, req->app->intakes, p.values, cases_created_body, done);
	else
		req_batch_reply(req, req->app->intakes, p.values, cases_created_body);
	json_object_put(input); /* the batch copied the parameters */
}

/* The JSON of a case the batched intake created, for its creator: the server writes it as
 * case_json would (core/case_render), from the row's columns PostgreSQL made and the rest kept
 * from what it sent (created_case_keep). */
static bool
cases_created_body(Req *req, PGresult *res, int row, TextBuf *out)
{
	static const struct {
		int row, col;
	} made[] = {
		{CREATED_ID, CASE_COL_ID}, {CREATED_NUMBER, CASE_COL_NUMBER},
		{CREATED_LAT, CASE_COL_LAT}, {CREATED_LON, CASE_COL_LON},
	};
	const CreatedCase *kept = req->state;
	CaseRow c = {{NULL}};

	if (!kept || req->state_free != created_case_free || !kept->col || PQnfields(res) != CREATED__COUNT ||
	    PQgetisnull(res, row, CREATED_ID))
		return false;
	for (int j = 0; j < CASE_COL__COUNT; j++)
		c.col[j] = kept->col[j];
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		c.col[made[i].col] = db_value(res, row, made[i].row);
	return case_render_case(out, &c, req->user.role == ROLE_DEPARTMENT, db_value(res, row, CREATED_TRACK_CODE));
}

/* Keeps in req->state the columns of the case being created that the server sends, as the
 * batch statement stores them (api/intake_batch.sql), its times as case_ts writes them
 * (core/local_time), and the table's defaults for the other columns a new case has (sql/005
 * and later: returns, reopened, sent_back 0, version 1, co []; overdue is false, every
 * deadline of a new case lying ahead). False when out of memory. */
static bool
created_case_keep(Req *req, const CaseInput *in, const CreatePlan *plan, const CallParams *p, time_t now)
{
	static const int clock_col[3] = {CASE_COL_SIGN_BY, CASE_COL_CONTACT_BY, CASE_COL_FINISH_BY};
	CreatedCase *k = calloc(1, sizeof(*k));
	const char *text[CASE_COL__COUNT] = {NULL};
	char kb[24], at[LOCAL_TIME_TEXT], clock[3][LOCAL_TIME_TEXT];
	bool dispatched = plan->state == CASE_DISPATCHED;
	bool ok;

	if (!k)
		return false;
	ok = local_time_memo_text(&created_times, now, at, sizeof(at));
	for (int i = 0; ok && dispatched && i < 3; i++) {
		ok = local_time_memo_text(&created_times, p->clocks[i], clock[i], sizeof(clock[i]));
		text[clock_col[i]] = clock[i];
	}
	snprintf(kb, sizeof(kb), "%lld", (long long)in->kb.value);
	text[CASE_COL_CREATED_AT] = at;
	text[CASE_COL_CHANNEL] = in->channel;
	text[CASE_COL_TYPE] = in->type;
	text[CASE_COL_URGENT] = in->urgent.value ? "t" : "f";
	text[CASE_COL_CATEGORY] = in->category;
	text[CASE_COL_TITLE] = in->title;
	text[CASE_COL_TEXT] = in->text;
	text[CASE_COL_DISTRICT] = in->district;
	text[CASE_COL_ADDRESS] = in->address;
	text[CASE_COL_CALLER_NAME] = in->caller_name;
	text[CASE_COL_CALLER_PHONE] = in->caller_phone;
	text[CASE_COL_CALLER_CONFIDENTIAL] = in->caller_confidential.value ? "t" : "f";
	text[CASE_COL_DEPARTMENT] = plan->department;
	text[CASE_COL_ROUTING_METHOD] = plan->method ? plan->method : "none";
	text[CASE_COL_ROUTING_RULE_ID] = plan->rule_id[0] ? plan->rule_id : NULL;
	text[CASE_COL_ROUTING_RULE_NAME] = plan->rule_name;
	text[CASE_COL_STATE] = case_state_name(plan->state);
	text[CASE_COL_OVERDUE] = "f";
	text[CASE_COL_DISPATCHED_AT] = dispatched ? at : NULL;
	text[CASE_COL_ANSWER] = in->answer;
	text[CASE_COL_KB] = in->kb.set ? kb : NULL;
	text[CASE_COL_RETURNS] = "0";
	text[CASE_COL_REOPENED] = "0";
	text[CASE_COL_CO] = "[]";
	text[CASE_COL_SENT_BACK] = "0";
	text[CASE_COL_VERSION] = "1";
	ok = ok && (k->col = strv_copy(text, NULL, CASE_COL__COUNT)) != NULL;
	req->state = k;
	req->state_free = created_case_free;
	return ok;
}

static void
created_case_free(void *state)
{
	CreatedCase *k = state;

	free(k->col);
	free(k);
}

/* GET /v1/cases/{id} and its events: one read function each, same parameters. */
static void
cases_read(Req *req, const char *sql)
{
	CallParams p = {0};

	snprintf(p.id, sizeof(p.id), "%lld", (long long)req->path_id);
	push(&p, p.id);
	push(&p, role_name(req->user.role));
	push(&p, req->user.role == ROLE_DEPARTMENT ? req->user.department : NULL);
	req_query_reply(req, sql, p.n, p.values);
}

static void
cases_get(Req *req)
{
	cases_read(req, sql_get);
}

static void
cases_events(Req *req)
{
	cases_read(req, sql_events);
}

/* GET /v1/cases: every filter is checked here (400 bad_request naming it) before SQL. */
static void
cases_list(Req *req)
{
	const char *state, *department, *district, *type, *channel, *urgent, *overdue, *from, *to, *q, *after;
	char limit[16];
	long long after_id;
	ApiError err;
	CallParams p = {0};

	if (!param_enum(req, "state", state_name_valid, &state, &err) ||
	    !param_text(req, "department", DEPARTMENT_CODE_MAX, &department, &err) ||
	    !param_text(req, "district", CASE_DISTRICT_MAX, &district, &err) ||
	    !param_enum(req, "type", router_type_valid, &type, &err) ||
	    !param_enum(req, "channel", router_channel_valid, &channel, &err) ||
	    !param_bool(req, "urgent", &urgent, &err) || !param_bool(req, "overdue", &overdue, &err) ||
	    !param_date(req, "from", &from, &err) || !param_date(req, "to", &to, &err) ||
	    !param_text(req, "q", QUERY_TEXT_MAX, &q, &err) || !param_text(req, "after", 20, &after, &err) ||
	    !param_limit(req, limit, sizeof(limit), &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (after && !parse_positive(after, INT64_MAX, &after_id)) {
		reply_error(req, 400, "bad_request", "after", "after must be the next cursor of a previous page");
		return;
	}
	push(&p, role_name(req->user.role));
	push(&p, req->user.role == ROLE_DEPARTMENT ? req->user.department : NULL);
	push(&p, state);
	push(&p, department);
	push(&p, district);
	push(&p, type);
	push(&p, channel);
	push(&p, urgent);
	push(&p, overdue);
	push(&p, from);
	push(&p, to);
	push(&p, q);
	push(&p, after);
	push(&p, limit);
	/* a search reads many rows: it goes on the slow-read lane, never in the way of intake */
	if (q && !req_enter_read_lane(req))
		return;
	req_query_reply(req, sql_list, p.n, p.values);
}

/* GET /v1/inbox (department tokens only, by route). */
static void
cases_inbox(Req *req)
{
	const char *after;
	char limit[16];
	ApiError err;
	CallParams p = {0};

	if (!param_text(req, "after", CURSOR_MAX, &after, &err) ||
	    !param_limit(req, limit, sizeof(limit), &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (after && !inbox_cursor_valid(after)) {
		reply_error(req, 400, "bad_request", "after", "after is not a cursor this server gave");
		return;
	}
	push(&p, req->user.department);
	push(&p, after);
	push(&p, limit);
	req_query(req, sql_inbox, p.n, p.values, cases_inbox_done);
}

/* The inbox rows (up to limit + 1, see sql/010_inbox.sql), written as the page JSON. */
static void
cases_inbox_done(Req *req, PGresult *res)
{
	int n = PQntuples(res);
	char limit[16];
	ApiError err;
	CaseRow *rows = NULL;
	TextBuf page = {0};

	/* Checked before the query already; the request has not changed, so this cannot refuse. */
	if (!param_limit(req, limit, sizeof(limit), &err) || PQnfields(res) != CASE_COL__COUNT) {
		log_error("req=%llu: the inbox query gave %d columns", (unsigned long long)req->id, PQnfields(res));
		reply_internal(req);
		return;
	}
	rows = calloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	if (!rows) {
		reply_out_of_memory(req);
		return;
	}
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < CASE_COL__COUNT; j++)
			rows[i].col[j] = db_value(res, i, j);
	}
	if (case_render_inbox_page(&page, rows, (size_t)n, (size_t)atoi(limit))) {
		reply_json_text(req, 200, page.buf, page.len);
	} else if (page.failed) {
		reply_out_of_memory(req);
	} else {
		log_error("req=%llu: an inbox row did not render (a boolean column is not t/f)",
			  (unsigned long long)req->id);
		reply_internal(req);
	}
	free(rows);
	free(page.buf);
}

/* POST /v1/cases/{id}/<action>: the action is the route's; see endpoints[]. */
static void
cases_action(Req *req)
{
	CaseAction action;
	CaseActionInput in;
	CallParams p = {0};

	if (!action_prepare(req, &action, &in, &p))
		return;
	if (endpoints[action].reads_case) {
		req_query(req, sql_facts, 1, (const char *const[]){p.id}, cases_action_facts_cb);
		return;
	}
	action_call(req, action, &in, &p, NULL);
}

/* The case was read: compute what depends on it, then perform the action. */
static void
cases_action_facts_cb(Req *req, PGresult *res)
{
	CaseAction action;
	CaseActionInput in;
	CallParams p = {0};
	CaseFacts facts = {0};

	/* Validated before the read already; the body is unchanged, so this cannot refuse. */
	if (!action_prepare(req, &action, &in, &p))
		return;
	if (PQntuples(res) == 1 && PQnfields(res) == FACT__COUNT)
		facts_read(res, &facts);
	action_call(req, action, &in, &p, &facts);
}

static void
facts_read(PGresult *res, CaseFacts *facts)
{
	const char *origin;

	facts->found = true;
	facts->type = PQgetvalue(res, 0, FACT_TYPE);
	facts->urgent = strcmp(PQgetvalue(res, 0, FACT_URGENT), "t") == 0;
	for (int i = 0; i < 3; i++) {
		ClockFact *c = &facts->clock[i];

		c->text = db_value(res, 0, FACT_CLOCKS + 3 * i);
		c->at = c->text ? (time_t)atoll(PQgetvalue(res, 0, FACT_CLOCKS + 3 * i + 1)) : 0;
		c->open = c->text && strcmp(PQgetvalue(res, 0, FACT_CLOCKS + 3 * i + 2), "t") == 0;
	}
	facts->ext_workdays = atoi(PQgetvalue(res, 0, FACT_EXT_WORKDAYS));
	facts->suspended_since = db_value(res, 0, FACT_SUSPENDED_SINCE);
	facts->suspended_at = facts->suspended_since ? (time_t)atoll(PQgetvalue(res, 0, FACT_SUSPENDED_SINCE + 1)) : 0;
	origin = db_value(res, 0, FACT_ORIGIN);
	if (!origin || !case_state_parse(origin, &facts->origin))
		facts->origin = CASE_STATE_NONE; /* none, or a state this server does not know */
	facts->clock_workdays = db_value(res, 0, FACT_CLOCK_WORKDAYS);
}

/*
 *********************************
 * Public functions
 *********************************
 */

const RouteTable *
cases_routes(void)
{
	static Route routes[5 + CASE_ACTION__COUNT];
	static RouteTable table;
	int n = 0;

	if (table.routes)
		return &table;
	routes[n++] = (Route){"POST", "/v1/cases", case_action_roles(CASE_CREATE), BODY_JSON, cases_create};
	routes[n++] = (Route){"GET", "/v1/cases", ROLES_ANY, BODY_NONE, cases_list};
	routes[n++] = (Route){"GET", "/v1/cases/{id}", ROLES_ANY, BODY_NONE, cases_get};
	routes[n++] = (Route){"GET", "/v1/cases/{id}/events", ROLES_ANY, BODY_NONE, cases_events};
	routes[n++] = (Route){"GET", "/v1/inbox", ROLE_BIT(ROLE_DEPARTMENT), BODY_NONE, cases_inbox};
	for (int a = 0; a < CASE_ACTION__COUNT; a++) {
		if (endpoints[a].pattern)
			routes[n++] = (Route){"POST", endpoints[a].pattern, case_action_roles((CaseAction)a),
					      BODY_JSON, cases_action};
	}
	table = (RouteTable){routes, n};
	return &table;
}

/*
 *********************************
 * Actions
 *********************************
 */

/*
 * Find the route's action, validate its body and If-Match, and fill the parameters
 * every action shares ($1..$6: actor, case id, If-Match). Replies and returns false
 * on refusal.
 */
static bool
action_prepare(Req *req, CaseAction *action, CaseActionInput *in, CallParams *p)
{
	ApiError err;
	int a = 0;

	while (a < CASE_ACTION__COUNT && !(endpoints[a].pattern && req->route_name &&
					   strcmp(endpoints[a].pattern, req->route_name) == 0))
		a++;
	if (a == CASE_ACTION__COUNT) {
		reply_error(req, 500, "internal", NULL, "no action for this route");
		return false;
	}
	*action = (CaseAction)a;
	if (!case_input_action(*action, req->body, in, &err)) {
		reply_api_error(req, &err);
		return false;
	}
	if (!req_if_match(req, p->if_match, sizeof(p->if_match))) {
		reply_error(req, 400, "bad_request", "If-Match", "If-Match must be a case version (a positive integer)");
		return false;
	}
	push_actor(req, p);
	snprintf(p->id, sizeof(p->id), "%lld", (long long)req->path_id);
	push(p, p->id);
	push(p, p->if_match[0] ? p->if_match : NULL);
	return true;
}

/* Add the state arrays and the action's own parameters, then run its SQL function. */
static void
action_call(Req *req, CaseAction action, const CaseActionInput *in, CallParams *p, const CaseFacts *facts)
{
	char sql[256];
	size_t off;
	CaseMove move;

	if (!action_move(req, action, in, facts, &move))
		return;
	if (!state_arrays(action, &move, p)) {
		reply_error(req, 500, "internal", NULL, "state table too large");
		return;
	}
	push(p, p->from);
	push(p, p->to);
	if (!action_extra_params(req, action, in, p, facts))
		return;
	off = (size_t)snprintf(sql, sizeof(sql), "SELECT status, body FROM %s(", endpoints[action].function);
	for (int i = 1; i <= p->n && off < sizeof(sql); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, i > 1 ? ", $%d" : "$%d", i);
	if (off + 2 > sizeof(sql)) {
		reply_error(req, 500, "internal", NULL, "query too long");
		return;
	}
	strcat(sql, ")");
	req_query_reply(req, sql, p->n, p->values);
}

/*
 * What decides the action's outcome (core CaseMove): the visit's score, the policy's
 * review flag for a reply, the review's verdict and the origin read with the facts.
 * Replies 503 and returns false while the policy is not loaded.
 */
static bool
action_move(Req *req, CaseAction action, const CaseActionInput *in, const CaseFacts *facts, CaseMove *move)
{
	SlaPolicy policy;

	*move = (CaseMove){.score = in->score.set ? (int)in->score.value : 0,
			   .send_back = in->approve.set && !in->approve.value,
			   .origin = facts ? facts->origin : CASE_STATE_NONE};
	if (action == CASE_REPLY) {
		if (!sla_state_policy(&policy)) {
			reply_error(req, 503, "unavailable", NULL, "the SLA policy is loading, try again");
			return false;
		}
		move->review = policy.review;
	}
	return true;
}

/*
 * The parameters after $8, in the order of the action's SQL function. Deadlines are
 * computed here with the policy and calendar in force; when they are not loaded yet the
 * request is answered 503 and false returned.
 */
static bool
action_extra_params(Req *req, CaseAction action, const CaseActionInput *in, CallParams *p, const CaseFacts *facts)
{
	time_t now = time(NULL), t;

	switch (action) {
	case CASE_DISPATCH:
		push(p, in->department);
		/* An unknown case gets no deadlines: the SQL function answers 404 for it. */
		if (facts->found && !case_deadlines(facts->type, facts->urgent, now, p)) {
			reply_error(req, 503, "unavailable", NULL, "the SLA policy is loading, try again");
			return false;
		}
		for (int i = 0; i < 3; i++)
			push(p, facts->found ? p->ts[i] : NULL);
		push(p, format_ts(now, p->at, sizeof(p->at)));
		push(p, co_json(&in->co, p->co, sizeof(p->co)));
		push(p, facts->found && clock_kinds(facts->type, facts->urgent, p->kinds, sizeof(p->kinds)) ? p->kinds
													   : NULL);
		return true;
	case CASE_RETURN:
	case CASE_REJECT:
	case CASE_SUSPEND:
		push(p, in->reason);
		return true;
	case CASE_ASSIST:
		push(p, in->text);
		return true;
	case CASE_RESUME:
		return resume_deadlines(req, facts, p);
	case CASE_REVIEW:
		push(p, in->approve.value ? "true" : "false");
		push(p, in->reason);
		return true;
	case CASE_DECLINE:
		push(p, in->reason);
		push(p, in->note);
		return true;
	case CASE_CONTACT:
	case CASE_SUPERVISE:
		push(p, in->note);
		return true;
	case CASE_EXTEND:
		snprintf(p->number, sizeof(p->number), "%lld", (long long)in->workdays.value);
		push(p, p->number);
		push(p, in->reason);
		return true;
	case CASE_APPROVE:
		/* Without a pending request or a finish_by there is nothing to move: SQL explains. */
		push(p, facts->clock[2].text);
		if (facts->clock[2].text && facts->ext_workdays > 0) {
			if (!sla_state_extend(facts->clock[2].at, facts->ext_workdays, &t)) {
				reply_error(req, 503, "unavailable", NULL, "the working-day calendar is loading, try again");
				return false;
			}
			push(p, format_ts(t, p->ts[0], sizeof(p->ts[0])));
		} else {
			push(p, facts->clock[2].text);
		}
		push(p, in->note);
		return true;
	case CASE_REPLY:
		push(p, in->text);
		push(p, in->resolved.value ? "true" : "false");
		return true;
	case CASE_VISIT:
		snprintf(p->number, sizeof(p->number), "%lld", (long long)in->score.value);
		push(p, p->number);
		push(p, in->resolved.value ? "true" : "false");
		push(p, in->comment);
		/* A rectification limit is needed only when an unsatisfied visit reopens the case. */
		if (in->score.value < CASE_SATISFIED_SCORE) {
			SlaPolicy policy;

			if (!sla_state_rectify(now, &t) || !sla_state_policy(&policy)) {
				reply_error(req, 503, "unavailable", NULL, "the SLA policy is loading, try again");
				return false;
			}
			push(p, format_ts(t, p->ts[0], sizeof(p->ts[0])));
			push(p, format_ts(now, p->at, sizeof(p->at)));
			push(p, policy.rectify.unit == DURATION_WORKDAYS ? "true" : "false");
		} else {
			push(p, NULL);
			push(p, format_ts(now, p->at, sizeof(p->at)));
			push(p, NULL);
		}
		return true;
	case CASE_MERGE:
		snprintf(p->number, sizeof(p->number), "%lld", (long long)in->into.value);
		push(p, p->number);
		return true;
	case CASE_SIGN:
		return true;
	case CASE_CREATE:
	case CASE_ACTION__COUNT:
		break;
	}
	reply_error(req, 500, "internal", NULL, "no parameters for action %s", case_action_name(action));
	return false;
}

/*
 *********************************
 * Routing and deadlines (the hooks into routing_state and sla_state)
 *********************************
 */

/*
 * Decide a new case's initial state and department: the operator's answer (answered),
 * an explicit department (manual), else the rules and the learned model in force
 * (core/route_blend: rule, model, category, or none: pending). False when the rules are
 * not loaded yet (the caller answers 503); without a model the rules decide alone. The
 * strings borrowed from the router and the model stay valid until this loop callback
 * returns.
 */
static bool
case_route_decide(const CaseInput *in, CreatePlan *plan)
{
	const Router *router;
	RouteInput ri = {in->title, in->text, in->district, in->type, in->channel, in->category};
	BlendParams params;
	BlendResult res;

	memset(plan, 0, sizeof(*plan));
	plan->method = "none";
	if (in->answer || in->department) {
		plan->department = in->department;
		plan->method = in->department ? "manual" : "none";
	} else {
		router = routing_state_current();
		route_blend_params_default(&params);
		if (!router || !route_blend(router, routing_model_current(), &ri, &params, &res))
			return false;
		plan->department = res.route.department;
		if (res.route.method != ROUTE_NONE)
			plan->method = router_method_name(res.route.method);
		if (res.route.method == ROUTE_RULE) {
			snprintf(plan->rule_id, sizeof(plan->rule_id), "%lld", (long long)res.route.rule_id);
			plan->rule_name = res.route.rule_name;
		}
	}
	plan->state = case_create_state(in->answer != NULL, plan->department != NULL);
	return true;
}

/*
 * Resume's parameters: the suspension read (its exact text, which SQL checks is unchanged),
 * then each deadline, moved by the suspension when its clock runs (core
 * sla_resume_deadline), as stored otherwise. A case that is not suspended moves nothing:
 * SQL answers 409 for it. A clock's kind is the case's record, or the policy's when the
 * case has none.
 */
static bool
resume_deadlines(Req *req, const CaseFacts *facts, CallParams *p)
{
	time_t now = time(NULL), t;
	unsigned kinds;
	char buf[8];

	push(p, facts->suspended_since);
	if (!facts->suspended_since) {
		for (int i = 0; i < 3; i++)
			push(p, facts->clock[i].text);
		return true;
	}
	if (facts->clock_workdays)
		kinds = (unsigned)atoi(facts->clock_workdays);
	else if (clock_kinds(facts->type, facts->urgent, buf, sizeof(buf)))
		kinds = (unsigned)atoi(buf);
	else
		goto unavailable;
	for (int i = 0; i < 3; i++) {
		const ClockFact *c = &facts->clock[i];

		if (!c->open) {
			push(p, c->text);
			continue;
		}
		/* SLA_CLOCK_SIGN, _CONTACT, _FINISH are bits 0, 1, 2: the order of clock[] */
		if (!sla_state_resume(c->at, (kinds & (1u << i)) != 0, facts->suspended_at, now, &t))
			goto unavailable;
		push(p, format_ts(t, p->ts[i], sizeof(p->ts[i])));
	}
	return true;
unavailable:
	reply_error(req, 503, "unavailable", NULL, "the SLA policy is loading, try again");
	return false;
}

/* The SLA_CLOCK_* mask of the rule in force for (type, urgent) as text; false until loaded. */
static bool
clock_kinds(const char *type, bool urgent, char *buf, size_t len)
{
	unsigned workdays;

	if (!sla_state_clock_workdays(type, urgent, &workdays))
		return false;
	snprintf(buf, len, "%u", workdays);
	return true;
}

/* The co list as a JSON array of strings (codes need no escaping), NULL when not given. */
static const char *
co_json(const CodeList *co, char *buf, size_t len)
{
	size_t off = 1;

	if (!co->set)
		return NULL;
	buf[0] = '[';
	for (size_t i = 0; i < co->n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s\"%s\"", i ? "," : "", co->code[i]);
	snprintf(buf + off, len - off, "]");
	return buf;
}

/* The three clocks of a dispatch at `at` into p->ts[0..2]; false until the policy is loaded. */
static bool
case_deadlines(const char *type, bool urgent, time_t at, CallParams *p)
{
	time_t *t = p->clocks;

	if (!sla_state_deadlines(type, urgent, at, &t[0], &t[1], &t[2]))
		return false;
	for (int i = 0; i < 3; i++) {
		if (!format_ts(t[i], p->ts[i], sizeof(p->ts[i])))
			return false;
	}
	return true;
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* p->from, p->to: the action's from-states and the target of each, as text[] literals. */
static bool
state_arrays(CaseAction action, const CaseMove *move, CallParams *p)
{
	const char *names[CASE_STATE__COUNT];
	size_t n = case_action_from_states(action, names, CASE_STATE__COUNT);
	size_t fo = 1, to = 1;

	if (n > CASE_STATE__COUNT)
		return false;
	p->from[0] = '{';
	p->to[0] = '{';
	for (size_t i = 0; i < n; i++) {
		CaseState s = CASE_STATE_NONE;

		if (!case_state_parse(names[i], &s))
			return false;
		fo += (size_t)snprintf(p->from + fo, sizeof(p->from) - fo, "%s%s", i ? "," : "", names[i]);
		to += (size_t)snprintf(p->to + to, sizeof(p->to) - to, "%s%s", i ? "," : "",
				       case_state_name(case_action_target(action, s, move)));
		if (fo + 2 > sizeof(p->from) || to + 2 > sizeof(p->to))
			return false;
	}
	strcpy(p->from + fo, "}");
	strcpy(p->to + to, "}");
	return true;
}

/* 1 to 255 printable ASCII characters (API.md). */
static bool
idempotency_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (key[i] < 0x20 || key[i] > 0x7e)
			return false;
	}
	return true;
}

/* A text filter: valid UTF-8 without NUL, at most max_chars; empty counts as absent. */
static bool
param_text(Req *req, const char *name, size_t max_chars, const char **out, ApiError *err)
{
	const char *v = req_param(req, name);
	size_t nchars;

	*out = NULL;
	if (!v || !*v)
		return true;
	if (!utf8_validate(v, strlen(v), &nchars) || nchars > max_chars)
		return api_error_set(err, 400, "bad_request", name, "%s must be valid UTF-8 of at most %zu characters",
				     name, max_chars);
	*out = v;
	return true;
}

static bool
param_bool(Req *req, const char *name, const char **out, ApiError *err)
{
	const char *v = req_param(req, name);

	*out = NULL;
	if (!v || !*v)
		return true;
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return api_error_set(err, 400, "bad_request", name, "%s must be true or false", name);
	*out = v;
	return true;
}

/* A calendar date YYYY-MM-DD (core/ymd). */
static bool
param_date(Req *req, const char *name, const char **out, ApiError *err)
{
	const char *v = req_param(req, name);

	*out = NULL;
	if (!v || !*v)
		return true;
	if (!ymd_parse(v, NULL))
		return api_error_set(err, 400, "bad_request", name, "%s must be a date YYYY-MM-DD", name);
	*out = v;
	return true;
}

static bool
param_enum(Req *req, const char *name, bool (*valid)(const char *), const char **out, ApiError *err)
{
	const char *v = req_param(req, name);

	*out = NULL;
	if (!v || !*v)
		return true;
	if (!valid(v))
		return api_error_set(err, 400, "bad_request", name, "%s is not one of the known values", name);
	*out = v;
	return true;
}

/* limit: 1..LIST_LIMIT_MAX, default LIST_LIMIT_DEFAULT; as text into buf. */
static bool
param_limit(Req *req, char *buf, size_t len, ApiError *err)
{
	const char *v = req_param(req, "limit");
	long long n = LIST_LIMIT_DEFAULT;

	if (v && !parse_positive(v, LIST_LIMIT_MAX, &n))
		return api_error_set(err, 400, "bad_request", "limit", "limit must be 1 to %d", LIST_LIMIT_MAX);
	snprintf(buf, len, "%lld", n);
	return true;
}

/* Decimal digits only (no sign, no spaces), 1..max. */
static bool
parse_positive(const char *s, long long max, long long *out)
{
	long long v = 0;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		return false;
	for (; *s; s++) {
		if (v > (max - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < 1)
		return false;
	*out = v;
	return true;
}

/*
 * An inbox `next`: "<deadline in epoch microseconds, or inf>.<id>", each number 1 to 18
 * digits, as sql/010's case_inbox_page (and 005's case_inbox before it) writes it.
 * Checked here because a set-returning SQL function cannot answer 400.
 */
static bool
inbox_cursor_valid(const char *cursor)
{
	const char *dot = strchr(cursor, '.');
	size_t head, tail;

	if (!dot)
		return false;
	head = (size_t)(dot - cursor);
	tail = strlen(dot + 1);
	if (!(head == 3 && strncmp(cursor, "inf", 3) == 0) &&
	    !(head >= 1 && head <= 18 && strspn(cursor, "0123456789") == head))
		return false;
	return tail >= 1 && tail <= 18 && strspn(dot + 1, "0123456789") == tail;
}

static bool
state_name_valid(const char *name)
{
	CaseState s;

	return case_state_parse(name, &s);
}

/* RFC 3339 in UTC ("2026-11-28T01:30:00Z"), which PostgreSQL reads as timestamptz. */
static const char *
format_ts(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return buf;
}

static void
push(CallParams *p, const char *value)
{
	if (p->n < CALL_PARAMS_MAX)
		p->values[p->n++] = value;
}

/* $1..$4 of every case function: user id, user name, role, department (department tokens only). */
static void
push_actor(Req *req, CallParams *p)
{
	snprintf(p->user_id, sizeof(p->user_id), "%lld", (long long)req->user.id);
	push(p, p->user_id);
	push(p, req->user.name);
	push(p, role_name(req->user.role));
	push(p, req->user.role == ROLE_DEPARTMENT ? req->user.department : NULL);
}
