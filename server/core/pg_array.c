/* pg_array: PostgreSQL array literals (see pg_array.h). */
#include "core/pg_array.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/textbuf.h"

static void pg_array_add_element(TextBuf *t, const char *value);

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
