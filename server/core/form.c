/* form: decoding of application/x-www-form-urlencoded bodies; see form.h. */
#include "core/form.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static bool form_add(Form *form, size_t *cap, const char *pair, size_t len, ApiError *err);
static char *form_decode(const char *s, size_t len, bool *ok);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
form_parse(const char *body, size_t len, Form *out, ApiError *err)
{
	size_t cap = 0, start = 0;

	memset(out, 0, sizeof(*out));
	while (start < len) {
		const char *amp = memchr(body + start, '&', len - start);
		size_t end = amp ? (size_t)(amp - body) : len;

		if (end > start && !form_add(out, &cap, body + start, end - start, err)) {
			form_free(out);
			return false;
		}
		start = end + 1;
	}
	return true;
}

bool
form_value(const Form *form, const char *name, const char **out, ApiError *err)
{
	*out = NULL;
	for (size_t i = 0; i < form->count; i++) {
		const char *v = form->fields[i].value;

		if (strcmp(form->fields[i].name, name) != 0 || !*v)
			continue;
		if (*out && strcmp(*out, v) != 0) {
			*out = NULL;
			return api_error_set(err, 400, "bad_request", name, "%s is given more than once with different values",
					     name);
		}
		*out = v;
	}
	return true;
}

void
form_free(Form *form)
{
	for (size_t i = 0; i < form->count; i++) {
		free(form->fields[i].name);
		free(form->fields[i].value);
	}
	free(form->fields);
	memset(form, 0, sizeof(*form));
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* Decode one non-empty "name[=value]" and append it. */
static bool
form_add(Form *form, size_t *cap, const char *pair, size_t len, ApiError *err)
{
	const char *eq = memchr(pair, '=', len);
	size_t name_len = eq ? (size_t)(eq - pair) : len;
	bool name_ok = true, value_ok = true;
	char *name = form_decode(pair, name_len, &name_ok);
	char *value = eq ? form_decode(eq + 1, len - name_len - 1, &value_ok) : strdup("");

	if ((!name && name_ok) || (!value && value_ok))
		goto out_of_memory;
	if (!name_ok || !name[0]) {
		api_error_set(err, 400, "bad_request", NULL,
			      name_ok ? "a form field has no name" : "a form field name is not percent-encoded UTF-8 text");
		goto fail;
	}
	if (!value_ok) {
		api_error_set(err, 400, "bad_request", utf8_validate(name, strlen(name), NULL) ? name : NULL,
			      "the value of %s is not percent-encoded UTF-8 text", name);
		goto fail;
	}
	if (form->count == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		FormField *grown = realloc(form->fields, n * sizeof(*grown));

		if (!grown)
			goto out_of_memory;
		form->fields = grown;
		*cap = n;
	}
	form->fields[form->count++] = (FormField){name, value};
	return true;
out_of_memory:
	api_error_set(err, 503, "unavailable", NULL, "server is out of memory, try again");
fail:
	free(name);
	free(value);
	return false;
}

/*
 * The decoded copy of len bytes at s ('+' a space, %XX a byte), NUL-terminated. *ok turns
 * false (and NULL is returned) when an escape is broken or the result is not UTF-8 text
 * without NUL; NULL with *ok still true means out of memory.
 */
static char *
form_decode(const char *s, size_t len, bool *ok)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] != '%') {
			out[n++] = s[i];
		} else if (i + 2 < len && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], '\0'};

			out[n++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*ok = false;
			break;
		}
	}
	out[n] = '\0';
	if (*ok && !utf8_validate(out, n, NULL))
		*ok = false;
	if (!*ok) {
		free(out);
		return NULL;
	}
	return out;
}

