/* textbuf: a growing NUL-terminated text (see textbuf.h). */
#include "core/textbuf.h"

#include <stdlib.h>
#include <string.h>

#define TEXTBUF_MIN 1024

void
textbuf_add(TextBuf *t, const char *s, size_t len)
{
	if (t->failed)
		return;
	if (t->len + len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : TEXTBUF_MIN;
		char *grown;

		while (t->len + len + 1 > cap)
			cap *= 2;
		grown = realloc(t->buf, cap);
		if (!grown) {
			t->failed = true;
			return;
		}
		t->buf = grown;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

void
textbuf_add_str(TextBuf *t, const char *s)
{
	textbuf_add(t, s, strlen(s));
}
