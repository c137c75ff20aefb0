/* api_error: fill the error value of the API contract. */
#include "core/api_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool
api_error_set(ApiError *err, int status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return false;
	err->status = status;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}
