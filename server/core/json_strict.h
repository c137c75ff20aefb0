/*
 * json_strict: an RFC 8259 grammar check, stricter than json-c's tokener.
 *
 * json-c accepts single quotes, NaN/Infinity, raw control characters in strings and keys
 * given twice (keeping the last); a body that different parsers read differently is an
 * attack surface, so the server refuses it before json-c sees it.
 */
#ifndef HOTLINE_CORE_JSON_STRICT_H
#define HOTLINE_CORE_JSON_STRICT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when buf[0..len) is exactly one JSON value (whitespace around it allowed) that
 * follows RFC 8259, nests at most max_depth arrays/objects, and has no object with the
 * same key twice (compared after unescaping). On false, *why names the problem (static).
 */
bool json_strict_check(const char *buf, size_t len, int max_depth, const char **why) __attribute__((warn_unused_result));

#endif
