/* fuzz_check: shared invariants of the fuzz targets (see fuzz_check.h). */
#include "fuzz_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_body.h"
#include "core/utf8.h"

static const char *const known_codes[] = {"bad_json", "missing_field", "invalid_field", NULL};

void
fuzz_assert(bool cond, const char *what, const char *file, int line)
{
	if (cond)
		return;
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

void
fuzz_check_refusal(const ApiError *err)
{
	const char *const *c = known_codes;
	json_object *json, *back;
	const char *text;

	FUZZ_ASSERT(err->status == 400 || err->status == 422, "refusal status is 400 or 422");
	FUZZ_ASSERT(err->code != NULL, "refusal has a code");
	while (*c && strcmp(*c, err->code) != 0)
		c++;
	FUZZ_ASSERT(*c != NULL, "refusal code is one of the contract's");
	FUZZ_ASSERT((err->status == 400) == (strcmp(err->code, "bad_json") == 0), "bad_json is 400, the rest 422");
	FUZZ_ASSERT(err->message[0] != '\0', "refusal has a message");
	FUZZ_ASSERT(utf8_validate(err->message, strlen(err->message), NULL), "message is valid UTF-8");
	FUZZ_ASSERT(utf8_validate(err->field, strlen(err->field), NULL), "field is valid UTF-8");
	json = api_error_to_json(err);
	FUZZ_ASSERT(json != NULL, "error JSON built");
	back = fuzz_round_trip(json, &text);
	json_object_put(back);
	json_object_put(json);
}

json_object *
fuzz_round_trip(json_object *obj, const char **text)
{
	size_t len = 0;
	json_object *back = NULL;
	ApiError err;

	*text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	FUZZ_ASSERT(*text != NULL, "serialized");
	FUZZ_ASSERT(json_body_parse(*text, len, &back, &err), "what the server writes, its parser reads back");
	return back;
}

/*
 *********************************
 * The RFC 8259 grammar, as an oracle
 *********************************
 */

#define GRAMMAR_MAX_DEPTH 64

typedef struct Scan {
	const char *p, *end;
	int depth, max_depth;
	size_t members;      /* object members in the whole text, duplicates included */
	bool lone_surrogate; /* a \\u escape of half a surrogate pair, which is no character */
} Scan;

static bool scan_value(Scan *s);

static void
scan_ws(Scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool
scan_literal(Scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool
scan_digits(Scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/* number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT ) */
static bool
scan_number(Scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!scan_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!scan_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return false;
	}
	return true;
}

static bool
scan_string(Scan *s)
{
	bool want_low = false; /* the previous escape was a high surrogate */

	if (s->p >= s->end || *s->p != '"')
		return false;
	for (s->p++; s->p < s->end; s->p++) {
		unsigned char c = (unsigned char)*s->p;
		unsigned unit = 0;

		if (c == '"') {
			s->lone_surrogate |= want_low;
			s->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			s->lone_surrogate |= want_low;
			want_low = false;
			continue;
		}
		if (++s->p >= s->end)
			return false;
		if (*s->p != 'u') {
			if (!*s->p || !strchr("\"\\/bfnrt", *s->p))
				return false;
			s->lone_surrogate |= want_low;
			want_low = false;
			continue;
		}
		for (int i = 0; i < 4; i++) {
			char d;

			if (++s->p >= s->end || !*s->p || !strchr("0123456789abcdefABCDEF", *s->p))
				return false;
			d = (char)(*s->p | 0x20); /* a hex digit: lower case for letters, digits unchanged */
			unit = unit * 16 + (unsigned)(d <= '9' ? d - '0' : d - 'a' + 10);
		}
		if (unit >= 0xDC00 && unit <= 0xDFFF) {
			s->lone_surrogate |= !want_low;
			want_low = false;
		} else {
			s->lone_surrogate |= want_low;
			want_low = unit >= 0xD800 && unit <= 0xDBFF;
		}
	}
	return false;
}

/* Members or elements up to the closing bracket; the opening one is consumed. */
static bool
scan_container(Scan *s, char close, bool object)
{
	if (++s->depth > GRAMMAR_MAX_DEPTH)
		return false;
	if (s->depth > s->max_depth)
		s->max_depth = s->depth;
	scan_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			scan_ws(s);
			if (!scan_string(s))
				return false;
			scan_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return false;
			s->members++;
		}
		if (!scan_value(s))
			return false;
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			s->depth--;
			return true;
		}
		return false;
	}
}

/* value with the whitespace around it */
static bool
scan_value(Scan *s)
{
	bool ok;

	scan_ws(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
		s->p++;
		ok = scan_container(s, '}', true);
		break;
	case '[':
		s->p++;
		ok = scan_container(s, ']', false);
		break;
	case '"':
		ok = scan_string(s);
		break;
	case 't':
		ok = scan_literal(s, "true");
		break;
	case 'f':
		ok = scan_literal(s, "false");
		break;
	case 'n':
		ok = scan_literal(s, "null");
		break;
	default:
		ok = scan_number(s);
		break;
	}
	scan_ws(s);
	return ok;
}

bool
fuzz_json_grammar(const char *s, size_t len, int *depth, size_t *members, bool *lone_surrogate)
{
	Scan scan = {s, s + len, 0, 0, 0, false};
	bool ok = scan_value(&scan) && scan.p == scan.end;

	*depth = scan.max_depth;
	*members = scan.members;
	*lone_surrogate = scan.lone_surrogate;
	return ok;
}

/* Object members in a parsed tree: fewer than in the text means duplicates were merged. */
static size_t
count_members(json_object *v)
{
	size_t n = 0;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val) {
			(void)key;
			n += 1 + count_members(val);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			n += count_members(json_object_array_get_idx(v, i));
	}
	return n;
}

/* Whether a grammatical JSON text repeats a key in some object (as json-c sees keys). */
static bool
has_duplicate_keys(const char *data, size_t size, size_t members)
{
	struct json_tokener *tok = json_tokener_new_ex(GRAMMAR_MAX_DEPTH + 1);
	json_object *lenient;
	bool dup;

	FUZZ_ASSERT(tok != NULL, "tokener allocated");
	lenient = json_tokener_parse_ex(tok, data, (int)size);
	json_tokener_free(tok);
	FUZZ_ASSERT(lenient != NULL, "json-c reads what the grammar accepts");
	dup = count_members(lenient) != members;
	json_object_put(lenient);
	return dup;
}

void
fuzz_check_parse(const char *data, size_t size, json_object *parsed, const ApiError *err)
{
	int depth = 0;
	size_t members = 0;
	bool lone_surrogate = false;
	bool grammar = fuzz_json_grammar(data, size, &depth, &members, &lone_surrogate);
	size_t lead = 0;

	while (lead < size && strchr(" \t\r\n", data[lead]) && data[lead])
		lead++;
	if (parsed) {
		FUZZ_ASSERT(grammar, "an accepted body is RFC 8259 JSON");
		FUZZ_ASSERT(count_members(parsed) == members, "an accepted body has no duplicate keys");
		return;
	}
	FUZZ_ASSERT(err->status == 400 && strcmp(err->code, "bad_json") == 0, "a parse refusal is 400 bad_json");
	fuzz_check_refusal(err);
	/* An escaped U+0000 may be refused: in a key, json-c would cut the key at it. */
	if (grammar && lead < size && data[lead] == '{' && depth < JSON_BODY_MAX_DEPTH && !lone_surrogate &&
	    !memmem(data, size, "\\u0000", 6) && utf8_validate(data, size, NULL))
		FUZZ_ASSERT(has_duplicate_keys(data, size, members),
			    "a JSON object of valid UTF-8 within the depth limit is accepted unless a key repeats");
}
