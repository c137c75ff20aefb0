/*
 * textbuf: a growing NUL-terminated text, for the core's writers of whole documents (the
 * rates CSV, the inbox page). Start it zeroed; free(buf) when done. A failed allocation
 * marks it failed and makes every later append a no-op, so a writer checks once, at the end.
 */
#ifndef HOTLINE_CORE_TEXTBUF_H
#define HOTLINE_CORE_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct TextBuf {
	char *buf;
	size_t len, cap;
	bool failed; /* memory ran out: the text is incomplete */
} TextBuf;

/* Append len bytes of s. */
void textbuf_add(TextBuf *t, const char *s, size_t len);
/* Append the string s. */
void textbuf_add_str(TextBuf *t, const char *s);

#endif
