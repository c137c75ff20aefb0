/*
 * test_sla: the SLA policy (parse, validate, serialize, pick) and the
 * deadlines it gives. Expected instants were computed apart from this code
 * (Python zoneinfo). Runs in "CST-8" (UTC+8, no summer time, no tzdata).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calendar_fixtures.h"

#include "core/sla.h"

/* The National Day week of 2026 (holidays 10/1-10/7, make-up 9/20, 10/10)
 * and Spring Festival 2026 (2/15-2/23 off, make-up 2/14 and 2/28). */
static const char calendar_2026[] =
	"{\"holidays\": [\"2026-02-15\", \"2026-02-16\", \"2026-02-17\", \"2026-02-18\", \"2026-02-19\","
	" \"2026-02-20\", \"2026-02-21\", \"2026-02-22\", \"2026-02-23\", \"2026-10-01\", \"2026-10-02\","
	" \"2026-10-03\", \"2026-10-04\", \"2026-10-05\", \"2026-10-06\", \"2026-10-07\"],"
	" \"workdays\": [\"2026-02-14\", \"2026-02-28\", \"2026-09-20\", \"2026-10-10\"]}";

typedef struct Fixture {
	Workcal *cal;
	SlaPolicy policy; /* the default */
} Fixture;

#define assert_time(got, want) assert_int_equal((got), at(want))

static json_object *
parse(const char *text)
{
	json_object *obj = json_tokener_parse(text);

	assert_non_null(obj);
	return obj;
}

static int
setup(void **state)
{
	Fixture *fx = calloc(1, sizeof(*fx));
	json_object *body = parse(calendar_2026);
	WorkcalYear y;

	assert_non_null(fx);
	assert_true(workcal_year_from_json(2026, body, &y, NULL));
	json_object_put(body);
	fx->cal = workcal_new(&y, 1);
	assert_non_null(fx->cal);
	sla_policy_default(&fx->policy);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *fx = *state;

	workcal_free(fx->cal);
	free(fx);
	return 0;
}

static void
assert_same_duration(Duration a, Duration b)
{
	assert_int_equal(a.unit, b.unit);
	assert_int_equal(a.amount, b.amount);
}

static void
assert_same_policy(const SlaPolicy *a, const SlaPolicy *b)
{
	size_t i;

	assert_int_equal(a->nrules, b->nrules);
	for (i = 0; i < a->nrules; i++) {
		assert_string_equal(a->rules[i].type, b->rules[i].type);
		assert_int_equal(a->rules[i].urgent, b->rules[i].urgent);
		assert_same_duration(a->rules[i].sign, b->rules[i].sign);
		assert_same_duration(a->rules[i].contact, b->rules[i].contact);
		assert_same_duration(a->rules[i].finish, b->rules[i].finish);
	}
	assert_same_duration(a->rectify, b->rectify);
	assert_true(a->warn_at == b->warn_at);
}

/* The policy the migration stores is the default, and valid. */
static void
test_migration_policy_is_default(void **state)
{
	Fixture *fx = *state;
	json_object *body = migration_json("SELECT sla_policy_put(");
	SlaPolicy stored;
	ApiError err;

	assert_non_null(body);
	assert_true(sla_policy_from_json(body, &stored, &err));
	json_object_put(body);
	assert_same_policy(&stored, &fx->policy);
}

static void
test_policy_round_trip(void **state)
{
	Fixture *fx = *state;
	json_object *out = sla_policy_to_json(&fx->policy);
	SlaPolicy back;

	assert_non_null(out);
	assert_string_equal(
		json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
		"{\"rules\":[{\"type\":\"*\",\"urgent\":true,\"sign\":\"30m\",\"contact\":\"2h\",\"finish\":\"24h\"},"
		"{\"type\":\"consult\",\"urgent\":false,\"sign\":\"1wd\",\"contact\":\"1wd\",\"finish\":\"2wd\"},"
		"{\"type\":\"help\",\"urgent\":false,\"sign\":\"1wd\",\"contact\":\"1wd\",\"finish\":\"5wd\"},"
		"{\"type\":\"*\",\"urgent\":false,\"sign\":\"1wd\",\"contact\":\"2wd\",\"finish\":\"10wd\"}],"
		"\"rectify\":\"5wd\",\"warn_at\":0.75,\"review\":false}");
	assert_true(sla_policy_from_json(out, &back, NULL));
	json_object_put(out);
	assert_same_policy(&back, &fx->policy);
}

static void
test_pick_first_match(void **state)
{
	Fixture *fx = *state;
	const SlaPolicy *p = &fx->policy;
	static const char *const types[] = {"consult", "complaint", "help", "report", "suggestion", "praise"};
	SlaPolicy custom;
	json_object *body;
	size_t i;

	/* Urgent cases of every type take the first rule. */
	for (i = 0; i < 6; i++)
		assert_ptr_equal(sla_pick(p, types[i], true), &p->rules[0]);
	assert_ptr_equal(sla_pick(p, "consult", false), &p->rules[1]);
	assert_ptr_equal(sla_pick(p, "help", false), &p->rules[2]);
	assert_ptr_equal(sla_pick(p, "complaint", false), &p->rules[3]);
	assert_ptr_equal(sla_pick(p, "praise", false), &p->rules[3]);
	assert_null(sla_pick(p, "*", false));
	assert_null(sla_pick(p, "complain", false));
	assert_null(sla_pick(p, NULL, true));

	/* A specific rule after a catch-all never applies. */
	body = parse("{\"rules\": [{\"type\": \"*\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"1wd\", \"finish\": \"3wd\"},"
		     " {\"type\": \"complaint\", \"urgent\": false, \"sign\": \"1h\", \"contact\": \"1h\", \"finish\": \"1h\"},"
		     " {\"type\": \"*\", \"urgent\": true, \"sign\": \"1h\", \"contact\": \"1h\", \"finish\": \"4h\"}],"
		     " \"rectify\": \"3wd\", \"warn_at\": 0.5}");
	assert_true(sla_policy_from_json(body, &custom, NULL));
	json_object_put(body);
	assert_ptr_equal(sla_pick(&custom, "complaint", false), &custom.rules[0]);
	assert_ptr_equal(sla_pick(&custom, "complaint", true), &custom.rules[2]);
	assert_true(custom.warn_at == 0.5);
}

static void
test_policy_errors(void **state)
{
	/* A valid rule list to break one piece at a time. */
#define RULE_U "{\"type\": \"*\", \"urgent\": true, \"sign\": \"30m\", \"contact\": \"2h\", \"finish\": \"24h\"}"
#define RULE_N "{\"type\": \"*\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"2wd\", \"finish\": \"10wd\"}"
#define TAIL "\"rectify\": \"5wd\", \"warn_at\": 0.75}"
	static const struct {
		const char *body;
		int status;
		const char *code;
		const char *field;
	} cases[] = {
		{"[]", 400, "bad_json", ""},
		{"{" TAIL, 422, "missing_field", "rules"},
		{"{\"rules\": {}, " TAIL, 422, "invalid_field", "rules"},
		{"{\"rules\": [], " TAIL, 422, "invalid_field", "rules"},
		{"{\"rules\": [" RULE_U ", 7], " TAIL, 422, "invalid_field", "rules[1]"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"extra\": 1, " TAIL, 422, "invalid_field", "extra"},
		{"{\"rules\": [{\"type\": \"*\", \"urgent\": true, \"sign\": \"30m\", \"contact\": \"2h\", \"finish\": \"24h\", \"colour\": \"red\"}, " RULE_N "], " TAIL,
		 422, "invalid_field", "rules[0].colour"},
		{"{\"rules\": [" RULE_U ", {\"type\": \"*\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"2wd\"}], " TAIL,
		 422, "missing_field", "rules[1].finish"},
		{"{\"rules\": [" RULE_U ", {\"type\": \"*\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"2wd\", \"finish\": \"2 wd\"}], " TAIL,
		 422, "invalid_field", "rules[1].finish"},
		{"{\"rules\": [" RULE_U ", {\"type\": \"*\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"0wd\", \"finish\": \"2wd\"}], " TAIL,
		 422, "invalid_field", "rules[1].contact"},
		{"{\"rules\": [{\"type\": \"*\", \"urgent\": true, \"sign\": 30, \"contact\": \"2h\", \"finish\": \"24h\"}, " RULE_N "], " TAIL,
		 422, "invalid_field", "rules[0].sign"},
		{"{\"rules\": [" RULE_U ", " RULE_N ", {\"type\": \"complain\", \"urgent\": false, \"sign\": \"1h\", \"contact\": \"1h\", \"finish\": \"1h\"}], " TAIL,
		 422, "invalid_field", "rules[2].type"},
		{"{\"rules\": [" RULE_U ", {\"urgent\": false, \"sign\": \"1wd\", \"contact\": \"2wd\", \"finish\": \"2wd\"}], " TAIL,
		 422, "missing_field", "rules[1].type"},
		{"{\"rules\": [{\"type\": \"*\", \"urgent\": \"yes\", \"sign\": \"30m\", \"contact\": \"2h\", \"finish\": \"24h\"}, " RULE_N "], " TAIL,
		 422, "invalid_field", "rules[0].urgent"},
		{"{\"rules\": [{\"type\": \"*\", \"sign\": \"30m\", \"contact\": \"2h\", \"finish\": \"24h\"}, " RULE_N "], " TAIL,
		 422, "missing_field", "rules[0].urgent"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"warn_at\": 0.75}", 422, "missing_field", "rectify"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5 wd\", \"warn_at\": 0.75}", 422, "invalid_field", "rectify"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5wd\"}", 422, "missing_field", "warn_at"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5wd\", \"warn_at\": 0}", 422, "invalid_field", "warn_at"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5wd\", \"warn_at\": 1}", 422, "invalid_field", "warn_at"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5wd\", \"warn_at\": 1.5}", 422, "invalid_field", "warn_at"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5wd\", \"warn_at\": -0.25}", 422, "invalid_field", "warn_at"},
		{"{\"rules\": [" RULE_U ", " RULE_N "], \"rectify\": \"5wd\", \"warn_at\": \"0.5\"}", 422, "invalid_field", "warn_at"},
		/* Coverage: no rule for non-urgent complaints (or for urgent ones). */
		{"{\"rules\": [" RULE_U ", {\"type\": \"consult\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"1wd\", \"finish\": \"2wd\"}], " TAIL,
		 422, "invalid_field", "rules"},
		{"{\"rules\": [" RULE_N "], " TAIL, 422, "invalid_field", "rules"},
	};
#undef RULE_U
#undef RULE_N
#undef TAIL
	json_object *body;
	SlaPolicy p;
	ApiError err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		body = parse(cases[i].body);
		if (sla_policy_from_json(body, &p, &err))
			fail_msg("accepted %s", cases[i].body);
		json_object_put(body);
		if (err.status != cases[i].status || strcmp(err.code, cases[i].code) != 0 ||
		    strcmp(err.field, cases[i].field) != 0)
			fail_msg("%s: got %d %s \"%s\"", cases[i].body, err.status, err.code, err.field);
	}
}

static void
test_policy_error_messages(void **state)
{
	json_object *body = parse("{\"rules\": [{\"type\": \"*\", \"urgent\": true, \"sign\": \"30m\", \"contact\": \"2h\", \"finish\": \"24h\"},"
				  " {\"type\": \"consult\", \"urgent\": false, \"sign\": \"1wd\", \"contact\": \"1wd\", \"finish\": \"2wd\"}],"
				  " \"rectify\": \"5wd\", \"warn_at\": 0.75}");
	json_object *rules = json_object_new_array();
	SlaPolicy p;
	ApiError err;
	int i;

	(void)state;
	/* The message names the first uncovered pair. */
	assert_false(sla_policy_from_json(body, &p, &err));
	assert_non_null(strstr(err.message, "complaint"));
	assert_non_null(strstr(err.message, "urgent false"));
	json_object_put(body);

	/* More than SLA_MAX_RULES rules. */
	for (i = 0; i <= SLA_MAX_RULES; i++)
		json_object_array_add(rules, parse("{\"type\": \"*\", \"urgent\": true, \"sign\": \"1h\", \"contact\": \"1h\", \"finish\": \"1h\"}"));
	body = json_object_new_object();
	json_object_object_add(body, "rules", rules);
	json_object_object_add(body, "rectify", json_object_new_string("5wd"));
	json_object_object_add(body, "warn_at", json_object_new_double(0.75));
	assert_false(sla_policy_from_json(body, &p, &err));
	assert_string_equal(err.field, "rules");
	json_object_put(body);
}

static void
test_deadlines(void **state)
{
	Fixture *fx = *state;
	time_t sign, contact, finish;

	/* A complaint dispatched on API.md's Friday afternoon. */
	assert_true(sla_deadlines(&fx->policy, fx->cal, "complaint", false, at("2026-11-27T15:00:00+08:00"),
				  &sign, &contact, &finish));
	assert_time(sign, "2026-11-30T23:59:59+08:00");
	assert_time(contact, "2026-12-01T23:59:59+08:00");
	assert_time(finish, "2026-12-11T23:59:59+08:00");

	/* Urgent: calendar time, straight through the weekend. */
	assert_true(sla_deadlines(&fx->policy, fx->cal, "report", true, at("2026-11-27T15:00:00+08:00"), &sign,
				  &contact, &finish));
	assert_time(sign, "2026-11-27T15:30:00+08:00");
	assert_time(contact, "2026-11-27T17:00:00+08:00");
	assert_time(finish, "2026-11-28T15:00:00+08:00");

	/* A consultation just before National Day. */
	assert_true(sla_deadlines(&fx->policy, fx->cal, "consult", false, at("2026-09-30T10:00:00+08:00"),
				  &sign, &contact, &finish));
	assert_time(sign, "2026-10-08T23:59:59+08:00");
	assert_time(contact, "2026-10-08T23:59:59+08:00");
	assert_time(finish, "2026-10-09T23:59:59+08:00");

	/* A request for help on the eve of Spring Festival: make-up Saturday 2/14 counts. */
	assert_true(sla_deadlines(&fx->policy, fx->cal, "help", false, at("2026-02-13T10:00:00+08:00"), &sign,
				  &contact, &finish));
	assert_time(sign, "2026-02-14T23:59:59+08:00");
	assert_time(finish, "2026-02-27T23:59:59+08:00");

	/* Unknown type: refused, outputs untouched. */
	sign = contact = finish = 42;
	assert_false(sla_deadlines(&fx->policy, fx->cal, "unknown", false, at("2026-02-13T10:00:00+08:00"),
				   &sign, &contact, &finish));
	assert_int_equal(sign, 42);
	assert_int_equal(contact, 42);
	assert_int_equal(finish, 42);
}

static void
test_rectify_and_extend(void **state)
{
	Fixture *fx = *state;

	/* Reopened the day before National Day: 5wd are 10/8, 10/9, 10/10 (make-up), 10/12, 10/13. */
	assert_time(sla_rectify_deadline(&fx->policy, fx->cal, at("2026-09-30T08:00:00+08:00")),
		    "2026-10-13T23:59:59+08:00");
	/* Extension counts from finish_by's day. */
	assert_time(sla_extend(fx->cal, at("2026-09-30T23:59:59+08:00"), 3), "2026-10-10T23:59:59+08:00");
	/* An urgent finish_by on a Saturday afternoon. */
	assert_time(sla_extend(fx->cal, at("2026-11-28T15:00:00+08:00"), 1), "2026-11-30T23:59:59+08:00");
	assert_time(sla_extend(fx->cal, at("2026-11-28T15:00:00+08:00"), 0), "2026-11-28T23:59:59+08:00");
	assert_int_equal(sla_extend(fx->cal, at("2026-11-28T15:00:00+08:00"), -1), (time_t)-1);
}

static void
test_warn_time(void **state)
{
	time_t start = at("2026-11-27T15:00:00+08:00");

	(void)state;
	assert_time(sla_warn_time(start, at("2026-11-27T15:30:00+08:00"), 0.75), "2026-11-27T15:22:30+08:00");
	/* 291599 s * 0.75 = 218699.25: rounded down. */
	assert_time(sla_warn_time(start, at("2026-11-30T23:59:59+08:00"), 0.75), "2026-11-30T03:44:59+08:00");
	assert_int_equal(sla_warn_time(start, start + 7, 0.75), start + 5);
	assert_int_equal(sla_warn_time(start, start + 7, 0.5), start + 3);
	/* A deadline not after the start warns at the deadline. */
	assert_int_equal(sla_warn_time(start, start, 0.75), start);
	assert_int_equal(sla_warn_time(start, start - 60, 0.75), start - 60);
}

/* The working days a suspension takes out: suspend date < d <= resume date. */
static void
test_workdays_between(void **state)
{
	Fixture *fx = *state;

	/* a weekend: only Monday counts */
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-11-27T15:00:00+08:00"),
						  at("2026-11-30T09:00:00+08:00")), 1);
	/* the suspend day itself never counts, the resume day does */
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-11-30T08:00:00+08:00"),
						  at("2026-11-30T18:00:00+08:00")), 0);
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-11-30T08:00:00+08:00"),
						  at("2026-12-01T00:00:00+08:00")), 1);
	/* National Day week: 10/1-10/7 off, 10/8 and 10/9 work */
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-09-30T10:00:00+08:00"),
						  at("2026-10-09T10:00:00+08:00")), 2);
	/* Friday to the make-up Sunday 9/20: the Sunday works */
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-09-18T10:00:00+08:00"),
						  at("2026-09-20T10:00:00+08:00")), 1);
	/* across a year end, and backwards (nothing) */
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-12-31T10:00:00+08:00"),
						  at("2027-01-04T10:00:00+08:00")), 2);
	assert_int_equal(workcal_workdays_between(fx->cal, at("2026-12-01T10:00:00+08:00"),
						  at("2026-11-30T10:00:00+08:00")), 0);
}

/* Resume moves a calendar-time deadline by the suspended time, a working-day one by W days. */
static void
test_resume_deadline(void **state)
{
	Fixture *fx = *state;

	/* across the National Day week: 9 days of calendar time; W = 2 (10/8, 10/9) */
	assert_time(sla_resume_deadline(fx->cal, at("2026-10-01T10:00:00+08:00"), false,
					at("2026-09-30T10:00:00+08:00"), at("2026-10-09T10:00:05+08:00")),
		    "2026-10-10T10:00:05+08:00");
	/* ... the 2nd working day after 10/9 is Monday 10/12: 10/10 (Sat) is a make-up workday */
	assert_time(sla_resume_deadline(fx->cal, at("2026-10-09T23:59:59+08:00"), true,
					at("2026-09-30T10:00:00+08:00"), at("2026-10-09T10:00:00+08:00")),
		    "2026-10-12T23:59:59+08:00");
	/* starting on the make-up Saturday 10/10: it does not count; Mon 10/12 and Tue 10/13 do */
	assert_time(sla_resume_deadline(fx->cal, at("2026-10-12T23:59:59+08:00"), true,
					at("2026-10-10T09:00:00+08:00"), at("2026-10-13T09:00:00+08:00")),
		    "2026-10-14T23:59:59+08:00");
	/* ending on a holiday (Saturday 10/3): only 9/30 counts; the next working day after 9/30 is 10/8 */
	assert_time(sla_resume_deadline(fx->cal, at("2026-09-30T23:59:59+08:00"), true,
					at("2026-09-29T10:00:00+08:00"), at("2026-10-03T10:00:00+08:00")),
		    "2026-10-08T23:59:59+08:00");
	/* ... while a 2h clock moves by the four days exactly */
	assert_time(sla_resume_deadline(fx->cal, at("2026-09-29T12:00:00+08:00"), false,
					at("2026-09-29T10:00:00+08:00"), at("2026-10-03T10:00:00+08:00")),
		    "2026-10-03T12:00:00+08:00");
	/* W = 0 (same day, or only days off): unchanged, even a deadline not at 23:59:59 */
	assert_time(sla_resume_deadline(fx->cal, at("2026-11-30T15:00:00+08:00"), true,
					at("2026-11-30T09:00:00+08:00"), at("2026-11-30T17:00:00+08:00")),
		    "2026-11-30T15:00:00+08:00");
	assert_time(sla_resume_deadline(fx->cal, at("2026-10-09T23:59:59+08:00"), true,
					at("2026-10-01T09:00:00+08:00"), at("2026-10-07T17:00:00+08:00")),
		    "2026-10-09T23:59:59+08:00");
	/* a weekend: W = 1 (Monday) */
	assert_time(sla_resume_deadline(fx->cal, at("2026-12-01T23:59:59+08:00"), true,
					at("2026-11-27T15:00:00+08:00"), at("2026-11-30T09:00:00+08:00")),
		    "2026-12-02T23:59:59+08:00");
	/* a resume before the suspension is refused */
	assert_int_equal(sla_resume_deadline(fx->cal, at("2026-12-01T23:59:59+08:00"), false,
					     at("2026-11-30T09:00:00+08:00"), at("2026-11-27T15:00:00+08:00")),
			 (time_t)-1);
}

/* Each rule's clock kinds, and the optional review flag. */
static void
test_clock_kinds_and_review(void **state)
{
	Fixture *fx = *state;
	json_object *body;
	SlaPolicy p;
	ApiError err;

	/* default: urgent 30m/2h/24h are all calendar time; a complaint's 1wd/2wd/10wd all working days */
	assert_int_equal(sla_clock_workdays(sla_pick(&fx->policy, "complaint", true)), 0);
	assert_int_equal(sla_clock_workdays(sla_pick(&fx->policy, "complaint", false)),
			 SLA_CLOCK_SIGN | SLA_CLOCK_CONTACT | SLA_CLOCK_FINISH);
	body = parse("{\"rules\": [{\"type\": \"*\", \"urgent\": true, \"sign\": \"1wd\", \"contact\": \"2h\","
		     " \"finish\": \"3wd\"}, {\"type\": \"*\", \"urgent\": false, \"sign\": \"30m\","
		     " \"contact\": \"1wd\", \"finish\": \"24h\"}], \"rectify\": \"5wd\", \"warn_at\": 0.5,"
		     " \"review\": true}");
	assert_true(sla_policy_from_json(body, &p, &err));
	json_object_put(body);
	assert_true(p.review);
	assert_int_equal(sla_clock_workdays(sla_pick(&p, "help", true)), SLA_CLOCK_SIGN | SLA_CLOCK_FINISH);
	assert_int_equal(sla_clock_workdays(sla_pick(&p, "help", false)), SLA_CLOCK_CONTACT);
	assert_false(fx->policy.review);
	body = parse("{\"rules\": [{\"type\": \"*\", \"urgent\": true, \"sign\": \"1wd\", \"contact\": \"2h\","
		     " \"finish\": \"3wd\"}], \"rectify\": \"5wd\", \"warn_at\": 0.5, \"review\": \"yes\"}");
	assert_false(sla_policy_from_json(body, &p, &err));
	json_object_put(body);
	assert_int_equal(err.status, 422);
	assert_string_equal(err.field, "review");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration_policy_is_default),
		cmocka_unit_test(test_policy_round_trip),
		cmocka_unit_test(test_pick_first_match),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_policy_error_messages),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_rectify_and_extend),
		cmocka_unit_test(test_warn_time),
		cmocka_unit_test(test_workdays_between),
		cmocka_unit_test(test_resume_deadline),
		cmocka_unit_test(test_clock_kinds_and_review),
	};

	setenv("TZ", "CST-8", 1);
	tzset();
	return cmocka_run_group_tests(tests, setup, teardown);
}
