/* user_input: field-by-field checks of the users' bodies. */
#include "core/user_input.h"

#include <stdarg.h>
#include <string.h>

#include "core/codes.h"
#include "core/utf8.h"

/* Refuse every key of body not among the NULL-terminated allowed names. */
static bool
user_input_fields(json_object *body, ApiError *err, ...)
{
	json_object_object_foreach(body, key, val) {
		va_list ap;
		const char *allowed;
		bool known = false;

		(void)val;
		va_start(ap, err);
		while (!known && (allowed = va_arg(ap, const char *)))
			known = strcmp(key, allowed) == 0;
		va_end(ap);
		if (!known)
			return api_error_set(err, 422, "invalid_field", key, "unknown field %s", key);
	}
	return true;
}

/* An optional string field of min_chars..max_chars characters; *out NULL when absent or null. */
static bool
user_input_string(json_object *body, const char *field, size_t min_chars, size_t max_chars, const char **out,
		  ApiError *err)
{
	json_object *v;
	size_t nchars;

	*out = NULL;
	if (!json_object_object_get_ex(body, field, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_string))
		return api_error_set(err, 422, "invalid_field", field, "%s must be a string", field);
	if (!utf8_validate(json_object_get_string(v), (size_t)json_object_get_string_len(v), &nchars) ||
	    nchars < min_chars || nchars > max_chars)
		return api_error_set(err, 422, "invalid_field", field, "%s must be %zu to %zu characters", field,
				     min_chars, max_chars);
	*out = json_object_get_string(v);
	return true;
}

/* A required string field, as user_input_string. */
static bool
user_input_required(json_object *body, const char *field, size_t min_chars, size_t max_chars, const char **out,
		    ApiError *err)
{
	if (!user_input_string(body, field, min_chars, max_chars, out, err))
		return false;
	if (!*out)
		return api_error_set(err, 422, "missing_field", field, "%s is required", field);
	return true;
}

static bool
user_login_well_formed(const char *login)
{
	size_t n = strlen(login);

	if (n < USER_LOGIN_MIN || n > USER_LOGIN_MAX)
		return false;
	for (const char *p = login; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

bool
user_input_parse(json_object *body, UserInput *out, ApiError *err)
{
	const char *role = NULL;

	if (!user_input_fields(body, err, "name", "role", "department", "login", "password", (const char *)NULL) ||
	    !user_input_required(body, "name", 1, USER_NAME_MAX_CHARS, &out->name, err) ||
	    !user_input_required(body, "role", 1, 20, &role, err) ||
	    !user_input_string(body, "department", 1, DEPARTMENT_CODE_MAX, &out->department, err) ||
	    !user_input_string(body, "login", 1, USER_LOGIN_MAX, &out->login, err) ||
	    !user_input_string(body, "password", USER_PASSWORD_MIN_CHARS, USER_PASSWORD_MAX_CHARS, &out->password,
			       err))
		return false;
	if (!role_parse(role, &out->role))
		return api_error_set(err, 422, "invalid_field", "role",
				     "role must be operator, department, manager or admin");
	if (out->role == ROLE_DEPARTMENT && !out->department)
		return api_error_set(err, 422, "missing_field", "department",
				     "department is required for the department role");
	if (out->role != ROLE_DEPARTMENT && out->department)
		return api_error_set(err, 422, "invalid_field", "department",
				     "only department users belong to a department");
	if (out->department && !department_code_valid(out->department))
		return api_error_set(err, 422, "invalid_field", "department", "no such department");
	if (out->login && !user_login_well_formed(out->login))
		return api_error_set(err, 422, "invalid_field", "login",
				     "login must be 3 to 32 of a-z, 0-9, '.', '_' and '-'");
	if (out->password && !out->login)
		return api_error_set(err, 422, "missing_field", "login", "a password needs a login");
	return true;
}

bool
user_login_parse(json_object *body, UserCredentials *out, ApiError *err)
{
	out->new_password = NULL;
	return user_input_fields(body, err, "login", "password", (const char *)NULL) &&
	       user_input_required(body, "login", 1, USER_PASSWORD_MAX_CHARS, &out->login, err) &&
	       user_input_required(body, "password", 1, USER_PASSWORD_MAX_CHARS, &out->password, err);
}

bool
user_password_parse(json_object *body, const char **password, ApiError *err)
{
	return user_input_fields(body, err, "password", (const char *)NULL) &&
	       user_input_required(body, "password", USER_PASSWORD_MIN_CHARS, USER_PASSWORD_MAX_CHARS, password,
				   err);
}

bool
user_password_change_parse(json_object *body, UserCredentials *out, ApiError *err)
{
	out->login = NULL;
	return user_input_fields(body, err, "old", "new", (const char *)NULL) &&
	       user_input_required(body, "old", 1, USER_PASSWORD_MAX_CHARS, &out->password, err) &&
	       user_input_required(body, "new", USER_PASSWORD_MIN_CHARS, USER_PASSWORD_MAX_CHARS,
				   &out->new_password, err);
}
