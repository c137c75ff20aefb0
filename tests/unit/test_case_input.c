/* Unit tests for core/case_input: the create body and every action body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/case_input.h"
#include "core/codes.h"

/* A JSON string literal of n copies of the UTF-8 character ch: "\"中中…\"" (caller frees). */
static char *
repeat_json_string(const char *ch, size_t n)
{
	size_t w = strlen(ch);
	char *s = malloc(n * w + 3);

	assert_non_null(s);
	s[0] = '"';
	for (size_t i = 0; i < n; i++)
		memcpy(s + 1 + i * w, ch, w);
	strcpy(s + 1 + n * w, "\"");
	return s;
}

/* Validate a create body given as JSON text; returns the verdict and fills in/err. */
static bool
create_from(const char *json, json_object **owner, CaseInput *in, ApiError *err)
{
	*owner = json_tokener_parse(json);
	assert_non_null(*owner);
	memset(err, 0, sizeof(*err));
	return case_input_create(*owner, in, err);
}

/* Expect a create body to be refused with status/code/field. */
static void
assert_create_refused(const char *json, const char *code, const char *field)
{
	json_object *body;
	CaseInput in;
	ApiError err;

	if (create_from(json, &body, &in, &err))
		fail_msg("accepted: %s", json);
	assert_int_equal(err.status, strcmp(code, "bad_json") == 0 ? 400 : 422);
	assert_string_equal(err.code, code);
	assert_string_equal(err.field, field);
	json_object_put(body);
}

static void
assert_create_accepted(const char *json)
{
	json_object *body;
	CaseInput in;
	ApiError err;

	if (!create_from(json, &body, &in, &err))
		fail_msg("refused (%s %s: %s): %s", err.code, err.field, err.message, json);
	json_object_put(body);
}

/* Build {"text": "x", "<field>": <value>} and check it. */
static void
check_field(const char *field, const char *value_json, const char *code)
{
	char json[20000];

	snprintf(json, sizeof(json), "{\"text\": \"x\", \"%s\": %s}", field, value_json);
	if (code)
		assert_create_refused(json, code, field);
	else
		assert_create_accepted(json);
}

/* Same for a string field of n characters. */
static void
check_length(const char *field, const char *ch, size_t n, bool ok)
{
	char *value = repeat_json_string(ch, n);

	check_field(field, value, ok ? NULL : "invalid_field");
	free(value);
}

static void
test_minimal_body_gets_defaults(void **state)
{
	json_object *body;
	CaseInput in;
	ApiError err;

	(void)state;
	assert_true(create_from("{\"text\": \"路灯不亮\"}", &body, &in, &err));
	assert_string_equal(in.text, "路灯不亮");
	assert_string_equal(in.channel, "phone");
	assert_string_equal(in.type, "complaint");
	assert_true(in.urgent.set);
	assert_false(in.urgent.value);
	assert_true(in.caller_confidential.set);
	assert_false(in.caller_confidential.value);
	assert_null(in.title);
	assert_null(in.category);
	assert_null(in.department);
	assert_null(in.answer);
	assert_false(in.lat.set);
	json_object_put(body);
}

static void
test_full_body(void **state)
{
	json_object *body;
	CaseInput in;
	ApiError err;

	(void)state;
	assert_true(create_from("{\"channel\": \"wechat\", \"type\": \"help\", \"urgent\": true,"
				" \"category\": \"urban_mgmt.03\", \"title\": \"占道\", \"text\": \"市民来电\","
				" \"district\": \"驿城区\", \"address\": \"风光路\", \"lat\": 32.98, \"lon\": -114,"
				" \"caller\": {\"name\": \"张先生\", \"phone\": \"+86-138\", \"confidential\": true},"
				" \"department\": \"urban_mgmt\"}",
				&body, &in, &err));
	assert_string_equal(in.channel, "wechat");
	assert_string_equal(in.type, "help");
	assert_true(in.urgent.value);
	assert_string_equal(in.category, "urban_mgmt.03");
	assert_string_equal(in.title, "占道");
	assert_string_equal(in.district, "驿城区");
	assert_string_equal(in.address, "风光路");
	assert_true(in.lat.set && in.lon.set);
	assert_float_equal(in.lat.value, 32.98, 1e-9);
	assert_float_equal(in.lon.value, -114.0, 1e-9);
	assert_string_equal(in.caller_name, "张先生");
	assert_string_equal(in.caller_phone, "+86-138");
	assert_true(in.caller_confidential.value);
	assert_string_equal(in.department, "urban_mgmt");
	json_object_put(body);
}

static void
test_text_length_in_characters(void **state)
{
	(void)state;
	check_length("text", "中", 4000, true); /* 12000 bytes, 4000 characters */
	check_length("text", "中", 4001, false);
	check_length("text", "a", 4000, true);
	check_length("text", "a", 4001, false);
	check_length("text", "😀", 4000, true);
	check_length("text", "a", 0, false);
	check_length("answer", "中", 4000, true);
	check_length("answer", "中", 4001, false);
	check_length("answer", "a", 0, false);
}

static void
test_text_message_names_limits(void **state)
{
	json_object *body;
	CaseInput in;
	ApiError err;

	(void)state;
	assert_false(create_from("{\"text\": \"\"}", &body, &in, &err));
	assert_string_equal(err.message, "text must be 1 to 4000 characters");
	json_object_put(body);
}

static void
test_other_lengths(void **state)
{
	(void)state;
	check_length("title", "题", 200, true);
	check_length("title", "题", 201, false);
	check_length("title", "a", 0, true);
	check_length("district", "区", 50, true);
	check_length("district", "区", 51, false);
	check_length("address", "路", 200, true);
	check_length("address", "路", 201, false);
}

static void
test_text_required(void **state)
{
	(void)state;
	assert_create_refused("{}", "missing_field", "text");
	assert_create_refused("{\"text\": null}", "missing_field", "text");
	assert_create_refused("{\"title\": \"t\"}", "missing_field", "text");
	assert_create_refused("{\"text\": 5}", "invalid_field", "text");
	assert_create_refused("{\"text\": [\"a\"]}", "invalid_field", "text");
	assert_create_refused("{\"text\": {}}", "invalid_field", "text");
	assert_create_refused("{\"text\": true}", "invalid_field", "text");
}

static void
test_unknown_fields(void **state)
{
	(void)state;
	assert_create_refused("{\"text\": \"x\", \"state\": \"closed\"}", "invalid_field", "state");
	assert_create_refused("{\"text\": \"x\", \"id\": 5}", "invalid_field", "id");
	assert_create_refused("{\"text\": \"x\", \"Text\": \"y\"}", "invalid_field", "Text");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"xyz\": 1}}", "invalid_field", "caller.xyz");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"name\": \"a\", \"email\": \"a@b\"}}",
			      "invalid_field", "caller.email");
	/* an unknown field is reported even when text is missing */
	assert_create_refused("{\"foo\": 1}", "invalid_field", "foo");
}

static void
test_enums(void **state)
{
	static const char *const channels[] = {"phone", "web", "app", "wechat", "kiosk", "hall", "email", "open311"};
	static const char *const types[] = {"consult", "complaint", "help", "report", "suggestion", "praise"};
	char value[64];

	(void)state;
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		snprintf(value, sizeof(value), "\"%s\"", channels[i]);
		check_field("channel", value, NULL);
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(value, sizeof(value), "\"%s\"", types[i]);
		check_field("type", value, NULL);
	}
	check_field("channel", "\"fax\"", "invalid_field");
	check_field("channel", "\"Phone\"", "invalid_field");
	check_field("channel", "\"\"", "invalid_field");
	check_field("channel", "1", "invalid_field");
	check_field("type", "\"complaints\"", "invalid_field");
	check_field("type", "[\"help\"]", "invalid_field");
}

static void
test_booleans(void **state)
{
	(void)state;
	check_field("urgent", "true", NULL);
	check_field("urgent", "false", NULL);
	check_field("urgent", "null", NULL);
	check_field("urgent", "\"true\"", "invalid_field");
	check_field("urgent", "1", "invalid_field");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"confidential\": \"yes\"}}", "invalid_field",
			      "caller.confidential");
	assert_create_refused("{\"text\": \"x\", \"caller\": \"张\"}", "invalid_field", "caller");
	assert_create_refused("{\"text\": \"x\", \"caller\": []}", "invalid_field", "caller");
}

static void
test_phone(void **state)
{
	(void)state;
	assert_create_accepted("{\"text\": \"x\", \"caller\": {\"phone\": \"13800000000\"}}");
	assert_create_accepted("{\"text\": \"x\", \"caller\": {\"phone\": \"+86-396-1234567\"}}");
	assert_create_accepted("{\"text\": \"x\", \"caller\": {\"phone\": \"12345678901234567890\"}}");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"phone\": \"123456789012345678901\"}}",
			      "invalid_field", "caller.phone");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"phone\": \"138 0000\"}}", "invalid_field",
			      "caller.phone");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"phone\": \"(0396)1234\"}}", "invalid_field",
			      "caller.phone");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"phone\": \"１３８\"}}", "invalid_field",
			      "caller.phone");
	assert_create_refused("{\"text\": \"x\", \"caller\": {\"phone\": 13800000000}}", "invalid_field",
			      "caller.phone");
}

static void
test_caller_name(void **state)
{
	char *name = repeat_json_string("张", 51);
	char json[1024];

	(void)state;
	snprintf(json, sizeof(json), "{\"text\": \"x\", \"caller\": {\"name\": %s}}", name);
	assert_create_refused(json, "invalid_field", "caller.name");
	name[strlen(name) - 4] = '"'; /* drop one character: 50 */
	name[strlen(name) - 3] = '\0';
	snprintf(json, sizeof(json), "{\"text\": \"x\", \"caller\": {\"name\": %s}}", name);
	assert_create_accepted(json);
	free(name);
}

static void
test_coordinates(void **state)
{
	(void)state;
	assert_create_accepted("{\"text\": \"x\", \"lat\": 90, \"lon\": 180}");
	assert_create_accepted("{\"text\": \"x\", \"lat\": -90.0, \"lon\": -180.0}");
	assert_create_accepted("{\"text\": \"x\", \"lat\": 0, \"lon\": 0}");
	assert_create_refused("{\"text\": \"x\", \"lat\": 90.0001, \"lon\": 0}", "invalid_field", "lat");
	assert_create_refused("{\"text\": \"x\", \"lat\": -91, \"lon\": 0}", "invalid_field", "lat");
	assert_create_refused("{\"text\": \"x\", \"lat\": 0, \"lon\": 180.5}", "invalid_field", "lon");
	assert_create_refused("{\"text\": \"x\", \"lat\": 0, \"lon\": -181}", "invalid_field", "lon");
	assert_create_refused("{\"text\": \"x\", \"lat\": \"32.9\", \"lon\": 0}", "invalid_field", "lat");
	assert_create_refused("{\"text\": \"x\", \"lat\": 32.9}", "missing_field", "lon");
	assert_create_refused("{\"text\": \"x\", \"lon\": 114}", "missing_field", "lat");
	assert_create_refused("{\"text\": \"x\", \"lat\": 1e400, \"lon\": 0}", "invalid_field", "lat");
}

static void
test_codes(void **state)
{
	(void)state;
	check_field("department", "\"urban_mgmt\"", NULL);
	check_field("category", "\"urban_mgmt.03\"", NULL);
	check_field("department", "\"Urban\"", "invalid_field");
	check_field("department", "\"urban mgmt\"", "invalid_field");
	check_field("department", "\"\"", "invalid_field");
	check_field("department", "\"x'; DROP TABLE cases; --\"", "invalid_field");
	check_field("category", "7", "invalid_field");
	check_field("category", "\"urban_mgmt\"", "invalid_field");    /* no number */
	check_field("category", "\"urban_mgmt.3\"", "invalid_field");  /* one digit */
	check_field("category", "\"urban_mgmt.03.1\"", "invalid_field");
	check_field("department", "\"urban_mgmt.03\"", "invalid_field"); /* a category's code */
	check_field("department", "\"1urban\"", "invalid_field");
	check_length("department", "a", DEPARTMENT_CODE_MAX, true);
	check_length("department", "a", DEPARTMENT_CODE_MAX + 1, false);
}

static void
test_answer_excludes_department(void **state)
{
	json_object *body;
	CaseInput in;
	ApiError err;

	(void)state;
	assert_create_refused("{\"text\": \"x\", \"answer\": \"已答复\", \"department\": \"housing\"}", "invalid_field",
			      "answer");
	assert_true(create_from("{\"text\": \"x\", \"answer\": \"已答复\"}", &body, &in, &err));
	assert_string_equal(in.answer, "已答复");
	json_object_put(body);
}

/* kb names the article of a direct answer: a positive integer, only with answer, kept in the JSON. */
static void
test_kb_goes_with_answer(void **state)
{
	json_object *body, *stored;
	CaseInput in;
	ApiError err;

	(void)state;
	assert_create_refused("{\"text\": \"x\", \"kb\": 3}", "invalid_field", "kb");
	assert_create_refused("{\"text\": \"x\", \"answer\": \"y\", \"kb\": 0}", "invalid_field", "kb");
	assert_create_refused("{\"text\": \"x\", \"answer\": \"y\", \"kb\": \"3\"}", "invalid_field", "kb");
	assert_create_refused("{\"text\": \"x\", \"answer\": \"y\", \"kb\": 1.5}", "invalid_field", "kb");
	assert_true(create_from("{\"text\": \"x\", \"answer\": \"y\", \"kb\": 3}", &body, &in, &err));
	assert_true(in.kb.set);
	assert_int_equal(in.kb.value, 3);
	stored = case_input_to_json(&in);
	assert_int_equal(json_object_get_int64(json_object_object_get(stored, "kb")), 3);
	json_object_put(stored);
	json_object_put(body);
	assert_true(create_from("{\"text\": \"x\", \"answer\": \"y\"}", &body, &in, &err));
	assert_false(in.kb.set);
	stored = case_input_to_json(&in);
	assert_null(json_object_object_get(stored, "kb"));
	json_object_put(stored);
	json_object_put(body);
}

static void
test_nul_and_bad_utf8_in_strings(void **state)
{
	json_object *body = json_object_new_object();
	CaseInput in;
	ApiError err;

	(void)state;
	/* \u0000 parses into an embedded NUL: refused, never truncated silently */
	assert_create_refused("{\"text\": \"a\\u0000b\"}", "invalid_field", "text");
	/* a lone surrogate escape cannot become valid UTF-8 */
	json_object_object_add(body, "text", json_object_new_string_len("a\xed\xa0\x80", 4));
	assert_false(case_input_create(body, &in, &err));
	assert_string_equal(err.field, "text");
	json_object_put(body);
}

static void
test_not_an_object(void **state)
{
	json_object *arr = json_tokener_parse("[1]");
	CaseInput in;
	ApiError err;

	(void)state;
	assert_false(case_input_create(arr, &in, &err));
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "bad_json");
	json_object_put(arr);
}

static void
test_to_json_is_normalized(void **state)
{
	json_object *a, *b, *ja, *jb, *v;
	CaseInput ia, ib;
	ApiError err;

	(void)state;
	assert_true(create_from("{\"text\": \"x\"}", &a, &ia, &err));
	assert_true(create_from("{\"urgent\": false, \"channel\": \"phone\", \"text\": \"x\"}", &b, &ib, &err));
	ja = case_input_to_json(&ia);
	jb = case_input_to_json(&ib);
	/* defaults filled in: the same meaning gives the same JSON, hence the same idempotency hash */
	assert_string_equal(json_object_to_json_string(ja), json_object_to_json_string(jb));
	assert_true(json_object_object_get_ex(ja, "type", &v));
	assert_string_equal(json_object_get_string(v), "complaint");
	assert_false(json_object_object_get_ex(ja, "title", &v));
	assert_false(json_object_object_get_ex(ja, "lat", &v));
	assert_true(json_object_object_get_ex(ja, "caller", &v));
	assert_true(json_object_object_get_ex(v, "confidential", &v));
	assert_false(json_object_get_boolean(v));
	json_object_put(ja);
	json_object_put(jb);
	json_object_put(a);
	json_object_put(b);
}

/* ---- action bodies ---- */

static bool
action_from(CaseAction action, const char *json, CaseActionInput *in, ApiError *err, json_object **owner)
{
	*owner = json_tokener_parse(json);
	assert_non_null(*owner);
	memset(err, 0, sizeof(*err));
	return case_input_action(action, *owner, in, err);
}

static void
check_action(CaseAction action, const char *json, const char *code, const char *field)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;
	bool ok = action_from(action, json, &in, &err, &body);

	if (!code) {
		if (!ok)
			fail_msg("%s refused (%s %s): %s", case_action_name(action), err.code, err.field, json);
	} else {
		if (ok)
			fail_msg("%s accepted: %s", case_action_name(action), json);
		assert_int_equal(err.status, 422);
		assert_string_equal(err.code, code);
		assert_string_equal(err.field, field);
	}
	json_object_put(body);
}

static void
test_empty_bodies(void **state)
{
	(void)state;
	check_action(CASE_SIGN, "{}", NULL, NULL);
	check_action(CASE_CONTACT, "{}", NULL, NULL);
	check_action(CASE_APPROVE, "{}", NULL, NULL);
	check_action(CASE_REJECT, "{}", NULL, NULL);
	check_action(CASE_DISPATCH, "{}", "missing_field", "department");
	check_action(CASE_RETURN, "{}", "missing_field", "reason");
	check_action(CASE_EXTEND, "{}", "missing_field", "workdays");
	check_action(CASE_EXTEND, "{\"workdays\": 3}", "missing_field", "reason");
	check_action(CASE_REPLY, "{}", "missing_field", "text");
	check_action(CASE_VISIT, "{}", "missing_field", "score");
	check_action(CASE_SUPERVISE, "{}", "missing_field", "note");
	check_action(CASE_MERGE, "{}", "missing_field", "into");
}

static void
test_unknown_action_fields(void **state)
{
	(void)state;
	for (int a = CASE_DISPATCH; a < CASE_ACTION__COUNT; a++)
		check_action((CaseAction)a, "{\"bogus\": 1}", "invalid_field", "bogus");
	check_action(CASE_SIGN, "{\"note\": \"x\"}", "invalid_field", "note");
	check_action(CASE_REPLY, "{\"text\": \"x\", \"score\": 5}", "invalid_field", "score");
}

static void
test_dispatch_and_return(void **state)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;

	(void)state;
	assert_true(action_from(CASE_DISPATCH, "{\"department\": \"housing\"}", &in, &err, &body));
	assert_string_equal(in.department, "housing");
	json_object_put(body);
	check_action(CASE_DISPATCH, "{\"department\": 3}", "invalid_field", "department");
	check_action(CASE_DISPATCH, "{\"department\": \"HOUSING\"}", "invalid_field", "department");
	check_action(CASE_RETURN, "{\"reason\": \"不属于本单位职责\"}", NULL, NULL);
	check_action(CASE_RETURN, "{\"reason\": \"\"}", "invalid_field", "reason");
	check_action(CASE_RETURN, "{\"reason\": null}", "missing_field", "reason");
}

static void
test_note_limits(void **state)
{
	char *note = repeat_json_string("注", CASE_NOTE_MAX);
	char *longer = repeat_json_string("注", CASE_NOTE_MAX + 1);
	char json[8192];

	(void)state;
	snprintf(json, sizeof(json), "{\"note\": %s}", note);
	check_action(CASE_SUPERVISE, json, NULL, NULL);
	check_action(CASE_CONTACT, json, NULL, NULL);
	snprintf(json, sizeof(json), "{\"note\": %s}", longer);
	check_action(CASE_SUPERVISE, json, "invalid_field", "note");
	check_action(CASE_CONTACT, json, "invalid_field", "note");
	snprintf(json, sizeof(json), "{\"reason\": %s}", longer);
	check_action(CASE_RETURN, json, "invalid_field", "reason");
	check_action(CASE_REJECT, json, "invalid_field", "reason");
	snprintf(json, sizeof(json), "{\"score\": 4, \"comment\": %s}", longer);
	check_action(CASE_VISIT, json, "invalid_field", "comment");
	check_action(CASE_SUPERVISE, "{\"note\": \"\"}", "invalid_field", "note");
	check_action(CASE_CONTACT, "{\"note\": \"\"}", NULL, NULL);
	free(note);
	free(longer);
}

static void
test_extend(void **state)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;

	(void)state;
	assert_true(action_from(CASE_EXTEND, "{\"workdays\": 5, \"reason\": \"需协调\"}", &in, &err, &body));
	assert_true(in.workdays.set);
	assert_int_equal(in.workdays.value, 5);
	assert_string_equal(in.reason, "需协调");
	json_object_put(body);
	check_action(CASE_EXTEND, "{\"workdays\": 1, \"reason\": \"r\"}", NULL, NULL);
	check_action(CASE_EXTEND, "{\"workdays\": 60, \"reason\": \"r\"}", NULL, NULL);
	check_action(CASE_EXTEND, "{\"workdays\": 3.0, \"reason\": \"r\"}", NULL, NULL);
	check_action(CASE_EXTEND, "{\"workdays\": 0, \"reason\": \"r\"}", "invalid_field", "workdays");
	check_action(CASE_EXTEND, "{\"workdays\": 61, \"reason\": \"r\"}", "invalid_field", "workdays");
	check_action(CASE_EXTEND, "{\"workdays\": -1, \"reason\": \"r\"}", "invalid_field", "workdays");
	check_action(CASE_EXTEND, "{\"workdays\": 2.5, \"reason\": \"r\"}", "invalid_field", "workdays");
	check_action(CASE_EXTEND, "{\"workdays\": \"3\", \"reason\": \"r\"}", "invalid_field", "workdays");
	check_action(CASE_EXTEND, "{\"workdays\": true, \"reason\": \"r\"}", "invalid_field", "workdays");
}

static void
test_reply(void **state)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;
	char *text;
	char *json;

	(void)state;
	assert_true(action_from(CASE_REPLY, "{\"text\": \"已处理\"}", &in, &err, &body));
	assert_true(in.resolved.set);
	assert_true(in.resolved.value); /* default */
	json_object_put(body);
	assert_true(action_from(CASE_REPLY, "{\"text\": \"无法解决\", \"resolved\": false}", &in, &err, &body));
	assert_false(in.resolved.value);
	json_object_put(body);
	check_action(CASE_REPLY, "{\"text\": \"x\", \"resolved\": \"no\"}", "invalid_field", "resolved");
	check_action(CASE_REPLY, "{\"text\": \"\"}", "invalid_field", "text");
	text = repeat_json_string("复", CASE_TEXT_MAX + 1);
	json = malloc(strlen(text) + 16);
	assert_non_null(json);
	sprintf(json, "{\"text\": %s}", text);
	check_action(CASE_REPLY, json, "invalid_field", "text");
	free(json);
	free(text);
}

static void
test_visit(void **state)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;
	char json[64];

	(void)state;
	for (int score = 1; score <= 5; score++) {
		snprintf(json, sizeof(json), "{\"score\": %d}", score);
		assert_true(action_from(CASE_VISIT, json, &in, &err, &body));
		assert_int_equal(in.score.value, score);
		assert_true(in.resolved.set);
		assert_int_equal(in.resolved.value, score >= 3); /* default follows the score */
		json_object_put(body);
	}
	assert_true(action_from(CASE_VISIT, "{\"score\": 2, \"resolved\": true, \"comment\": \"慢\"}", &in, &err,
				&body));
	assert_true(in.resolved.value);
	assert_string_equal(in.comment, "慢");
	json_object_put(body);
	check_action(CASE_VISIT, "{\"score\": 0}", "invalid_field", "score");
	check_action(CASE_VISIT, "{\"score\": 6}", "invalid_field", "score");
	check_action(CASE_VISIT, "{\"score\": \"5\"}", "invalid_field", "score");
	check_action(CASE_VISIT, "{\"score\": 4.5}", "invalid_field", "score");
	check_action(CASE_VISIT, "{\"score\": null}", "missing_field", "score");
}

static void
test_merge(void **state)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;

	(void)state;
	assert_true(action_from(CASE_MERGE, "{\"into\": 1042}", &in, &err, &body));
	assert_true(in.into.set);
	assert_int_equal(in.into.value, 1042);
	json_object_put(body);
	check_action(CASE_MERGE, "{\"into\": 0}", "invalid_field", "into");
	check_action(CASE_MERGE, "{\"into\": -3}", "invalid_field", "into");
	check_action(CASE_MERGE, "{\"into\": \"7\"}", "invalid_field", "into");
	check_action(CASE_MERGE, "{\"into\": 1.5}", "invalid_field", "into");
	check_action(CASE_MERGE, "{\"into\": 99999999999999999999}", "invalid_field", "into");
}

static void
test_create_is_not_an_action_body(void **state)
{
	json_object *body = json_object_new_object();
	CaseActionInput in;
	ApiError err;

	(void)state;
	assert_false(case_input_action(CASE_CREATE, body, &in, &err));
	assert_int_equal(err.status, 500);
	assert_false(case_input_action(CASE_ACTION__COUNT, body, &in, &err));
	json_object_put(body);
}

/* Section 9's co list and the bodies of sections 9-12. */
static void
test_handling_bodies(void **state)
{
	json_object *body;
	CaseActionInput in;
	ApiError err;

	(void)state;
	assert_true(action_from(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"housing\", \"police\"]}",
				&in, &err, &body));
	assert_true(in.co.set);
	assert_int_equal(in.co.n, 2);
	assert_string_equal(in.co.code[1], "police");
	json_object_put(body);
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": []}", NULL, NULL);
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": null}", NULL, NULL);
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}",
		     NULL, NULL);
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]}",
		     "invalid_field", "co");
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"housing\", \"housing\"]}",
		     "invalid_field", "co");
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"urban_mgmt\"]}", "invalid_field",
		     "co");
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": \"housing\"}", "invalid_field", "co");
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [1]}", "invalid_field", "co");
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"Housing\"]}", "invalid_field", "co");
	check_action(CASE_DISPATCH, "{\"department\": \"urban_mgmt\", \"co\": [\"\"]}", "invalid_field", "co");
	check_action(CASE_ASSIST, "{}", "missing_field", "text");
	check_action(CASE_ASSIST, "{\"text\": \"已配合\"}", NULL, NULL);
	check_action(CASE_SUSPEND, "{}", "missing_field", "reason");
	check_action(CASE_SUSPEND, "{\"reason\": \"等待材料\"}", NULL, NULL);
	check_action(CASE_RESUME, "{}", NULL, NULL);
	check_action(CASE_REVIEW, "{}", "missing_field", "approve");
	check_action(CASE_REVIEW, "{\"approve\": true}", NULL, NULL);
	check_action(CASE_REVIEW, "{\"approve\": 1}", "invalid_field", "approve");
	check_action(CASE_REVIEW, "{\"approve\": false}", "missing_field", "reason");
	check_action(CASE_REVIEW, "{\"approve\": false, \"reason\": \"答复不完整\"}", NULL, NULL);
	for (const char *const *r = case_decline_reasons; *r; r++) {
		char json[128];

		snprintf(json, sizeof(json), "{\"reason\": \"%s\"}", *r);
		check_action(CASE_DECLINE, json, NULL, NULL);
	}
	check_action(CASE_DECLINE, "{\"reason\": \"boring\"}", "invalid_field", "reason");
	check_action(CASE_DECLINE, "{\"reason\": \"secret\", \"note\": 5}", "invalid_field", "note");
	check_action(CASE_DECLINE, "{\"note\": \"x\"}", "missing_field", "reason");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handling_bodies),
		cmocka_unit_test(test_minimal_body_gets_defaults),
		cmocka_unit_test(test_full_body),
		cmocka_unit_test(test_text_length_in_characters),
		cmocka_unit_test(test_text_message_names_limits),
		cmocka_unit_test(test_other_lengths),
		cmocka_unit_test(test_text_required),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_caller_name),
		cmocka_unit_test(test_coordinates),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_answer_excludes_department),
		cmocka_unit_test(test_kb_goes_with_answer),
		cmocka_unit_test(test_nul_and_bad_utf8_in_strings),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_to_json_is_normalized),
		cmocka_unit_test(test_empty_bodies),
		cmocka_unit_test(test_unknown_action_fields),
		cmocka_unit_test(test_dispatch_and_return),
		cmocka_unit_test(test_note_limits),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_visit),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_create_is_not_an_action_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
