/*
 * case_render: a case (the answer of POST /v1/cases) and the department inbox page
 * (GET /v1/inbox) as JSON, written from the text of their rows' columns.
 *
 * sql/010_inbox.sql's case_inbox_page returns each case as plain columns, and the intake
 * (api/cases.c) holds a new case's as text, most of them what it sent; this module writes the JSON object that sql/015's case_json(c, role, dept)
 * builds for it, key for key and in the same order. The inbox adds "due_in_minutes" and
 * "role" and wraps the items in {"items": [...], "next": cursor-or-null}. Rendering here
 * instead of in PostgreSQL is what makes the inbox and intake fast: json_build_object costs
 * ~25 us a case, this a few.
 *
 * The rules are case_json's: SQL NULL is null; booleans arrive as "t"/"f"; numbers are
 * copied as PostgreSQL printed them (a text that is no JSON number, such as "NaN",
 * becomes a string, as PostgreSQL's json does); strings are escaped as PostgreSQL's
 * escape_json does (\" \\ \b \f \n \r \t, other control characters as \u00XX, the rest,
 * UTF-8 included, as it is); "reply", "satisfaction", "extension", "suspended" and
 * "declined" are null unless reply_text, visit_score, ext_state, suspended_since and
 * declined_reason are set; "co" is JSON text (case_co_json's) copied as it is, so it
 * must be JSON; for a department viewer (the inbox's always is) a confidential caller is
 * {"confidential": true} whatever the name and phone columns hold.
 */
#ifndef HOTLINE_CORE_CASE_RENDER_H
#define HOTLINE_CORE_CASE_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/textbuf.h"

/* The columns of a case_inbox_page row, in its order (case_json's key order); a new case's
 * are the same up to CASE_COL_VERSION. */
typedef enum CaseColumn {
	CASE_COL_ID,
	CASE_COL_NUMBER,
	CASE_COL_CREATED_AT,
	CASE_COL_CHANNEL,
	CASE_COL_TYPE,
	CASE_COL_URGENT,
	CASE_COL_CATEGORY,
	CASE_COL_TITLE,
	CASE_COL_TEXT,
	CASE_COL_DISTRICT,
	CASE_COL_ADDRESS,
	CASE_COL_LAT,
	CASE_COL_LON,
	CASE_COL_CALLER_NAME,
	CASE_COL_CALLER_PHONE,
	CASE_COL_CALLER_CONFIDENTIAL,
	CASE_COL_DEPARTMENT,
	CASE_COL_ROUTING_METHOD,
	CASE_COL_ROUTING_RULE_ID,
	CASE_COL_ROUTING_RULE_NAME,
	CASE_COL_STATE,
	CASE_COL_SIGN_BY,
	CASE_COL_CONTACT_BY,
	CASE_COL_FINISH_BY,
	CASE_COL_OVERDUE,
	CASE_COL_DISPATCHED_AT,
	CASE_COL_SIGNED_AT,
	CASE_COL_CONTACTED_AT,
	CASE_COL_REPLIED_AT,
	CASE_COL_VISITED_AT,
	CASE_COL_CLOSED_AT,
	CASE_COL_ANSWER,
	CASE_COL_KB,
	CASE_COL_REPLY_TEXT,
	CASE_COL_REPLY_RESOLVED,
	CASE_COL_VISIT_SCORE,
	CASE_COL_VISIT_RESOLVED,
	CASE_COL_VISIT_COMMENT,
	CASE_COL_EXT_STATE,
	CASE_COL_EXT_WORKDAYS,
	CASE_COL_EXT_REASON,
	CASE_COL_EXT_REQUESTED_AT,
	CASE_COL_EXT_DECIDED_AT,
	CASE_COL_RETURNS,
	CASE_COL_REOPENED,
	CASE_COL_MERGED_INTO,
	CASE_COL_CO, /* JSON text, written as it is */
	CASE_COL_SUSPENDED_SINCE,
	CASE_COL_SUSPENDED_REASON,
	CASE_COL_SUSPENDED_FROM,
	CASE_COL_SENT_BACK,
	CASE_COL_DECLINED_REASON,
	CASE_COL_DECLINED_NOTE,
	CASE_COL_VERSION,
	CASE_COL_DUE_IN_MINUTES,
	CASE_COL_ROLE, /* "lead" or "co" (API.md section 9) */
	CASE_COL_CURSOR, /* the page's `next` when this is its last row; not rendered */
	CASE_COL__COUNT
} CaseColumn;

/* One row: each column's text as libpq gives it, NULL for SQL NULL. Borrowed. */
typedef struct CaseRow {
	const char *col[CASE_COL__COUNT];
} CaseRow;

/*
 * Append the case of row to out: case_json's object for a viewer of that kind, then
 * "track_code" when track_code is not NULL (sql/015's case_with_track_code). Columns after
 * CASE_COL_VERSION are not read. False as case_render_inbox_item.
 */
bool case_render_case(TextBuf *out, const CaseRow *row, bool department_viewer, const char *track_code)
	__attribute__((warn_unused_result));

/*
 * Append the inbox item of row to out: case_json's object for a department viewer,
 * then "due_in_minutes". False when a boolean column holds neither "t" nor "f" (the
 * query's columns and CaseColumn disagree) or when memory ran out (out->failed); out's
 * text is then unusable.
 */
bool case_render_inbox_item(TextBuf *out, const CaseRow *row) __attribute__((warn_unused_result));

/*
 * Append the whole page to out: {"items": [the first min(n, limit) rows], "next": ...}
 * where next is the cursor of row limit - 1 when there are more than limit rows (the
 * query asks for limit + 1 to know), else null. False as case_render_inbox_item.
 */
bool case_render_inbox_page(TextBuf *out, const CaseRow *rows, size_t n, size_t limit) __attribute__((warn_unused_result));

#endif
