/*
 * intake_aids: the checks of API.md sections 13-15 (tracking, callers, knowledge base)
 * that need no database: path segments, the flag body, an article body.
 *
 * Article limits (title 1-200, body 1-20000 characters) are the contract's; the others are
 * this server's: at most 20 tags of 1-50 characters, a flag note of at most 500 characters,
 * a search query of 1-100 characters.
 */
#ifndef HOTLINE_CORE_INTAKE_AIDS_H
#define HOTLINE_CORE_INTAKE_AIDS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/api_error.h"

#define KB_TITLE_MAX 200
#define KB_BODY_MAX 20000
#define KB_TAGS_MAX 20
#define KB_TAG_MAX 50
#define KB_QUERY_MAX 100
#define CALLER_NOTE_MAX 500
#define CALLER_PHONE_MAX 20

/* A phone as cases store it: 1 to CALLER_PHONE_MAX of digits, '+' and '-'. */
bool intake_phone_valid(const char *phone);

/* A case number as case_create writes it: YYYYMMDD-NNNNNN (8 digits, '-', 6 digits). */
bool intake_case_number_valid(const char *number);

/*
 * The body of PUT /v1/callers/{phone}/flag: {"kind": "repeat" | "malicious", "note"?}.
 * True with *kind and *note (NULL when absent) pointing into body, else false with err.
 */
bool intake_flag_parse(json_object *body, const char **kind, const char **note, ApiError *err);

/*
 * An article body: title, body, tags (array of strings), department (a code, or null for
 * none), enabled (boolean); nothing else. On create, title and body are required; on
 * update at least one field must be given and each given one is replaced. JSON null counts
 * as absent except for department. True when valid, else false with err (422).
 */
bool intake_article_check(json_object *body, bool create, ApiError *err);

#endif
