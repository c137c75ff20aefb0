/* api_error: fill the error value of the API contract. */
#include "core/api_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"

bool
api_error_vset(ApiError *err, int status, const char *code, const char *field, const char *fmt, va_list ap)
{
	if (!err)
		return false;
	err->status = status;
	err->code = code;
	field = field ? field : "";
	/* Cut at a character boundary: the error is sent as UTF-8 JSON. */
	snprintf(err->field, sizeof(err->field), "%.*s", (int)utf8_prefix(field, sizeof(err->field) - 1), field);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	err->message[utf8_prefix(err->message, sizeof(err->message) - 1)] = '\0';
	return false;
}

bool
api_error_set(ApiError *err, int status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	api_error_vset(err, status, code, field, fmt, ap);
	va_end(ap);
	return false;
}

json_object *
api_error_to_json(const ApiError *err)
{
	json_object *e = json_object_new_object(), *root = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(err->code));
	json_object_object_add(e, "message", json_object_new_string(err->message));
	if (err->field[0])
		json_object_object_add(e, "field", json_object_new_string(err->field));
	json_object_object_add(root, "error", e);
	return root;
}
