/* open311: the GeoReport v2 inputs (see open311.h). */
#include "core/open311.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/case_input.h"
#include "core/codes.h"
#include "core/pg_array.h"
#include "core/utf8.h"
#include "core/ymd.h"

#define ATTRIBUTE_PREFIX "attribute["

/* The case fields of a create body and the Open311 arguments they come from. */
static const struct {
	const char *field;
	const char *argument;
} argument_of[] = {
	{"text", "description"}, {"address", "address_string"}, {"lat", "lat"}, {"lon", "long"},
	{"caller.name", "first_name"}, {"caller.phone", "phone"},
};

static bool submission_location(const Form *form, json_object *body, json_object *extras, ApiError *err);
static bool submission_caller(const Form *form, json_object *body, ApiError *err);
static bool submission_extras(const Form *form, json_object *extras, ApiError *err);
static bool submission_attribute(const char *name, const char *value, json_object *attributes, ApiError *err);
static bool out_of_memory(ApiError *err);
static bool parse_coordinate(const char *text, double *out);
static bool text_within(const char *text, size_t max_chars);
static bool add_text(json_object *obj, const char *key, const char *value);
static char *list_literal(const char *text, const char *name, size_t max_len, const char *allowed, ApiError *err);
static bool filter_status(const char *status, const char **out, ApiError *err);
static bool filter_window(const char *start, const char *end, time_t now, Open311Filter *out, ApiError *err);
static bool parse_digits(const char *s, int n, int *out);
static int64_t days_from_civil(int y, int m, int d);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
open311_submission(const Form *form, Open311Submission *out, ApiError *err)
{
	const char *code, *description;

	memset(out, 0, sizeof(*out));
	if (!form_value(form, "service_code", &code, err) || !form_value(form, "description", &description, err))
		return false;
	if (!code)
		return api_error_set(err, 400, "bad_request", "service_code", "service_code is required");
	out->body = json_object_new_object();
	out->extras = json_object_new_object();
	if (!out->body || !out->extras || !add_text(out->body, "channel", "open311") ||
	    !add_text(out->body, "category", code))
		goto no_memory;
	if (!submission_location(form, out->body, out->extras, err))
		goto fail;
	if (!description) {
		api_error_set(err, 400, "bad_request", "description", "description is required");
		goto fail;
	}
	if (!text_within(description, CASE_TEXT_MAX)) {
		api_error_set(err, 400, "bad_request", "description", "description must be 1 to %d characters",
			      CASE_TEXT_MAX);
		goto fail;
	}
	if (!add_text(out->body, "text", description))
		goto no_memory;
	if (!submission_caller(form, out->body, err) || !submission_extras(form, out->extras, err))
		goto fail;
	return true;
no_memory:
	out_of_memory(err);
fail:
	open311_submission_free(out);
	return false;
}

void
open311_submission_free(Open311Submission *s)
{
	json_object_put(s->body);
	json_object_put(s->extras);
	memset(s, 0, sizeof(*s));
}

void
open311_input_error(const ApiError *in, ApiError *out)
{
	const char *argument = in->field[0] ? in->field : NULL;

	if (in->status >= 500) {
		*out = *in;
		return;
	}
	if (argument && strcmp(argument, "category") == 0) {
		api_error_set(out, 404, "not_found", "service_code", "service_code names no service of this server");
		return;
	}
	for (size_t i = 0; argument && i < sizeof(argument_of) / sizeof(argument_of[0]); i++) {
		if (strcmp(argument_of[i].field, argument) == 0)
			argument = argument_of[i].argument;
	}
	api_error_set(out, 400, "bad_request", argument, "%s is not valid: %s", argument ? argument : "an argument",
		      in->message);
}

bool
open311_filter(const char *ids, const char *codes, const char *start, const char *end, const char *status,
	       time_t now, Open311Filter *out, ApiError *err)
{
	static const char id_chars[] = "0123456789-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

	memset(out, 0, sizeof(*out));
	if (ids && *ids && !(out->ids = list_literal(ids, "service_request_id", OPEN311_ID_MAX, id_chars, err)))
		goto fail;
	if (codes && *codes && !(out->codes = list_literal(codes, "service_code", CATEGORY_CODE_MAX, NULL, err)))
		goto fail;
	if (!filter_status(status, &out->status, err) || !filter_window(start, end, now, out, err))
		goto fail;
	return true;
fail:
	open311_filter_free(out);
	return false;
}

void
open311_filter_free(Open311Filter *f)
{
	free(f->ids);
	free(f->codes);
	memset(f, 0, sizeof(*f));
}

bool
open311_datetime_parse(const char *text, time_t *out)
{
	char date[11];
	Ymd ymd;
	int hour, minute, second = 0, zone_hours = 0, zone_minutes = 0, sign = 1;
	const char *p;
	int64_t days;

	if (!text || strlen(text) < 16 || text[10] != 'T')
		return false;
	memcpy(date, text, 10);
	date[10] = '\0';
	if (!ymd_parse(date, &ymd) || !parse_digits(text + 11, 2, &hour) || text[13] != ':' ||
	    !parse_digits(text + 14, 2, &minute) || hour > 23 || minute > 59)
		return false;
	p = text + 16;
	if (*p == ':') {
		if (!parse_digits(p + 1, 2, &second) || second > 59)
			return false;
		p += 3;
		if (*p == '.' || *p == ',') {
			p++;
			if (*p < '0' || *p > '9')
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-' || *p == ' ') {
		sign = *p == '-' ? -1 : 1;
		if (!parse_digits(p + 1, 2, &zone_hours) || zone_hours > 23)
			return false;
		p += 3;
		if (*p == ':')
			p++;
		if (*p && (!parse_digits(p, 2, &zone_minutes) || zone_minutes > 59))
			return false;
		p += *p ? 2 : 0;
	} else {
		return false;
	}
	if (*p)
		return false;
	days = days_from_civil(ymd.year, ymd.month, ymd.day);
	*out = (time_t)(days * 86400 + hour * 3600 + minute * 60 + second) -
	       (time_t)sign * (zone_hours * 3600 + zone_minutes * 60);
	return true;
}

const char *
open311_status(const char *state)
{
	return strcmp(state, "closed") == 0 || strcmp(state, "merged") == 0 || strcmp(state, "declined") == 0
		       ? "closed"
		       : "open";
}

const char *
open311_notice(const char *state)
{
	static const struct {
		const char *state;
		const char *notice;
	} notices[] = {
		{"pending", "已受理，正在确定承办单位"},
		{"dispatched", "已派至承办单位，等待签收办理"},
		{"accepted", "承办单位正在办理"},
		{"reopened", "回访不满意，承办单位正在重新办理"},
		{"suspended", "办理暂停，等待市民补充材料或第三方意见"},
		{"reviewing", "承办单位已答复，热线正在审核"},
		{"replied", "承办单位已答复，等待回访"},
		{"answered", "已当场答复，等待回访"},
		{"closed", "已办结"},
		{"merged", "与相同诉求合并办理"},
	};

	for (size_t i = 0; i < sizeof(notices) / sizeof(notices[0]); i++) {
		if (strcmp(notices[i].state, state) == 0)
			return notices[i].notice;
	}
	return "已受理";
}

/*
 *********************************
 * POST requests
 *********************************
 */

/* lat + long, address_string, address_id: at least one; lat and long together. */
static bool
submission_location(const Form *form, json_object *body, json_object *extras, ApiError *err)
{
	const char *lat, *lon, *address, *address_id;
	double lat_value, lon_value;

	if (!form_value(form, "lat", &lat, err) || !form_value(form, "long", &lon, err) ||
	    !form_value(form, "address_string", &address, err) || !form_value(form, "address_id", &address_id, err))
		return false;
	if (!lat != !lon)
		return api_error_set(err, 400, "bad_request", lat ? "long" : "lat", "lat and long go together: %s is missing",
				     lat ? "long" : "lat");
	if (!lat && !address && !address_id)
		return api_error_set(err, 400, "bad_request", "address_string",
				     "a location is required: lat and long, address_string or address_id");
	if (lat && !parse_coordinate(lat, &lat_value))
		return api_error_set(err, 400, "bad_request", "lat", "lat must be a decimal number");
	if (lon && !parse_coordinate(lon, &lon_value))
		return api_error_set(err, 400, "bad_request", "long", "long must be a decimal number");
	if (address_id && !text_within(address_id, OPEN311_EXTRA_MAX))
		return api_error_set(err, 400, "bad_request", "address_id", "address_id must be at most %d characters",
				     OPEN311_EXTRA_MAX);
	if ((lat && (json_object_object_add(body, "lat", json_object_new_double(lat_value)) != 0 ||
		     json_object_object_add(body, "lon", json_object_new_double(lon_value)) != 0)) ||
	    !add_text(body, "address", address) || !add_text(extras, "address_id", address_id))
		return out_of_memory(err);
	return true;
}

/* first_name + last_name: caller.name; phone (spaces, dots and parentheses dropped): caller.phone. */
static bool
submission_caller(const Form *form, json_object *body, ApiError *err)
{
	const char *first, *last, *phone;
	char name[2 * 4 * CASE_CALLER_NAME_MAX + 2], digits[4 * CASE_PHONE_MAX + 1];
	json_object *caller;
	size_t n = 0;

	if (!form_value(form, "first_name", &first, err) || !form_value(form, "last_name", &last, err) ||
	    !form_value(form, "phone", &phone, err))
		return false;
	snprintf(name, sizeof(name), "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
	if ((first && !text_within(first, CASE_CALLER_NAME_MAX)) || (last && !text_within(last, CASE_CALLER_NAME_MAX)) ||
	    ((first || last) && !text_within(name, CASE_CALLER_NAME_MAX)))
		return api_error_set(err, 400, "bad_request", first ? "first_name" : "last_name",
				     "first_name and last_name together must be at most %d characters", CASE_CALLER_NAME_MAX);
	for (const char *p = phone; p && *p; p++) {
		if (strchr(" ().", *p))
			continue;
		if (n + 1 >= sizeof(digits))
			return api_error_set(err, 400, "bad_request", "phone", "phone must be at most %d digits", CASE_PHONE_MAX);
		digits[n++] = *p;
	}
	digits[n] = '\0';
	if (!first && !last && n == 0)
		return true;
	caller = json_object_new_object();
	if (!caller || json_object_object_add(body, "caller", caller) != 0) {
		json_object_put(caller);
		return out_of_memory(err);
	}
	if (!add_text(caller, "name", name[0] ? name : NULL) || !add_text(caller, "phone", n ? digits : NULL))
		return out_of_memory(err);
	return true;
}

/* email, device_id, account_id, media_url and the attributes, as given. */
static bool
submission_extras(const Form *form, json_object *extras, ApiError *err)
{
	static const char *const names[] = {"email", "device_id", "account_id", "media_url"};
	json_object *attributes = json_object_new_object();

	if (!attributes)
		return out_of_memory(err);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v;

		if (!form_value(form, names[i], &v, err))
			goto fail;
		if (v && !text_within(v, OPEN311_EXTRA_MAX)) {
			api_error_set(err, 400, "bad_request", names[i], "%s must be at most %d characters", names[i],
				      OPEN311_EXTRA_MAX);
			goto fail;
		}
		if (!add_text(extras, names[i], v))
			goto no_memory;
	}
	for (size_t i = 0; i < form->count; i++) {
		const FormField *f = &form->fields[i];

		if (strncmp(f->name, "attribute", strlen("attribute")) == 0 &&
		    !submission_attribute(f->name, f->value, attributes, err))
			goto fail;
	}
	if (json_object_object_length(attributes) == 0) {
		json_object_put(attributes);
		return true;
	}
	if (json_object_object_add(extras, "attributes", attributes) == 0)
		return true;
no_memory:
	out_of_memory(err);
fail:
	json_object_put(attributes);
	return false;
}

/*
 * One attribute[code] or attribute[code][] argument into attributes: a text, or a list when
 * the name ends in [] or the code came before. An empty value is no value.
 */
static bool
submission_attribute(const char *name, const char *value, json_object *attributes, ApiError *err)
{
	size_t prefix = strlen(ATTRIBUTE_PREFIX);
	const char *close = strchr(name + (strncmp(name, ATTRIBUTE_PREFIX, prefix) == 0 ? prefix : 0), ']');
	char code[4 * OPEN311_ATTRIBUTE_CODE_MAX + 1];
	size_t len = close && close > name + prefix ? (size_t)(close - name) - prefix : 0;
	bool is_list = close && strcmp(close, "][]") == 0;
	json_object *have, *list, *v;

	if (strcmp(name, "attribute") != 0 && strncmp(name, ATTRIBUTE_PREFIX, prefix) != 0)
		return true; /* another argument that begins with the word (attributes, attribute_x) */
	if (len == 0 || len >= sizeof(code) || (!is_list && strcmp(close, "]") != 0) ||
	    memchr(name + prefix, '[', len))
		return api_error_set(err, 400, "bad_request", "attribute",
				     "attributes are sent as attribute[code] or attribute[code][]");
	memcpy(code, name + prefix, len);
	code[len] = '\0';
	if (!text_within(code, OPEN311_ATTRIBUTE_CODE_MAX) || !text_within(value, OPEN311_EXTRA_MAX))
		return api_error_set(err, 400, "bad_request", "attribute",
				     "an attribute's code must be at most %d characters and its value at most %d",
				     OPEN311_ATTRIBUTE_CODE_MAX, OPEN311_EXTRA_MAX);
	if (!*value)
		return true;
	v = json_object_new_string(value);
	list = NULL;
	if (!v)
		goto no_memory;
	if (!json_object_object_get_ex(attributes, code, &have) && !is_list) {
		if (json_object_object_add(attributes, code, v) != 0)
			goto no_memory;
		return true;
	}
	if (have && json_object_is_type(have, json_type_array)) {
		if (json_object_array_add(have, v) != 0)
			goto no_memory;
		return true;
	}
	/* A first value of a list, or a second value: the code's value becomes a list. */
	list = json_object_new_array();
	if (!list || (have && json_object_array_add(list, json_object_get(have)) != 0) ||
	    json_object_array_add(list, v) != 0)
		goto no_memory;
	v = NULL;
	if (json_object_object_add(attributes, code, list) != 0)
		goto no_memory; /* json-c keeps no reference to a value it could not add */
	return true;
no_memory:
	json_object_put(v);
	json_object_put(list);
	return out_of_memory(err);
}

/* 503: an allocation failed (the client may retry); returns false. */
static bool
out_of_memory(ApiError *err)
{
	return api_error_set(err, 503, "unavailable", NULL, "server is out of memory, try again");
}

/* A decimal number: optional sign, digits, optional fraction; no exponent, hex or infinity. */
static bool
parse_coordinate(const char *text, double *out)
{
	char *end;
	size_t n = strspn(text, "+-0123456789.");

	if (n != strlen(text) || n == 0 || n > 32)
		return false;
	*out = strtod(text, &end);
	return *end == '\0' && end != text && isfinite(*out);
}

/* Valid UTF-8 of at most max_chars characters (the form decoder already refused invalid UTF-8). */
static bool
text_within(const char *text, size_t max_chars)
{
	size_t n = 0;

	return utf8_validate(text, strlen(text), &n) && n <= max_chars;
}

/* obj[key] = value when value is not NULL; false only when out of memory. */
static bool
add_text(json_object *obj, const char *key, const char *value)
{
	json_object *v;

	if (!value)
		return true;
	v = json_object_new_string(value);
	if (v && json_object_object_add(obj, key, v) == 0)
		return true;
	json_object_put(v); /* json-c keeps no reference to a value it could not add */
	return false;
}

/*
 *********************************
 * GET requests
 *********************************
 */

/*
 * The text[] literal of a comma-separated list (spaces around items dropped, empty items
 * skipped): each item at most max_len bytes and, when allowed is not NULL, of those
 * characters only; at most OPEN311_LIST_MAX items. NULL with err set otherwise.
 */
static char *
list_literal(const char *text, const char *name, size_t max_len, const char *allowed, ApiError *err)
{
	char *copy = strdup(text), *save = NULL, *literal = NULL;
	const char **items = calloc(OPEN311_LIST_MAX, sizeof(*items));
	size_t n = 0;

	if (!copy || !items) {
		out_of_memory(err);
		goto done;
	}
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		size_t len;

		item += strspn(item, " ");
		len = strlen(item);
		while (len > 0 && item[len - 1] == ' ')
			item[--len] = '\0';
		if (len == 0)
			continue;
		if (len > max_len || (allowed && strspn(item, allowed) != len) || n == OPEN311_LIST_MAX) {
			api_error_set(err, 400, "bad_request", name, "%s must be a comma-separated list of at most %d items",
				      name, OPEN311_LIST_MAX);
			goto done;
		}
		items[n++] = item;
	}
	literal = pg_array_literal(items, n);
	if (!literal)
		out_of_memory(err);
done:
	free(items);
	free(copy);
	return literal;
}

/* status: open, closed, or both (comma-separated); *out NULL for both or none. */
static bool
filter_status(const char *status, const char **out, ApiError *err)
{
	bool open = false, closed = false;
	const char *p = status;

	*out = NULL;
	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len == 4 && strncmp(p, "open", 4) == 0)
			open = true;
		else if (len == 6 && strncmp(p, "closed", 6) == 0)
			closed = true;
		else if (len > 0)
			return api_error_set(err, 400, "bad_request", "status", "status must be open or closed");
		p += len + (p[len] == ',');
	}
	if (open != closed)
		*out = open ? "open" : "closed";
	return true;
}

static bool
filter_window(const char *start, const char *end, time_t now, Open311Filter *out, ApiError *err)
{
	bool has_start = start && *start, has_end = end && *end;

	if (has_start && !open311_datetime_parse(start, &out->from))
		return api_error_set(err, 400, "bad_request", "start_date",
				     "start_date must be an ISO 8601 date-time with its zone (2026-11-28T09:30:00+08:00)");
	if (has_end && !open311_datetime_parse(end, &out->to))
		return api_error_set(err, 400, "bad_request", "end_date",
				     "end_date must be an ISO 8601 date-time with its zone (2026-11-28T09:30:00+08:00)");
	if (!has_end)
		out->to = has_start ? out->from + OPEN311_WINDOW_SECONDS : now;
	if (!has_start)
		out->from = out->to - OPEN311_WINDOW_SECONDS;
	if (out->to < out->from)
		return api_error_set(err, 400, "bad_request", "end_date", "end_date is before start_date");
	if (out->to - out->from > OPEN311_WINDOW_SECONDS)
		return api_error_set(err, 400, "bad_request", "end_date",
				     "start_date and end_date may be at most 90 days apart");
	return true;
}

/* n decimal digits at s into *out. */
static bool
parse_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (Howard Hinnant's formula). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}
