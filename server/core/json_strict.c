/* json_strict: a recursive-descent validator with per-object duplicate-key detection. */
#include "core/json_strict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

/* A decoded key of the object being read: its bytes live in the scanner's scratch buffer. */
typedef struct KeyRef {
	size_t off, len;
	uint32_t hash;
} KeyRef;

typedef struct Scan {
	const char *p, *end;
	int depth, max_depth;
	const char *why;
	char *scratch;         /* decoded keys, used as a stack: never longer than the input */
	size_t scratch_used;
	KeyRef *keys;          /* keys of the open objects, as a stack */
	size_t nkeys, cap_keys;
} Scan;

static bool scan_value(Scan *s);

static bool
scan_fail(Scan *s, const char *why)
{
	if (!s->why)
		s->why = why;
	return false;
}

static void
scan_ws(Scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
scan_hex4(Scan *s, uint32_t *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		int d = s->p < s->end ? hex_digit(*s->p) : -1;

		if (d < 0)
			return scan_fail(s, "bad \\u escape");
		*out = *out << 4 | (uint32_t)d;
		s->p++;
	}
	return true;
}

/* One escape after the backslash; decoded into out (when not NULL), length in *n. */
static bool
scan_escape(Scan *s, char *out, size_t *n)
{
	static const char simple[] = "\"\\/bfnrt";
	static const char decoded[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint32_t cp, lo;

	if (s->p >= s->end)
		return scan_fail(s, "unterminated string");
	hit = *s->p ? strchr(simple, *s->p) : NULL;
	if (hit) {
		if (out)
			*out = decoded[hit - simple];
		*n = 1;
		s->p++;
		return true;
	}
	if (*s->p != 'u')
		return scan_fail(s, "bad escape in a string");
	s->p++;
	if (!scan_hex4(s, &cp))
		return false;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u')
			return scan_fail(s, "unpaired surrogate escape");
		s->p += 2;
		if (!scan_hex4(s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
			return scan_fail(s, "unpaired surrogate escape");
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		return scan_fail(s, "unpaired surrogate escape");
	}
	*n = utf8_encode(cp, out);
	return true;
}

/* A string at s->p (the opening quote); decoded into out when not NULL (length *outlen). */
static bool
scan_string(Scan *s, char *out, size_t *outlen)
{
	size_t n = 0;

	s->p++; /* the opening quote */
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		size_t k = 1;

		if (c < 0x20)
			return scan_fail(s, "raw control character in a string");
		if (c == '\\') {
			s->p++;
			if (!scan_escape(s, out ? out + n : NULL, &k))
				return false;
		} else {
			if (out)
				out[n] = (char)c;
			s->p++;
		}
		n += k;
	}
	if (s->p >= s->end)
		return scan_fail(s, "unterminated string");
	s->p++;
	if (outlen)
		*outlen = n;
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

static bool
scan_number(Scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (s->p >= s->end || *s->p < '1' || *s->p > '9' || !scan_digits(s))
		return scan_fail(s, "bad number");
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!scan_digits(s))
			return scan_fail(s, "bad number");
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return scan_fail(s, "bad number");
	}
	return true;
}

static bool
scan_literal(Scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return scan_fail(s, "unexpected character");
	s->p += n;
	return true;
}

static uint32_t
key_hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

/* Remember a decoded key of the current object; false when it was there already. */
static bool
scan_remember_key(Scan *s, size_t base, size_t off, size_t len)
{
	uint32_t h = key_hash(s->scratch + off, len);

	for (size_t i = base; i < s->nkeys; i++) {
		KeyRef *k = &s->keys[i];

		if (k->hash == h && k->len == len && memcmp(s->scratch + k->off, s->scratch + off, len) == 0)
			return scan_fail(s, "a key appears twice in one object");
	}
	if (s->nkeys == s->cap_keys) {
		size_t cap = s->cap_keys ? s->cap_keys * 2 : 16;
		KeyRef *grown = realloc(s->keys, cap * sizeof(KeyRef));

		if (!grown)
			return scan_fail(s, "out of memory");
		s->keys = grown;
		s->cap_keys = cap;
	}
	s->keys[s->nkeys++] = (KeyRef){off, len, h};
	return true;
}

static bool
scan_object(Scan *s)
{
	size_t base = s->nkeys, scratch_base = s->scratch_used;
	bool ok = true;

	s->p++; /* { */
	scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		size_t off = s->scratch_used, len = 0;

		scan_ws(s);
		if (s->p >= s->end || *s->p != '"') {
			ok = scan_fail(s, "expected a quoted key");
			break;
		}
		if (!scan_string(s, s->scratch + off, &len)) {
			ok = false;
			break;
		}
		/* json-c keeps keys as C strings: "\u0000x" would become "" and could repeat a key. */
		if (memchr(s->scratch + off, '\0', len)) {
			ok = scan_fail(s, "a key contains a NUL character");
			break;
		}
		if (!scan_remember_key(s, base, off, len)) {
			ok = false;
			break;
		}
		s->scratch_used += len;
		scan_ws(s);
		if (s->p >= s->end || *s->p != ':') {
			ok = scan_fail(s, "expected ':' after a key");
			break;
		}
		s->p++;
		if (!scan_value(s)) {
			ok = false;
			break;
		}
		scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			break;
		}
		ok = scan_fail(s, "expected ',' or '}' in an object");
		break;
	}
	s->nkeys = base;
	s->scratch_used = scratch_base;
	return ok;
}

static bool
scan_array(Scan *s)
{
	s->p++; /* [ */
	scan_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(s))
			return false;
		scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return true;
		}
		return scan_fail(s, "expected ',' or ']' in an array");
	}
}

static bool
scan_value(Scan *s)
{
	bool ok;

	scan_ws(s);
	if (s->p >= s->end)
		return scan_fail(s, "truncated JSON");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > s->max_depth)
			return scan_fail(s, "nested too deeply");
		ok = *s->p == '{' ? scan_object(s) : scan_array(s);
		s->depth--;
		return ok;
	case '"':
		return scan_string(s, NULL, NULL);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s);
		return scan_fail(s, "unexpected character");
	}
}

bool
json_strict_check(const char *buf, size_t len, int max_depth, const char **why)
{
	Scan s = {buf, buf + len, 0, max_depth, NULL, malloc(len + 1), 0, NULL, 0, 0};
	bool ok;

	if (!s.scratch) {
		*why = "out of memory";
		return false;
	}
	ok = scan_value(&s);
	scan_ws(&s);
	if (ok && s.p != s.end)
		ok = scan_fail(&s, "trailing data after the JSON value");
	free(s.scratch);
	free(s.keys);
	*why = s.why;
	return ok;
}
