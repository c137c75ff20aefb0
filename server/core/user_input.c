/* user_input: field-by-field checks of a new user. */
#include "core/user_input.h"

#include <string.h>

#include "core/utf8.h"

static bool
user_input_string(json_object *body, const char *field, size_t max_chars, const char **out, ApiError *err)
{
	json_object *v;
	size_t nchars;

	*out = NULL;
	if (!json_object_object_get_ex(body, field, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_string))
		return api_error_set(err, 422, "invalid_field", field, "%s must be a string", field);
	if (!utf8_validate(json_object_get_string(v), (size_t)json_object_get_string_len(v), &nchars) ||
	    nchars == 0 || nchars > max_chars)
		return api_error_set(err, 422, "invalid_field", field, "%s must be 1 to %zu characters", field,
				     max_chars);
	*out = json_object_get_string(v);
	return true;
}

bool
user_input_parse(json_object *body, UserInput *out, ApiError *err)
{
	const char *role = NULL;

	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "name") && strcmp(key, "role") && strcmp(key, "department"))
			return api_error_set(err, 422, "invalid_field", key, "unknown field %s", key);
	}
	if (!user_input_string(body, "name", USER_NAME_MAX_CHARS, &out->name, err) ||
	    !user_input_string(body, "role", 20, &role, err) ||
	    !user_input_string(body, "department", 40, &out->department, err))
		return false;
	if (!out->name)
		return api_error_set(err, 422, "missing_field", "name", "name is required");
	if (!role)
		return api_error_set(err, 422, "missing_field", "role", "role is required");
	if (!role_parse(role, &out->role))
		return api_error_set(err, 422, "invalid_field", "role",
				     "role must be operator, department, manager or admin");
	if (out->role == ROLE_DEPARTMENT && !out->department)
		return api_error_set(err, 422, "missing_field", "department",
				     "department is required for the department role");
	if (out->role != ROLE_DEPARTMENT && out->department)
		return api_error_set(err, 422, "invalid_field", "department",
				     "only department users belong to a department");
	return true;
}
