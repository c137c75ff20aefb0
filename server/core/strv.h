/*
 * strv: several strings copied into one allocation. A request's parameters and the columns
 * the intake keeps were copied string by string, 17 to 25 malloc and free pairs each, ~13% of
 * the server's CPU in malloc and free under intake (bench/RESULTS.md, session 10).
 */
#ifndef HOTLINE_CORE_STRV_H
#define HOTLINE_CORE_STRV_H

#include <stddef.h>

/*
 * Copies of src[0..n-1] in one block: the array of the n copies first, then their bytes;
 * free() of the array releases it all. src[i] is len[i] bytes, or with len NULL a
 * NUL-terminated text, copied with its NUL. A NULL src[i] stays NULL. NULL when out of
 * memory (or n is 0: nothing to copy).
 */
char **strv_copy(const char *const *src, const size_t *len, size_t n);

#endif
