/*
 * form: application/x-www-form-urlencoded bodies (the WHATWG URL standard's parser, as
 * Open311 clients send them): pairs separated by '&', name and value by the first '=',
 * '+' is a space and %XX a byte. Refused with 400 bad_request: a '%' not followed by two
 * hex digits, and a name or value that does not decode to UTF-8 text without NUL bytes.
 * Empty pairs ("a=1&&b=2") are skipped; a pair without '=' has the empty value.
 */
#ifndef HOTLINE_CORE_FORM_H
#define HOTLINE_CORE_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/api_error.h"

typedef struct FormField {
	char *name;  /* decoded, NUL-terminated */
	char *value; /* decoded, NUL-terminated; "" when the pair had none */
} FormField;

/* The fields in the order they came, repeated names included. Free with form_free. */
typedef struct Form {
	FormField *fields;
	size_t count;
} Form;

/*
 * Decode the len bytes of body (need not be NUL-terminated) into *out. Returns false with
 * err set (400 bad_request naming the field when its name decoded, 503 when out of memory)
 * and *out empty. On success the caller frees *out with form_free.
 */
bool form_parse(const char *body, size_t len, Form *out, ApiError *err) __attribute__((warn_unused_result));

/*
 * The one value of the argument `name`: *out is NULL when it is absent or empty (an empty
 * argument is the same as an absent one). Given several times with different non-empty
 * values, it is refused (400 bad_request naming it); the same value repeated is that value.
 * *out points into form.
 */
bool form_value(const Form *form, const char *name, const char **out, ApiError *err)
	__attribute__((warn_unused_result));

void form_free(Form *form);

#endif
