/*
 * utf8: strict UTF-8 validation and character counting (RFC 3629).
 *
 * Case text is Chinese and limits are in characters, not bytes, so every string
 * from a request passes through here before its length is compared.
 */
#ifndef HOTLINE_CORE_UTF8_H
#define HOTLINE_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Check that the len bytes at s are well-formed UTF-8 and contain no NUL byte.
 * Refused: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above
 * U+10FFFF, stray continuation bytes and truncated sequences. On success the number
 * of code points is stored in *nchars (when not NULL). s need not be NUL-terminated.
 */
bool utf8_validate(const char *s, size_t len, size_t *nchars);

/*
 * The longest prefix of s (at most max bytes) that does not end inside a multi-byte
 * sequence, so text cut to fit a buffer stays valid UTF-8. s is NUL-terminated.
 */
size_t utf8_prefix(const char *s, size_t max);

#endif
