/*
 * Unit tests for core/case_render: the inbox item is case_json's object for a department
 * viewer (keys, order, nesting, null rules) plus due_in_minutes; a created case is the same
 * object for its creator, with its tracking code; strings are escaped as
 * PostgreSQL's escape_json does; a confidential caller shows nothing but the flag; the
 * page pages by its extra row; malformed booleans are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "core/case_render.h"

/* A dispatched case as case_inbox_page returns it: every column a dispatch sets, the rest NULL. */
static CaseRow
dispatched_row(void)
{
	CaseRow r = {{NULL}};

	r.col[CASE_COL_ID] = "1042";
	r.col[CASE_COL_NUMBER] = "20261128-000042";
	r.col[CASE_COL_CREATED_AT] = "2026-11-28T09:30:00+08:00";
	r.col[CASE_COL_CHANNEL] = "phone";
	r.col[CASE_COL_TYPE] = "complaint";
	r.col[CASE_COL_URGENT] = "f";
	r.col[CASE_COL_CATEGORY] = "urban_mgmt.03";
	r.col[CASE_COL_TITLE] = "小区门口占道摆摊";
	r.col[CASE_COL_TEXT] = "市民来电反映";
	r.col[CASE_COL_DISTRICT] = "驿城区";
	r.col[CASE_COL_ADDRESS] = "风光路与解放路交叉口";
	r.col[CASE_COL_LAT] = "32.98";
	r.col[CASE_COL_LON] = "114.02";
	r.col[CASE_COL_CALLER_NAME] = "张先生";
	r.col[CASE_COL_CALLER_PHONE] = "13800000000";
	r.col[CASE_COL_CALLER_CONFIDENTIAL] = "f";
	r.col[CASE_COL_DEPARTMENT] = "urban_mgmt";
	r.col[CASE_COL_ROUTING_METHOD] = "rule";
	r.col[CASE_COL_ROUTING_RULE_ID] = "17";
	r.col[CASE_COL_ROUTING_RULE_NAME] = "摆摊";
	r.col[CASE_COL_STATE] = "dispatched";
	r.col[CASE_COL_SIGN_BY] = "2026-11-30T23:59:59+08:00";
	r.col[CASE_COL_CONTACT_BY] = "2026-12-01T23:59:59+08:00";
	r.col[CASE_COL_FINISH_BY] = "2026-12-11T23:59:59+08:00";
	r.col[CASE_COL_OVERDUE] = "f";
	r.col[CASE_COL_DISPATCHED_AT] = "2026-11-28T09:30:00+08:00";
	r.col[CASE_COL_RETURNS] = "0";
	r.col[CASE_COL_REOPENED] = "0";
	r.col[CASE_COL_CO] = "[]";
	r.col[CASE_COL_SENT_BACK] = "0";
	r.col[CASE_COL_VERSION] = "1";
	r.col[CASE_COL_DUE_IN_MINUTES] = "3629";
	r.col[CASE_COL_ROLE] = "lead";
	r.col[CASE_COL_CURSOR] = "1764518399000000.1042";
	return r;
}

/* The rendered item as a NUL-terminated text the caller frees; fails the test if refused. */
static char *
render(const CaseRow *row)
{
	TextBuf b = {0};

	assert_true(case_render_inbox_item(&b, row));
	assert_false(b.failed);
	assert_int_equal(strlen(b.buf), b.len);
	return b.buf;
}

/* The rendered item parsed back; the caller puts it. */
static json_object *
render_json(const CaseRow *row)
{
	char *text = render(row);
	json_object *obj = json_tokener_parse(text);

	assert_non_null(obj);
	free(text);
	return obj;
}

static json_object *
member(json_object *obj, const char *name)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(obj, name, &v));
	return v;
}

/* The JSON string s renders to, as a text the caller frees. */
static char *
render_string(const char *s)
{
	CaseRow r = dispatched_row();
	char *text, *start, *end, *out;

	r.col[CASE_COL_TITLE] = s;
	text = render(&r);
	start = strstr(text, "\"title\":") + strlen("\"title\":");
	end = strstr(start, ",\"text\":");
	assert_non_null(end);
	out = strndup(start, (size_t)(end - start));
	free(text);
	return out;
}

static void
assert_renders_string(const char *s, const char *want)
{
	char *got = render_string(s);

	assert_string_equal(got, want);
	free(got);
}

/* Byte for byte: case_json's keys in its order, nested objects, nulls, then due_in_minutes. */
static void
test_dispatched_case_exactly(void **state)
{
	CaseRow r = dispatched_row();
	char *text = render(&r);

	(void)state;
	assert_string_equal(text,
		"{\"id\":1042,\"number\":\"20261128-000042\",\"created_at\":\"2026-11-28T09:30:00+08:00\","
		"\"channel\":\"phone\",\"type\":\"complaint\",\"urgent\":false,\"category\":\"urban_mgmt.03\","
		"\"title\":\"小区门口占道摆摊\",\"text\":\"市民来电反映\",\"district\":\"驿城区\","
		"\"address\":\"风光路与解放路交叉口\",\"lat\":32.98,\"lon\":114.02,"
		"\"caller\":{\"name\":\"张先生\",\"phone\":\"13800000000\",\"confidential\":false},"
		"\"department\":\"urban_mgmt\",\"routing\":{\"method\":\"rule\",\"rule_id\":17,\"rule_name\":\"摆摊\"},"
		"\"state\":\"dispatched\",\"deadlines\":{\"sign_by\":\"2026-11-30T23:59:59+08:00\","
		"\"contact_by\":\"2026-12-01T23:59:59+08:00\",\"finish_by\":\"2026-12-11T23:59:59+08:00\"},"
		"\"overdue\":false,\"timestamps\":{\"dispatched_at\":\"2026-11-28T09:30:00+08:00\","
		"\"signed_at\":null,\"contacted_at\":null,\"replied_at\":null,\"visited_at\":null,\"closed_at\":null},"
		"\"answer\":null,\"kb\":null,\"reply\":null,\"satisfaction\":null,\"extension\":null,"
		"\"returns\":0,\"reopened\":0,\"merged_into\":null,\"co\":[],\"suspended\":null,\"sent_back\":0,"
		"\"declined\":null,\"version\":1,\"due_in_minutes\":3629,\"role\":\"lead\"}");
	free(text);
}

/* Every nullable column NULL: each key still there, as null; the always-present objects too. */
static void
test_nulls(void **state)
{
	CaseRow r = dispatched_row();
	json_object *obj, *v;
	static const int nullable[] = {
		CASE_COL_CATEGORY, CASE_COL_TITLE, CASE_COL_DISTRICT, CASE_COL_ADDRESS, CASE_COL_LAT,
		CASE_COL_LON, CASE_COL_CALLER_NAME, CASE_COL_CALLER_PHONE, CASE_COL_ROUTING_RULE_ID,
		CASE_COL_ROUTING_RULE_NAME, CASE_COL_SIGN_BY, CASE_COL_CONTACT_BY, CASE_COL_FINISH_BY,
		CASE_COL_DISPATCHED_AT, CASE_COL_DUE_IN_MINUTES,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(nullable) / sizeof(nullable[0]); i++)
		r.col[nullable[i]] = NULL;
	r.col[CASE_COL_ROUTING_METHOD] = "manual";
	obj = render_json(&r);
	assert_int_equal(json_object_object_length(obj), 35);
	for (const char *const *k = (const char *const[]){"category", "title", "district", "address", "lat", "lon",
							   "answer", "kb", "reply", "satisfaction", "extension",
							   "merged_into", "due_in_minutes", NULL};
	     *k; k++)
		assert_null(member(obj, *k));
	v = member(obj, "caller");
	assert_null(member(v, "name"));
	assert_null(member(v, "phone"));
	assert_false(json_object_get_boolean(member(v, "confidential")));
	v = member(obj, "routing");
	assert_string_equal(json_object_get_string(member(v, "method")), "manual");
	assert_null(member(v, "rule_id"));
	assert_null(member(v, "rule_name"));
	v = member(obj, "deadlines");
	assert_int_equal(json_object_object_length(v), 3);
	assert_null(member(v, "sign_by"));
	assert_int_equal(json_object_object_length(member(obj, "timestamps")), 6);
	assert_null(member(member(obj, "timestamps"), "dispatched_at"));
	json_object_put(obj);
}

/* A confidential caller is {"confidential":true} only, whatever name and phone hold. */
static void
test_confidential_caller(void **state)
{
	CaseRow r = dispatched_row();
	char *text;

	(void)state;
	r.col[CASE_COL_CALLER_CONFIDENTIAL] = "t";
	text = render(&r);
	assert_non_null(strstr(text, ",\"caller\":{\"confidential\":true},\"department\":"));
	assert_null(strstr(text, "张先生"));
	assert_null(strstr(text, "13800000000"));
	free(text);
	/* as the query sends it: name and phone NULL */
	r.col[CASE_COL_CALLER_NAME] = r.col[CASE_COL_CALLER_PHONE] = NULL;
	text = render(&r);
	assert_non_null(strstr(text, ",\"caller\":{\"confidential\":true},"));
	free(text);
}

/* The case written for its creator (POST /v1/cases): the inbox item's members without
 * due_in_minutes and role, then the tracking code, as case_with_track_code appends it. */
static void
test_created_case_with_track_code(void **state)
{
	CaseRow r = dispatched_row();
	TextBuf b = {0};
	char *item = render(&r), *end = strstr(item, ",\"due_in_minutes\":");

	(void)state;
	assert_non_null(end);
	assert_true(case_render_case(&b, &r, false, "042917"));
	assert_int_equal(b.len, (size_t)(end - item) + strlen(",\"track_code\":\"042917\"}"));
	assert_memory_equal(b.buf, item, (size_t)(end - item));
	assert_string_equal(b.buf + (end - item), ",\"track_code\":\"042917\"}");
	free(b.buf);
	/* without a code the object ends after version */
	b = (TextBuf){0};
	assert_true(case_render_case(&b, &r, false, NULL));
	assert_int_equal(b.len, (size_t)(end - item) + 1);
	assert_string_equal(b.buf + (end - item), "}");
	free(b.buf);
	free(item);
}

/* Only a department's viewer is kept from a confidential caller's name and phone: the
 * operator who took the call sees them (case_json's p_role = 'department' condition). */
static void
test_created_case_confidential_caller_by_viewer(void **state)
{
	CaseRow r = dispatched_row();
	TextBuf b = {0};

	(void)state;
	r.col[CASE_COL_CALLER_CONFIDENTIAL] = "t";
	assert_true(case_render_case(&b, &r, false, NULL));
	assert_non_null(strstr(b.buf, ",\"caller\":{\"name\":\"张先生\",\"phone\":\"13800000000\",\"confidential\":true},"));
	free(b.buf);
	b = (TextBuf){0};
	assert_true(case_render_case(&b, &r, true, NULL));
	assert_non_null(strstr(b.buf, ",\"caller\":{\"confidential\":true},\"department\":"));
	assert_null(strstr(b.buf, "13800000000"));
	free(b.buf);
}

/* reply, satisfaction and extension: present exactly when their key column is set. */
static void
test_nested_objects_present(void **state)
{
	CaseRow r = dispatched_row();
	json_object *obj, *v;
	char *text;

	(void)state;
	r.col[CASE_COL_STATE] = "reopened";
	r.col[CASE_COL_REPLY_TEXT] = "已处理";
	r.col[CASE_COL_REPLY_RESOLVED] = "t";
	r.col[CASE_COL_VISIT_SCORE] = "1";
	r.col[CASE_COL_VISIT_RESOLVED] = "f";
	r.col[CASE_COL_VISIT_COMMENT] = "没解决";
	r.col[CASE_COL_EXT_STATE] = "approved";
	r.col[CASE_COL_EXT_WORKDAYS] = "3";
	r.col[CASE_COL_EXT_REASON] = "需协调";
	r.col[CASE_COL_EXT_REQUESTED_AT] = "2026-11-29T10:00:00+08:00";
	r.col[CASE_COL_EXT_DECIDED_AT] = "2026-11-29T11:00:00+08:00";
	r.col[CASE_COL_REOPENED] = "1";
	r.col[CASE_COL_ANSWER] = "已在电话中答复";
	r.col[CASE_COL_KB] = "7";
	text = render(&r);
	assert_non_null(strstr(text, ",\"answer\":\"已在电话中答复\",\"kb\":7,\"reply\":{\"text\":\"已处理\",\"resolved\":true},"
				     "\"satisfaction\":{\"score\":1,\"resolved\":false,\"comment\":\"没解决\"},"
				     "\"extension\":{\"state\":\"approved\",\"workdays\":3,\"reason\":\"需协调\","
				     "\"requested_at\":\"2026-11-29T10:00:00+08:00\","
				     "\"decided_at\":\"2026-11-29T11:00:00+08:00\"},\"returns\":0,\"reopened\":1,"));
	free(text);

	/* the members may be NULL while the object is there (a reply without resolved, a
	 * visit without comment, a pending extension undecided) */
	r.col[CASE_COL_REPLY_RESOLVED] = NULL;
	r.col[CASE_COL_VISIT_COMMENT] = NULL;
	r.col[CASE_COL_EXT_STATE] = "pending";
	r.col[CASE_COL_EXT_DECIDED_AT] = NULL;
	obj = render_json(&r);
	v = member(obj, "reply");
	assert_string_equal(json_object_get_string(member(v, "text")), "已处理");
	assert_null(member(v, "resolved"));
	assert_null(member(member(obj, "satisfaction"), "comment"));
	v = member(obj, "extension");
	assert_string_equal(json_object_get_string(member(v, "state")), "pending");
	assert_null(member(v, "decided_at"));
	json_object_put(obj);

	/* the key column alone decides: members set but the key column NULL is null */
	r.col[CASE_COL_REPLY_TEXT] = NULL;
	r.col[CASE_COL_REPLY_RESOLVED] = "t";
	r.col[CASE_COL_VISIT_SCORE] = NULL;
	r.col[CASE_COL_EXT_STATE] = NULL;
	text = render(&r);
	assert_non_null(strstr(text, ",\"reply\":null,\"satisfaction\":null,\"extension\":null,"));
	free(text);
}

/* PostgreSQL's escape_json, byte for byte. */
static void
test_escaping(void **state)
{
	(void)state;
	assert_renders_string("", "\"\"");
	assert_renders_string("say \"hi\"", "\"say \\\"hi\\\"\"");
	assert_renders_string("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	assert_renders_string("a\nb\r\nc\td\be\ff", "\"a\\nb\\r\\nc\\td\\be\\ff\"");
	assert_renders_string("\x01\x02\x1f", "\"\\u0001\\u0002\\u001f\"");
	assert_renders_string("\x0b|\x1b|\x10", "\"\\u000b|\\u001b|\\u0010\"");
	/* DEL, slash and everything above ASCII stay as they are */
	assert_renders_string("\x7f/</script>", "\"\x7f/</script>\"");
	assert_renders_string("占道摆摊 😀 é", "\"占道摆摊 😀 é\"");
	assert_renders_string("\"", "\"\\\"\"");
	assert_renders_string("\\\"\n", "\"\\\\\\\"\\n\"");
}

/* The escaped text reads back as the original, for every byte 1..127 and UTF-8 around it. */
static void
test_escaping_round_trip(void **state)
{
	char all[160];
	size_t n = 0;
	CaseRow r = dispatched_row();
	json_object *obj;

	(void)state;
	memcpy(all, "中", 3);
	n = 3;
	for (int c = 1; c < 128; c++)
		all[n++] = (char)c;
	memcpy(all + n, "\xf0\x9f\x98\x80", 4); /* 😀 */
	n += 4;
	all[n] = '\0';
	r.col[CASE_COL_TEXT] = all;
	obj = render_json(&r);
	assert_string_equal(json_object_get_string(member(obj, "text")), all);
	json_object_put(obj);
}

/* Numbers are copied as printed; a text that is no JSON number becomes a string. */
static void
test_numbers(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"32.98", "32.98"}, {"-0.5", "-0.5"}, {"1e-05", "1e-05"}, {"-89.999999", "-89.999999"},
		{"0", "0"}, {"9223372036854775807", "9223372036854775807"}, {"-12", "-12"},
		{"1.5E+10", "1.5E+10"}, {"NaN", "\"NaN\""}, {"Infinity", "\"Infinity\""},
		{"-Infinity", "\"-Infinity\""}, {"01", "\"01\""}, {"1.", "\"1.\""}, {".5", "\".5\""},
		{"1e", "\"1e\""}, {"-", "\"-\""}, {"", "\"\""}, {"+1", "\"+1\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CaseRow r = dispatched_row();
		char want[80], *text;

		r.col[CASE_COL_LAT] = cases[i].in;
		snprintf(want, sizeof(want), ",\"lat\":%s,\"lon\":", cases[i].out);
		text = render(&r);
		if (!strstr(text, want))
			fail_msg("lat %s: want %s in %s", cases[i].in, want, text);
		free(text);
	}
}

static void
test_booleans(void **state)
{
	CaseRow r = dispatched_row();
	TextBuf b = {0};
	json_object *obj;

	(void)state;
	r.col[CASE_COL_URGENT] = "t";
	r.col[CASE_COL_OVERDUE] = "t";
	obj = render_json(&r);
	assert_true(json_object_get_boolean(member(obj, "urgent")));
	assert_true(json_object_get_boolean(member(obj, "overdue")));
	assert_true(json_object_is_type(member(obj, "overdue"), json_type_boolean));
	json_object_put(obj);

	/* anything but t/f means the query's columns moved: refused, not guessed */
	for (const char *const *bad = (const char *const[]){"true", "1", "", "T", "tt", NULL}; *bad; bad++) {
		r.col[CASE_COL_OVERDUE] = *bad;
		assert_false(case_render_inbox_item(&b, &r));
		assert_false(b.failed);
		free(b.buf);
		b = (TextBuf){0};
	}
	r = dispatched_row();
	r.col[CASE_COL_CALLER_CONFIDENTIAL] = "yes";
	assert_false(case_render_inbox_item(&b, &r));
	free(b.buf);
}

static void
test_page_without_next(void **state)
{
	CaseRow rows[2] = {dispatched_row(), dispatched_row()};
	TextBuf b = {0};
	json_object *page, *items;

	(void)state;
	rows[1].col[CASE_COL_ID] = "1043";
	assert_true(case_render_inbox_page(&b, rows, 2, 50));
	page = json_tokener_parse(b.buf);
	assert_non_null(page);
	assert_int_equal(json_object_object_length(page), 2);
	items = member(page, "items");
	assert_int_equal(json_object_array_length(items), 2);
	assert_int_equal(json_object_get_int64(member(json_object_array_get_idx(items, 1), "id")), 1043);
	assert_null(member(page, "next"));
	assert_int_equal(strncmp(b.buf, "{\"items\":[{\"id\":1042,", 20), 0);
	assert_string_equal(b.buf + b.len - strlen("}],\"next\":null}"), "}],\"next\":null}");
	json_object_put(page);
	free(b.buf);

	/* exactly limit rows: no next either */
	b = (TextBuf){0};
	assert_true(case_render_inbox_page(&b, rows, 2, 2));
	assert_string_equal(b.buf + b.len - strlen(",\"next\":null}"), ",\"next\":null}");
	free(b.buf);

	b = (TextBuf){0};
	assert_true(case_render_inbox_page(&b, NULL, 0, 50));
	assert_string_equal(b.buf, "{\"items\":[],\"next\":null}");
	free(b.buf);
}

/* limit + 1 rows: limit items, and next is the cursor of the last one shown. */
static void
test_page_with_next(void **state)
{
	CaseRow rows[3] = {dispatched_row(), dispatched_row(), dispatched_row()};
	TextBuf b = {0};
	json_object *page, *items;

	(void)state;
	rows[0].col[CASE_COL_CURSOR] = "100.1";
	rows[1].col[CASE_COL_ID] = "2";
	rows[1].col[CASE_COL_CURSOR] = "inf.2";
	rows[2].col[CASE_COL_ID] = "3";
	rows[2].col[CASE_COL_CURSOR] = "inf.3";
	assert_true(case_render_inbox_page(&b, rows, 3, 2));
	page = json_tokener_parse(b.buf);
	items = member(page, "items");
	assert_int_equal(json_object_array_length(items), 2);
	assert_int_equal(json_object_get_int64(member(json_object_array_get_idx(items, 1), "id")), 2);
	assert_string_equal(json_object_get_string(member(page, "next")), "inf.2");
	json_object_put(page);
	free(b.buf);

	b = (TextBuf){0};
	assert_true(case_render_inbox_page(&b, rows, 2, 1));
	assert_string_equal(b.buf + b.len - strlen("],\"next\":\"100.1\"}"), "],\"next\":\"100.1\"}");
	free(b.buf);
}

/* A row that does not render fails the page; nothing leaks. */
static void
test_page_with_bad_row(void **state)
{
	CaseRow rows[2] = {dispatched_row(), dispatched_row()};
	TextBuf b = {0};

	(void)state;
	rows[1].col[CASE_COL_URGENT] = "maybe";
	assert_false(case_render_inbox_page(&b, rows, 2, 50));
	assert_false(b.failed);
	free(b.buf);
}

/* 500 cases of 4000 characters with text to escape: the buffer grows, the page parses. */
static void
test_large_page(void **state)
{
	enum { N = 500, CHARS = 4000 };
	char *text = malloc(CHARS * 3 + 1);
	CaseRow *rows = calloc(N + 1, sizeof(*rows));
	TextBuf b = {0};
	json_object *page, *items;

	(void)state;
	assert_non_null(text);
	assert_non_null(rows);
	for (int i = 0; i < CHARS; i++)
		memcpy(text + 3 * i, i % 10 == 0 ? "\"\n\\" : "摆", 3);
	text[CHARS * 3] = '\0';
	for (int i = 0; i <= N; i++) {
		rows[i] = dispatched_row();
		rows[i].col[CASE_COL_TEXT] = text;
	}
	assert_true(case_render_inbox_page(&b, rows, N + 1, N));
	assert_true(b.len > (size_t)N * CHARS * 3);
	assert_true(b.cap >= b.len + 1);
	page = json_tokener_parse(b.buf);
	assert_non_null(page);
	items = member(page, "items");
	assert_int_equal(json_object_array_length(items), N);
	assert_string_equal(json_object_get_string(member(json_object_array_get_idx(items, N - 1), "text")), text);
	assert_string_equal(json_object_get_string(member(page, "next")), "1764518399000000.1042");
	json_object_put(page);
	free(b.buf);
	free(rows);
	free(text);
}

/* A co item: the co list copied as JSON, the suspension as an object, role co. */
static void
test_co_and_suspended(void **state)
{
	CaseRow r = dispatched_row();
	json_object *obj, *co;

	(void)state;
	r.col[CASE_COL_STATE] = "suspended";
	r.col[CASE_COL_CO] = "[{\"department\" : \"police\", \"state\" : \"done\", \"text\" : \"已配合\", "
			     "\"at\" : \"2026-11-29T10:00:00+08:00\"}]";
	r.col[CASE_COL_SUSPENDED_SINCE] = "2026-11-29T11:00:00+08:00";
	r.col[CASE_COL_SUSPENDED_REASON] = "等待市民补充材料";
	r.col[CASE_COL_SUSPENDED_FROM] = "accepted";
	r.col[CASE_COL_SENT_BACK] = "2";
	r.col[CASE_COL_ROLE] = "co";
	obj = render_json(&r);
	co = member(obj, "co");
	assert_int_equal(json_object_array_length(co), 1);
	assert_string_equal(json_object_get_string(member(json_object_array_get_idx(co, 0), "text")), "已配合");
	assert_string_equal(json_object_get_string(member(member(obj, "suspended"), "from")), "accepted");
	assert_string_equal(json_object_get_string(member(member(obj, "suspended"), "reason")), "等待市民补充材料");
	assert_int_equal(json_object_get_int(member(obj, "sent_back")), 2);
	assert_null(member(obj, "declined"));
	assert_string_equal(json_object_get_string(member(obj, "role")), "co");
	json_object_put(obj);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_co_and_suspended),
		cmocka_unit_test(test_dispatched_case_exactly),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_confidential_caller),
		cmocka_unit_test(test_created_case_with_track_code),
		cmocka_unit_test(test_created_case_confidential_caller_by_viewer),
		cmocka_unit_test(test_nested_objects_present),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_escaping_round_trip),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_page_without_next),
		cmocka_unit_test(test_page_with_next),
		cmocka_unit_test(test_page_with_bad_row),
		cmocka_unit_test(test_large_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
