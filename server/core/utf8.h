/*
 * utf8: strict UTF-8 validation, character counting, decoding and encoding (RFC 3629).
 *
 * Case text is Chinese and limits are in characters, not bytes, so every string
 * from a request passes through here before its length is compared.
 */
#ifndef HOTLINE_CORE_UTF8_H
#define HOTLINE_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Check that the len bytes at s are well-formed UTF-8 and contain no NUL byte.
 * Refused: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above
 * U+10FFFF, stray continuation bytes and truncated sequences. On success the number
 * of code points is stored in *nchars (when not NULL). s need not be NUL-terminated.
 */
bool utf8_validate(const char *s, size_t len, size_t *nchars);

/*
 * Decode the character at the start of the len (>= 1) bytes at s: its length 1 to 4 with its
 * code point in *cp, or 0 when s does not start with a well-formed sequence (overlong form,
 * surrogate, past U+10FFFF, stray continuation byte, truncated). A NUL byte decodes as U+0000.
 * The one UTF-8 decoder of the tree: validation, the keyword matcher, the client's tables.
 */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Write the UTF-8 form of code point cp (at most U+10FFFF, no surrogate) to out (room for 4
 * bytes; NULL: only measure); returns its length 1 to 4. */
size_t utf8_encode(uint32_t cp, char *out);

/*
 * The longest prefix of s (at most max bytes) that does not end inside a multi-byte
 * sequence, so text cut to fit a buffer stays valid UTF-8. s is NUL-terminated.
 */
size_t utf8_prefix(const char *s, size_t max);

#endif
