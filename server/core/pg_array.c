/* pg_array: PostgreSQL array literals (see pg_array.h). */
#include "core/pg_array.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/textbuf.h"

/* The version byte jsonb's binary form starts with (jsonb_send). */
#define JSONB_BINARY_VERSION 1

static void pg_array_add_element(TextBuf *t, const char *value);
static bool pg_array_add_binary(TextBuf *t, const char *value, PgArrayElem elem);
static bool add_integer(TextBuf *t, const char *s, long long min, long long max, int bytes);
static bool decimal_in_range(const char *s, long long min, long long max, long long *out);
static void add_be(TextBuf *t, uint64_t v, int bytes);

char *
pg_array_literal(const char *const *values, size_t n)
{
	TextBuf t = {0};

	textbuf_add_str(&t, "{");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			textbuf_add_str(&t, ",");
		pg_array_add_element(&t, values[i]);
	}
	textbuf_add_str(&t, "}");
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

/* One element: NULL bare, anything else quoted with its '"' and '\' escaped. */
static void
pg_array_add_element(TextBuf *t, const char *value)
{
	const char *run = value;

	if (!value) {
		textbuf_add_str(t, "NULL");
		return;
	}
	textbuf_add_str(t, "\"");
	for (const char *p = value; *p; p++) {
		if (*p != '"' && *p != '\\')
			continue;
		textbuf_add(t, run, (size_t)(p - run));
		textbuf_add_str(t, "\\");
		run = p;
	}
	textbuf_add_str(t, run);
	textbuf_add_str(t, "\"");
}

unsigned char *
pg_array_binary(const char *const *values, size_t n, PgArrayElem elem, size_t *len)
{
	TextBuf t = {0};
	bool nulls = false, ok = true;

	for (size_t i = 0; i < n; i++)
		nulls = nulls || !values[i];
	add_be(&t, n > 0, 4);          /* dimensions */
	add_be(&t, nulls, 4);          /* flags: has NULLs */
	add_be(&t, (uint32_t)elem, 4); /* element type */
	if (n > 0) {
		add_be(&t, n, 4); /* the dimension's length, then its lower bound */
		add_be(&t, 1, 4);
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = pg_array_add_binary(&t, values[i], elem);
	if (!ok || t.failed || n > INT32_MAX) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return (unsigned char *)t.buf;
}

/* One element: its length (-1 for NULL), then its bytes as the type's send function writes them. */
static bool
pg_array_add_binary(TextBuf *t, const char *value, PgArrayElem elem)
{
	size_t n;

	if (!value) {
		add_be(t, UINT32_MAX, 4);
		return true;
	}
	n = strlen(value);
	switch (elem) {
	case PG_ARRAY_INT8:
		return add_integer(t, value, INT64_MIN, INT64_MAX, 8);
	case PG_ARRAY_INT2:
		return add_integer(t, value, INT16_MIN, INT16_MAX, 2);
	case PG_ARRAY_JSONB:
		add_be(t, n + 1, 4);
		add_be(t, JSONB_BINARY_VERSION, 1);
		textbuf_add(t, value, n);
		return n < INT32_MAX;
	case PG_ARRAY_TEXT:
		add_be(t, n, 4);
		textbuf_add(t, value, n);
		return n <= INT32_MAX;
	case PG_ARRAY_LITERAL:
		break;
	}
	return false;
}

/* An integer element of `bytes` bytes: s in decimal, within min..max. */
static bool
add_integer(TextBuf *t, const char *s, long long min, long long max, int bytes)
{
	long long v;

	if (!decimal_in_range(s, min, max, &v))
		return false;
	add_be(t, (uint64_t)bytes, 4);
	add_be(t, (uint64_t)v, bytes);
	return true;
}

/* Whether s is a whole decimal integer (an optional '-', digits) within min..max. */
static bool
decimal_in_range(const char *s, long long min, long long max, long long *out)
{
	char *end;

	if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

/* The low `bytes` bytes of v, most significant first (network order, as the binary forms are). */
static void
add_be(TextBuf *t, uint64_t v, int bytes)
{
	char b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (char)(v >> (8 * (bytes - 1 - i)));
	textbuf_add(t, b, (size_t)bytes);
}
