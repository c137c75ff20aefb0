/* json_body: strict parsing of a request body into a JSON object. */
#ifndef HOTLINE_CORE_JSON_BODY_H
#define HOTLINE_CORE_JSON_BODY_H

#include <stddef.h>
#include <json-c/json.h>

#include "core/api_error.h"

/* Levels as json-c counts them: the top-level object plus at most 15 containers inside it. */
#define JSON_BODY_MAX_DEPTH 16

/*
 * Parse len bytes as one strict JSON value that must be an object: valid UTF-8, no raw
 * NUL bytes, no trailing garbage (whitespace is fine), nesting at most JSON_BODY_MAX_DEPTH levels,
 * no key twice in one object (RFC 8259 grammar, core/json_strict.h).
 * On success *out holds a new reference the caller puts; on failure err is a 400 bad_json.
 */
bool json_body_parse(const char *buf, size_t len, json_object **out, ApiError *err) __attribute__((warn_unused_result));

#endif
