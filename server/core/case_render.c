/* case_render: a case, and the inbox page, as JSON from column texts (see case_render.h). */
#include "core/case_render.h"

#include <string.h>

#define NO_COLUMN (-1)

/* A key with its quotes and colon, written as one piece. */
#define KEY(name) "\"" name "\":"

/* How a column's text becomes a JSON value. */
typedef enum FieldKind {
	FIELD_STRING, /* escaped text */
	FIELD_NUMBER, /* the text as PostgreSQL printed it */
	FIELD_BOOL,   /* "t" or "f" */
	FIELD_OBJECT, /* the members; null when column col is NULL (NO_COLUMN: always there) */
	FIELD_CALLER, /* the members, or {"confidential":true} for a department when column col is "t" */
	FIELD_JSON,   /* JSON text as it is; null when NULL */
} FieldKind;

/* One key of an object, in case_json's order. A table ends with key NULL. */
typedef struct Field {
	const char *key;
	FieldKind kind;
	int col;
	const struct Field *members;
} Field;

static const Field caller_fields[] = {
	{KEY("name"), FIELD_STRING, CASE_COL_CALLER_NAME, NULL},
	{KEY("phone"), FIELD_STRING, CASE_COL_CALLER_PHONE, NULL},
	{KEY("confidential"), FIELD_BOOL, CASE_COL_CALLER_CONFIDENTIAL, NULL},
	{NULL, 0, 0, NULL},
};

static const Field routing_fields[] = {
	{KEY("method"), FIELD_STRING, CASE_COL_ROUTING_METHOD, NULL},
	{KEY("rule_id"), FIELD_NUMBER, CASE_COL_ROUTING_RULE_ID, NULL},
	{KEY("rule_name"), FIELD_STRING, CASE_COL_ROUTING_RULE_NAME, NULL},
	{NULL, 0, 0, NULL},
};

static const Field deadline_fields[] = {
	{KEY("sign_by"), FIELD_STRING, CASE_COL_SIGN_BY, NULL},
	{KEY("contact_by"), FIELD_STRING, CASE_COL_CONTACT_BY, NULL},
	{KEY("finish_by"), FIELD_STRING, CASE_COL_FINISH_BY, NULL},
	{NULL, 0, 0, NULL},
};

static const Field timestamp_fields[] = {
	{KEY("dispatched_at"), FIELD_STRING, CASE_COL_DISPATCHED_AT, NULL},
	{KEY("signed_at"), FIELD_STRING, CASE_COL_SIGNED_AT, NULL},
	{KEY("contacted_at"), FIELD_STRING, CASE_COL_CONTACTED_AT, NULL},
	{KEY("replied_at"), FIELD_STRING, CASE_COL_REPLIED_AT, NULL},
	{KEY("visited_at"), FIELD_STRING, CASE_COL_VISITED_AT, NULL},
	{KEY("closed_at"), FIELD_STRING, CASE_COL_CLOSED_AT, NULL},
	{NULL, 0, 0, NULL},
};

static const Field reply_fields[] = {
	{KEY("text"), FIELD_STRING, CASE_COL_REPLY_TEXT, NULL},
	{KEY("resolved"), FIELD_BOOL, CASE_COL_REPLY_RESOLVED, NULL},
	{NULL, 0, 0, NULL},
};

static const Field satisfaction_fields[] = {
	{KEY("score"), FIELD_NUMBER, CASE_COL_VISIT_SCORE, NULL},
	{KEY("resolved"), FIELD_BOOL, CASE_COL_VISIT_RESOLVED, NULL},
	{KEY("comment"), FIELD_STRING, CASE_COL_VISIT_COMMENT, NULL},
	{NULL, 0, 0, NULL},
};

static const Field extension_fields[] = {
	{KEY("state"), FIELD_STRING, CASE_COL_EXT_STATE, NULL},
	{KEY("workdays"), FIELD_NUMBER, CASE_COL_EXT_WORKDAYS, NULL},
	{KEY("reason"), FIELD_STRING, CASE_COL_EXT_REASON, NULL},
	{KEY("requested_at"), FIELD_STRING, CASE_COL_EXT_REQUESTED_AT, NULL},
	{KEY("decided_at"), FIELD_STRING, CASE_COL_EXT_DECIDED_AT, NULL},
	{NULL, 0, 0, NULL},
};

static const Field suspended_fields[] = {
	{KEY("since"), FIELD_STRING, CASE_COL_SUSPENDED_SINCE, NULL},
	{KEY("reason"), FIELD_STRING, CASE_COL_SUSPENDED_REASON, NULL},
	{KEY("from"), FIELD_STRING, CASE_COL_SUSPENDED_FROM, NULL},
	{NULL, 0, 0, NULL},
};

static const Field declined_fields[] = {
	{KEY("reason"), FIELD_STRING, CASE_COL_DECLINED_REASON, NULL},
	{KEY("note"), FIELD_STRING, CASE_COL_DECLINED_NOTE, NULL},
	{NULL, 0, 0, NULL},
};

/* case_json's members (sql/015_intake_aids.sql), in its order. */
static const Field case_fields[] = {
	{KEY("id"), FIELD_NUMBER, CASE_COL_ID, NULL},
	{KEY("number"), FIELD_STRING, CASE_COL_NUMBER, NULL},
	{KEY("created_at"), FIELD_STRING, CASE_COL_CREATED_AT, NULL},
	{KEY("channel"), FIELD_STRING, CASE_COL_CHANNEL, NULL},
	{KEY("type"), FIELD_STRING, CASE_COL_TYPE, NULL},
	{KEY("urgent"), FIELD_BOOL, CASE_COL_URGENT, NULL},
	{KEY("category"), FIELD_STRING, CASE_COL_CATEGORY, NULL},
	{KEY("title"), FIELD_STRING, CASE_COL_TITLE, NULL},
	{KEY("text"), FIELD_STRING, CASE_COL_TEXT, NULL},
	{KEY("district"), FIELD_STRING, CASE_COL_DISTRICT, NULL},
	{KEY("address"), FIELD_STRING, CASE_COL_ADDRESS, NULL},
	{KEY("lat"), FIELD_NUMBER, CASE_COL_LAT, NULL},
	{KEY("lon"), FIELD_NUMBER, CASE_COL_LON, NULL},
	{KEY("caller"), FIELD_CALLER, CASE_COL_CALLER_CONFIDENTIAL, caller_fields},
	{KEY("department"), FIELD_STRING, CASE_COL_DEPARTMENT, NULL},
	{KEY("routing"), FIELD_OBJECT, NO_COLUMN, routing_fields},
	{KEY("state"), FIELD_STRING, CASE_COL_STATE, NULL},
	{KEY("deadlines"), FIELD_OBJECT, NO_COLUMN, deadline_fields},
	{KEY("overdue"), FIELD_BOOL, CASE_COL_OVERDUE, NULL},
	{KEY("timestamps"), FIELD_OBJECT, NO_COLUMN, timestamp_fields},
	{KEY("answer"), FIELD_STRING, CASE_COL_ANSWER, NULL},
	{KEY("kb"), FIELD_NUMBER, CASE_COL_KB, NULL},
	{KEY("reply"), FIELD_OBJECT, CASE_COL_REPLY_TEXT, reply_fields},
	{KEY("satisfaction"), FIELD_OBJECT, CASE_COL_VISIT_SCORE, satisfaction_fields},
	{KEY("extension"), FIELD_OBJECT, CASE_COL_EXT_STATE, extension_fields},
	{KEY("returns"), FIELD_NUMBER, CASE_COL_RETURNS, NULL},
	{KEY("reopened"), FIELD_NUMBER, CASE_COL_REOPENED, NULL},
	{KEY("merged_into"), FIELD_NUMBER, CASE_COL_MERGED_INTO, NULL},
	{KEY("co"), FIELD_JSON, CASE_COL_CO, NULL},
	{KEY("suspended"), FIELD_OBJECT, CASE_COL_SUSPENDED_SINCE, suspended_fields},
	{KEY("sent_back"), FIELD_NUMBER, CASE_COL_SENT_BACK, NULL},
	{KEY("declined"), FIELD_OBJECT, CASE_COL_DECLINED_REASON, declined_fields},
	{KEY("version"), FIELD_NUMBER, CASE_COL_VERSION, NULL},
	{NULL, 0, 0, NULL},
};

/* What the inbox adds after them. */
static const Field inbox_fields[] = {
	{KEY("due_in_minutes"), FIELD_NUMBER, CASE_COL_DUE_IN_MINUTES, NULL},
	{KEY("role"), FIELD_STRING, CASE_COL_ROLE, NULL},
	{NULL, 0, 0, NULL},
};

/* One row being written, and for whom. */
typedef struct Render {
	const CaseRow *row;
	bool department;  /* the viewer is a department's: a confidential caller shows only the flag */
} Render;

static bool render_case_open(TextBuf *out, const Render *r);
static bool render_object(TextBuf *out, const Field *fields, const Render *r);
static bool render_members(TextBuf *out, const Field *fields, const Render *r);
static bool render_value(TextBuf *out, const Field *f, const Render *r);
static bool json_number_valid(const char *s);
static void buf_add_json_string(TextBuf *out, const char *s);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
case_render_case(TextBuf *out, const CaseRow *row, bool department_viewer, const char *track_code)
{
	Render r = {row, department_viewer};

	if (!render_case_open(out, &r))
		return false;
	if (track_code) {
		textbuf_add_str(out, "," KEY("track_code"));
		buf_add_json_string(out, track_code);
	}
	textbuf_add(out, "}", 1);
	return !out->failed;
}

bool
case_render_inbox_item(TextBuf *out, const CaseRow *row)
{
	Render r = {row, true};

	if (!render_case_open(out, &r))
		return false;
	textbuf_add(out, ",", 1);
	if (!render_members(out, inbox_fields, &r))
		return false;
	textbuf_add(out, "}", 1);
	return !out->failed;
}

bool
case_render_inbox_page(TextBuf *out, const CaseRow *rows, size_t n, size_t limit)
{
	size_t shown = n < limit ? n : limit;
	const char *next = NULL;

	textbuf_add_str(out, "{\"items\":[");
	for (size_t i = 0; i < shown; i++) {
		if (i)
			textbuf_add(out, ",", 1);
		if (!case_render_inbox_item(out, &rows[i]))
			return false;
	}
	textbuf_add_str(out, "],\"next\":");
	if (n > limit && limit > 0)
		next = rows[limit - 1].col[CASE_COL_CURSOR];
	if (next)
		buf_add_json_string(out, next);
	else
		textbuf_add_str(out, "null");
	textbuf_add(out, "}", 1);
	return !out->failed;
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* case_json's object without its closing brace, for the caller to add its own members. */
static bool
render_case_open(TextBuf *out, const Render *r)
{
	textbuf_add(out, "{", 1);
	return render_members(out, case_fields, r);
}

static bool
render_object(TextBuf *out, const Field *fields, const Render *r)
{
	textbuf_add(out, "{", 1);
	if (!render_members(out, fields, r))
		return false;
	textbuf_add(out, "}", 1);
	return !out->failed;
}

/* The "key":value pairs of fields, comma-separated, without braces. */
static bool
render_members(TextBuf *out, const Field *fields, const Render *r)
{
	for (const Field *f = fields; f->key; f++) {
		if (f != fields)
			textbuf_add(out, ",", 1);
		textbuf_add_str(out, f->key);
		if (!render_value(out, f, r))
			return false;
	}
	return !out->failed;
}

/* The value of one key; false on a boolean that is neither "t" nor "f". */
static bool
render_value(TextBuf *out, const Field *f, const Render *r)
{
	const char *v = f->col == NO_COLUMN ? NULL : r->row->col[f->col];

	switch (f->kind) {
	case FIELD_STRING:
		if (v)
			buf_add_json_string(out, v);
		else
			textbuf_add_str(out, "null");
		return true;
	case FIELD_NUMBER:
		/* PostgreSQL's json writes a number that is no JSON number (NaN) as a string. */
		if (v && json_number_valid(v))
			textbuf_add_str(out, v);
		else if (v)
			buf_add_json_string(out, v);
		else
			textbuf_add_str(out, "null");
		return true;
	case FIELD_BOOL:
		if (v && strcmp(v, "t") != 0 && strcmp(v, "f") != 0)
			return false;
		textbuf_add_str(out, !v ? "null" : *v == 't' ? "true" : "false");
		return true;
	case FIELD_OBJECT:
		if (f->col != NO_COLUMN && !v) {
			textbuf_add_str(out, "null");
			return true;
		}
		return render_object(out, f->members, r);
	case FIELD_JSON:
		textbuf_add_str(out, v ? v : "null");
		return true;
	case FIELD_CALLER:
		/* A department never sees a confidential caller's name or phone (API.md section 2). */
		if (r->department && v && strcmp(v, "t") == 0) {
			textbuf_add_str(out, "{\"confidential\":true}");
			return true;
		}
		return render_object(out, f->members, r);
	}
	return false;
}

/* The JSON number grammar (RFC 8259): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
json_number_valid(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		s += strspn(s, "0123456789");
	else
		return false;
	if (*s == '.') {
		size_t digits = strspn(++s, "0123456789");

		if (digits == 0)
			return false;
		s += digits;
	}
	if (*s == 'e' || *s == 'E') {
		size_t digits;

		s++;
		if (*s == '+' || *s == '-')
			s++;
		digits = strspn(s, "0123456789");
		if (digits == 0)
			return false;
		s += digits;
	}
	return *s == '\0';
}

/*
 * s as a JSON string, escaped as PostgreSQL's escape_json does, so that the inbox and
 * GET /v1/cases/{id} write the same bytes for the same text: the two-character escapes
 * for " \ and \b \f \n \r \t, \u00xx (lower-case hex) for the other control characters,
 * every other byte (UTF-8 sequences, DEL, /) as it is.
 */
static void
buf_add_json_string(TextBuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s, *p;

	textbuf_add(out, "\"", 1);
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], '\0'};
		const char *rep = esc;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default: break;
		}
		textbuf_add(out, run, (size_t)(p - run));
		textbuf_add_str(out, rep);
		run = p + 1;
	}
	textbuf_add(out, run, (size_t)(p - run));
	textbuf_add(out, "\"", 1);
}
