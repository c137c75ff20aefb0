/*
 * fuzz_check: the invariants every fuzz target asserts about what the core answers.
 *
 * A failed check calls abort(), which libFuzzer reports as a crash with the input saved.
 */
#ifndef HOTLINE_FUZZ_CHECK_H
#define HOTLINE_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/api_error.h"

/* Abort with a message on stderr unless cond holds. */
#define FUZZ_ASSERT(cond, what) fuzz_assert((cond), (what), __FILE__, __LINE__)

void fuzz_assert(bool cond, const char *what, const char *file, int line);

/*
 * A refusal as the HTTP layer would send it: a 400 or 422 status (413 never comes from
 * the core), one of the contract's codes, a non-empty message, and a message and field
 * that are valid UTF-8, so that the error JSON itself is valid UTF-8 JSON.
 */
void fuzz_check_refusal(const ApiError *err);

/*
 * Whether the len bytes at s are one JSON text by the grammar of RFC 8259 (section 2 to 7):
 * whitespace only space, tab, LF and CR; strings without raw control characters and
 * with only the escapes of section 7; numbers without leading zeros, bare dots, signs
 * other than a leading '-', NaN or Infinity; no single quotes, comments or trailing
 * commas. UTF-8 is not checked here. *depth receives the deepest nesting of arrays
 * and objects (1 for a flat object); nesting past 64 counts as invalid. *members receives
 * the number of object members in the whole text; *lone_surrogate whether a \u escape
 * stands for half a surrogate pair (grammatical, but no character: RFC 8259 section 8.2).
 */
bool fuzz_json_grammar(const char *s, size_t len, int *depth, size_t *members, bool *lone_surrogate);

/*
 * The parse verdict of json_body_parse (parsed: its object, NULL when it refused) against
 * the grammar: a body it accepts is a JSON text without duplicate keys (names that repeat
 * in one object are ambiguous, so the server must refuse them); a JSON object text of
 * valid UTF-8 nested at most JSON_BODY_MAX_DEPTH - 1 deep is accepted unless a key repeats
 * or an escape is half a surrogate pair (refusing those is allowed, accepting them too).
 * A refusal must be a 400 bad_json.
 */
void fuzz_check_parse(const char *data, size_t size, json_object *parsed, const ApiError *err);

/*
 * Serialize obj as the server does (reply_json's flags) and parse it back strictly with
 * json_body_parse. Returns the new object (caller puts it); aborts if the server would
 * send something its own parser refuses. *text receives the serialization, owned by obj.
 */
json_object *fuzz_round_trip(json_object *obj, const char **text);

#endif
