/* intake_aids: path, flag and article checks of the intake aids (API.md 13-15). */
#include "core/intake_aids.h"

#include <string.h>

#include "core/utf8.h"

static bool text_member(json_object *body, const char *name, size_t min, size_t max, const char **out,
			ApiError *err);
static bool tags_member(json_object *body, ApiError *err);
static bool department_member(json_object *body, ApiError *err);
static bool only_members(json_object *body, const char *const *names, ApiError *err);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
intake_phone_valid(const char *phone)
{
	size_t n = strlen(phone);

	return n >= 1 && n <= CALLER_PHONE_MAX && strspn(phone, "0123456789+-") == n;
}

bool
intake_case_number_valid(const char *number)
{
	return strlen(number) == 15 && strspn(number, "0123456789") == 8 && number[8] == '-' &&
	       strspn(number + 9, "0123456789") == 6;
}

bool
intake_flag_parse(json_object *body, const char **kind, const char **note, ApiError *err)
{
	static const char *const names[] = {"kind", "note", NULL};

	*kind = *note = NULL;
	if (!only_members(body, names, err) || !text_member(body, "kind", 1, 20, kind, err) ||
	    !text_member(body, "note", 0, CALLER_NOTE_MAX, note, err))
		return false;
	if (!*kind)
		return api_error_set(err, 422, "missing_field", "kind", "kind is required: repeat or malicious");
	if (strcmp(*kind, "repeat") != 0 && strcmp(*kind, "malicious") != 0)
		return api_error_set(err, 422, "invalid_field", "kind", "kind must be repeat or malicious");
	return true;
}

bool
intake_article_check(json_object *body, bool create, ApiError *err)
{
	static const char *const names[] = {"title", "body", "tags", "department", "enabled", NULL};
	const char *title, *text;
	json_object *v;
	bool any = false;

	if (!only_members(body, names, err) || !text_member(body, "title", 1, KB_TITLE_MAX, &title, err) ||
	    !text_member(body, "body", 1, KB_BODY_MAX, &text, err) || !tags_member(body, err) ||
	    !department_member(body, err))
		return false;
	if (json_object_object_get_ex(body, "enabled", &v) && !json_object_is_type(v, json_type_null) &&
	    !json_object_is_type(v, json_type_boolean))
		return api_error_set(err, 422, "invalid_field", "enabled", "enabled must be true or false");
	if (create && !title)
		return api_error_set(err, 422, "missing_field", "title", "title is required");
	if (create && !text)
		return api_error_set(err, 422, "missing_field", "body", "body is required");
	for (const char *const *n = names; *n; n++)
		any = any || (json_object_object_get_ex(body, *n, &v) &&
			      (!json_object_is_type(v, json_type_null) || strcmp(*n, "department") == 0));
	if (!any)
		return api_error_set(err, 422, "missing_field", "title",
				     "give at least one of title, body, tags, department, enabled");
	return true;
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* An optional string member of min..max characters (valid UTF-8); *out NULL when absent or null. */
static bool
text_member(json_object *body, const char *name, size_t min, size_t max, const char **out, ApiError *err)
{
	json_object *v;
	size_t nchars;

	*out = NULL;
	if (!json_object_object_get_ex(body, name, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_string) ||
	    !utf8_validate(json_object_get_string(v), (size_t)json_object_get_string_len(v), &nchars) ||
	    nchars < min || nchars > max)
		return api_error_set(err, 422, "invalid_field", name, "%s must be a string of %zu to %zu characters",
				     name, min, max);
	*out = json_object_get_string(v);
	return true;
}

static bool
tags_member(json_object *body, ApiError *err)
{
	json_object *v;
	size_t n, nchars;

	if (!json_object_object_get_ex(body, "tags", &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > KB_TAGS_MAX)
		return api_error_set(err, 422, "invalid_field", "tags", "tags must be a list of at most %d strings",
				     KB_TAGS_MAX);
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(v, i);

		if (!json_object_is_type(t, json_type_string) ||
		    !utf8_validate(json_object_get_string(t), (size_t)json_object_get_string_len(t), &nchars) ||
		    nchars < 1 || nchars > KB_TAG_MAX)
			return api_error_set(err, 422, "invalid_field", "tags",
					     "each tag must be a string of 1 to %d characters", KB_TAG_MAX);
	}
	return true;
}

/* department: null (no department) or a department code [a-z][a-z0-9_]{0,39}. */
static bool
department_member(json_object *body, ApiError *err)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(body, "department", &v) || json_object_is_type(v, json_type_null))
		return true;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	n = strlen(s);
	if (n < 1 || n > 40 || s[0] < 'a' || s[0] > 'z' || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n ||
	    n != (size_t)json_object_get_string_len(v))
		return api_error_set(err, 422, "invalid_field", "department", "department must be a department code");
	return true;
}

static bool
only_members(json_object *body, const char *const *names, ApiError *err)
{
	json_object_object_foreach(body, key, val) {
		const char *const *n = names;

		(void)val;
		while (*n && strcmp(*n, key) != 0)
			n++;
		if (!*n)
			return api_error_set(err, 422, "invalid_field", key, "unknown field %s", key);
	}
	return true;
}
