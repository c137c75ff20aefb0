/* strv: see strv.h. */
#include "core/strv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t
strv_len(const char *const *src, const size_t *len, size_t i)
{
	return len ? len[i] : strlen(src[i]) + 1;
}

char **
strv_copy(const char *const *src, const size_t *len, size_t n)
{
	size_t bytes = 0;
	char **out, *at;

	if (n == 0 || n > SIZE_MAX / sizeof(*out))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t one = src[i] ? strv_len(src, len, i) : 0;

		if (one > SIZE_MAX - bytes - n * sizeof(*out))
			return NULL;
		bytes += one;
	}
	out = malloc(n * sizeof(*out) + (bytes ? bytes : 1));
	if (!out)
		return NULL;
	at = (char *)(out + n);
	for (size_t i = 0; i < n; i++) {
		size_t one = src[i] ? strv_len(src, len, i) : 0;

		out[i] = src[i] ? memcpy(at, src[i], one) : NULL;
		at += one;
	}
	return out;
}
