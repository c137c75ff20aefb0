/*
 * api_error: the error contract of API.md section 1 as a value.
 *
 * Core functions that can refuse input fill an ApiError and return false;
 * the HTTP layer turns it into {"error": {"code", "message", "field"}}.
 */
#ifndef HOTLINE_CORE_API_ERROR_H
#define HOTLINE_CORE_API_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <json-c/json.h>

typedef struct ApiError {
	int status;          /* HTTP status: 400, 401, 403, 404, 409, 413, 422, 503 ... */
	const char *code;    /* stable code: "invalid_field", "missing_field", ... (static string) */
	char field[64];      /* offending field ("caller.phone"), empty when none */
	char message[256];   /* human-readable, safe to show; never contains caller data */
} ApiError;

/* Fill err (when not NULL) and return false, so callers can write
 * `return api_error_set(err, 422, "invalid_field", "text", "...")`. */
bool api_error_set(ApiError *err, int status, const char *code, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool api_error_vset(ApiError *err, int status, const char *code, const char *field, const char *fmt,
		    va_list ap) __attribute__((format(printf, 5, 0)));

/* The contract's JSON: {"error": {"code", "message", "field"?}}; a new object the caller puts. */
json_object *api_error_to_json(const ApiError *err);

#endif
