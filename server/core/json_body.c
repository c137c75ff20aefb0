/* json_body: strict UTF-8, then json-c's tokener in strict mode with a depth bound. */
#include "core/json_body.h"

#include <string.h>

#include "core/json_strict.h"
#include "core/utf8.h"

bool
json_body_parse(const char *buf, size_t len, json_object **out, ApiError *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t end;
	const char *why;

	*out = NULL;
	/* json-c's own UTF-8 check lets overlong forms and surrogates through: ours is strict. */
	if (!utf8_validate(buf, len, NULL))
		return api_error_set(err, 400, "bad_json", NULL, "body is not valid UTF-8 (or has a NUL byte)");
	if (!json_strict_check(buf, len, JSON_BODY_MAX_DEPTH - 1, &why))
		return api_error_set(err, 400, "bad_json", NULL, "body is not strict JSON: %s", why);
	tok = json_tokener_new_ex(JSON_BODY_MAX_DEPTH);
	if (!tok)
		return api_error_set(err, 400, "bad_json", NULL, "cannot parse body");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		if (jerr == json_tokener_continue)
			return api_error_set(err, 400, "bad_json", NULL, "body is truncated JSON");
		return api_error_set(err, 400, "bad_json", NULL, "body is not valid UTF-8 JSON: %s",
				     json_tokener_error_desc(jerr));
	}
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", buf[end])) {
			json_object_put(obj);
			return api_error_set(err, 400, "bad_json", NULL, "trailing data after the JSON value");
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return api_error_set(err, 400, "bad_json", NULL, "body must be a JSON object");
	}
	*out = obj;
	return true;
}
