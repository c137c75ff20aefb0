/*
 * case_input: table-driven validation of case bodies.
 *
 * A body is described by a FieldSpec array: name, JSON kind, required or not,
 * limits, and where the value goes in the output struct. One walker checks any
 * body against its table, so the create body and the eleven action bodies share
 * every rule (unknown fields, types, lengths in characters, null = absent).
 */
#include "core/case_input.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/codes.h"
#include "core/utf8.h"

typedef enum FieldKind {
	FIELD_TEXT,   /* string, min..max characters */
	FIELD_ENUM,   /* string, one of values */
	FIELD_DEPARTMENT, /* department code (core/codes) */
	FIELD_CATEGORY,   /* category code (core/codes) */
	FIELD_PHONE,  /* digits, '+' and '-', 0..max */
	FIELD_BOOL,   /* true or false: OptBool */
	FIELD_NUMBER, /* finite number in min..max: OptDouble */
	FIELD_INT,    /* integer in min..max: OptInt */
	FIELD_OBJECT, /* nested object described by `nested` */
	FIELD_CODES   /* array of 0..max distinct codes: CodeList */
} FieldKind;

typedef struct FieldSpec {
	const char *name; /* NULL ends a table */
	FieldKind kind;
	bool required;
	double min, max;
	const char *const *values;      /* FIELD_ENUM: NULL-terminated */
	const struct FieldSpec *nested; /* FIELD_OBJECT */
	size_t offset;                  /* of the output member in the output struct */
} FieldSpec;

#define FIELD_PATH_MAX 64

/* Output members: a string is a const char *, the others the Opt* of its kind. */
#define IN(m) offsetof(CaseInput, m)
#define ACT(m) offsetof(CaseActionInput, m)

static const char *const channels[] = {"phone", "web", "app", "wechat", "kiosk", "hall", "email", "open311", NULL};
static const char *const types[] = {"consult", "complaint", "help", "report", "suggestion", "praise", NULL};

/* Case and article ids are bigint; anything past 2^53 cannot be one and would lose precision in JSON. */
#define CASE_ID_MAX 9007199254740991.0

static const FieldSpec caller_fields[] = {
	{"name", FIELD_TEXT, false, 0, CASE_CALLER_NAME_MAX, NULL, NULL, IN(caller_name)},
	{"phone", FIELD_PHONE, false, 0, CASE_PHONE_MAX, NULL, NULL, IN(caller_phone)},
	{"confidential", FIELD_BOOL, false, 0, 0, NULL, NULL, IN(caller_confidential)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};

static const FieldSpec create_fields[] = {
	{"channel", FIELD_ENUM, false, 0, 0, channels, NULL, IN(channel)},
	{"type", FIELD_ENUM, false, 0, 0, types, NULL, IN(type)},
	{"urgent", FIELD_BOOL, false, 0, 0, NULL, NULL, IN(urgent)},
	{"category", FIELD_CATEGORY, false, 0, 0, NULL, NULL, IN(category)},
	{"title", FIELD_TEXT, false, 0, CASE_TITLE_MAX, NULL, NULL, IN(title)},
	{"text", FIELD_TEXT, true, 1, CASE_TEXT_MAX, NULL, NULL, IN(text)},
	{"district", FIELD_TEXT, false, 0, CASE_DISTRICT_MAX, NULL, NULL, IN(district)},
	{"address", FIELD_TEXT, false, 0, CASE_ADDRESS_MAX, NULL, NULL, IN(address)},
	{"lat", FIELD_NUMBER, false, -90, 90, NULL, NULL, IN(lat)},
	{"lon", FIELD_NUMBER, false, -180, 180, NULL, NULL, IN(lon)},
	{"caller", FIELD_OBJECT, false, 0, 0, NULL, caller_fields, 0},
	{"department", FIELD_DEPARTMENT, false, 0, 0, NULL, NULL, IN(department)},
	{"answer", FIELD_TEXT, false, 1, CASE_TEXT_MAX, NULL, NULL, IN(answer)},
	{"kb", FIELD_INT, false, 1, CASE_ID_MAX, NULL, NULL, IN(kb)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};

static const FieldSpec no_fields[] = {
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec dispatch_fields[] = {
	{"department", FIELD_DEPARTMENT, true, 0, 0, NULL, NULL, ACT(department)},
	{"co", FIELD_CODES, false, 0, CASE_CO_MAX, NULL, NULL, ACT(co)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec text_fields[] = {
	{"text", FIELD_TEXT, true, 1, CASE_TEXT_MAX, NULL, NULL, ACT(text)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec review_fields[] = {
	{"approve", FIELD_BOOL, true, 0, 0, NULL, NULL, ACT(approve)},
	{"reason", FIELD_TEXT, false, 1, CASE_NOTE_MAX, NULL, NULL, ACT(reason)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};

const char *const case_decline_reasons[] = {
	"out_of_scope", "emergency", "judicial", "petition", "legislature", "repeat_no_new_facts", "malicious",
	"secret", NULL,
};
static const FieldSpec decline_fields[] = {
	{"reason", FIELD_ENUM, true, 0, 0, case_decline_reasons, NULL, ACT(reason)},
	{"note", FIELD_TEXT, false, 0, CASE_NOTE_MAX, NULL, NULL, ACT(note)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec return_fields[] = {
	{"reason", FIELD_TEXT, true, 1, CASE_NOTE_MAX, NULL, NULL, ACT(reason)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec optional_note_fields[] = {
	{"note", FIELD_TEXT, false, 0, CASE_NOTE_MAX, NULL, NULL, ACT(note)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec extend_fields[] = {
	{"workdays", FIELD_INT, true, 1, CASE_EXTEND_MAX_WORKDAYS, NULL, NULL, ACT(workdays)},
	{"reason", FIELD_TEXT, true, 1, CASE_NOTE_MAX, NULL, NULL, ACT(reason)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec reject_fields[] = {
	{"reason", FIELD_TEXT, false, 0, CASE_NOTE_MAX, NULL, NULL, ACT(reason)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec reply_fields[] = {
	{"text", FIELD_TEXT, true, 1, CASE_TEXT_MAX, NULL, NULL, ACT(text)},
	{"resolved", FIELD_BOOL, false, 0, 0, NULL, NULL, ACT(resolved)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec visit_fields[] = {
	{"score", FIELD_INT, true, 1, 5, NULL, NULL, ACT(score)},
	{"resolved", FIELD_BOOL, false, 0, 0, NULL, NULL, ACT(resolved)},
	{"comment", FIELD_TEXT, false, 0, CASE_NOTE_MAX, NULL, NULL, ACT(comment)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec supervise_fields[] = {
	{"note", FIELD_TEXT, true, 1, CASE_NOTE_MAX, NULL, NULL, ACT(note)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};
static const FieldSpec merge_fields[] = {
	{"into", FIELD_INT, true, 1, CASE_ID_MAX, NULL, NULL, ACT(into)},
	{NULL, 0, false, 0, 0, NULL, NULL, 0},
};

/* The body of each action; create is validated by case_input_create. */
static const FieldSpec *const action_fields[CASE_ACTION__COUNT] = {
	[CASE_CREATE] = NULL,
	[CASE_DISPATCH] = dispatch_fields,
	[CASE_SIGN] = no_fields,
	[CASE_RETURN] = return_fields,
	[CASE_CONTACT] = optional_note_fields,
	[CASE_EXTEND] = extend_fields,
	[CASE_APPROVE] = optional_note_fields,
	[CASE_REJECT] = reject_fields,
	[CASE_REPLY] = reply_fields,
	[CASE_VISIT] = visit_fields,
	[CASE_SUPERVISE] = supervise_fields,
	[CASE_MERGE] = merge_fields,
	[CASE_ASSIST] = text_fields,
	[CASE_SUSPEND] = return_fields,
	[CASE_RESUME] = no_fields,
	[CASE_REVIEW] = review_fields,
	[CASE_DECLINE] = decline_fields,
};

static bool validate_object(json_object *obj, const FieldSpec *spec, const char *prefix, void *out,
			    ApiError *err);
static bool validate_value(json_object *val, const FieldSpec *f, const char *path, void *out, ApiError *err);
static bool validate_string(json_object *val, const FieldSpec *f, const char *path, void *out,
			    ApiError *err);
static bool validate_codes(json_object *val, const FieldSpec *f, const char *path, void *out, ApiError *err);
static bool validate_number(json_object *val, const FieldSpec *f, const char *path, void *out,
			    ApiError *err);
static bool all_chars_in(const char *s, const char *allowed);
static void field_path(char *buf, const char *prefix, const char *name);
static void set_default_bool(OptBool *b, bool value);
static void add_string(json_object *obj, const char *key, const char *value);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
case_input_create(json_object *body, CaseInput *out, ApiError *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(body, json_type_object))
		return api_error_set(err, 400, "bad_json", NULL, "the body must be a JSON object");
	if (!validate_object(body, create_fields, "", out, err))
		return false;
	if (out->lat.set != out->lon.set) {
		const char *missing = out->lat.set ? "lon" : "lat";

		return api_error_set(err, 422, "missing_field", missing, "lat and lon go together: %s is missing",
				     missing);
	}
	if (out->answer && out->department)
		return api_error_set(err, 422, "invalid_field", "answer",
				     "a case answered on the call is not dispatched: give answer or department, not both");
	if (out->kb.set && !out->answer)
		return api_error_set(err, 422, "invalid_field", "kb",
				     "kb names the article a direct answer used: give it with answer");
	if (!out->channel)
		out->channel = "phone";
	if (!out->type)
		out->type = "complaint";
	set_default_bool(&out->urgent, false);
	set_default_bool(&out->caller_confidential, false);
	return true;
}

json_object *
case_input_to_json(const CaseInput *in)
{
	json_object *obj = json_object_new_object();
	json_object *caller = json_object_new_object();

	if (!obj || !caller) {
		json_object_put(obj);
		json_object_put(caller);
		return NULL;
	}
	add_string(obj, "channel", in->channel);
	add_string(obj, "type", in->type);
	json_object_object_add(obj, "urgent", json_object_new_boolean(in->urgent.value));
	add_string(obj, "category", in->category);
	add_string(obj, "title", in->title);
	add_string(obj, "text", in->text);
	add_string(obj, "district", in->district);
	add_string(obj, "address", in->address);
	if (in->lat.set) {
		json_object_object_add(obj, "lat", json_object_new_double(in->lat.value));
		json_object_object_add(obj, "lon", json_object_new_double(in->lon.value));
	}
	add_string(caller, "name", in->caller_name);
	add_string(caller, "phone", in->caller_phone);
	json_object_object_add(caller, "confidential", json_object_new_boolean(in->caller_confidential.value));
	json_object_object_add(obj, "caller", caller);
	add_string(obj, "department", in->department);
	add_string(obj, "answer", in->answer);
	if (in->kb.set)
		json_object_object_add(obj, "kb", json_object_new_int64(in->kb.value));
	return obj;
}

bool
case_input_action(CaseAction action, json_object *body, CaseActionInput *out, ApiError *err)
{
	memset(out, 0, sizeof(*out));
	if (action < 0 || action >= CASE_ACTION__COUNT || !action_fields[action])
		return api_error_set(err, 500, "internal", NULL, "no body for action %s", case_action_name(action));
	if (!json_object_is_type(body, json_type_object))
		return api_error_set(err, 400, "bad_json", NULL, "the body must be a JSON object");
	if (!validate_object(body, action_fields[action], "", out, err))
		return false;
	if (action == CASE_DISPATCH) {
		for (size_t i = 0; i < out->co.n; i++) {
			if (strcmp(out->co.code[i], out->department) == 0)
				return api_error_set(err, 422, "invalid_field", "co",
						     "the lead department %s cannot also be a co-department", out->department);
		}
	}
	if (action == CASE_REVIEW && !out->approve.value && !out->reason)
		return api_error_set(err, 422, "missing_field", "reason", "a review that sends the reply back needs a reason");
	if (action == CASE_REPLY)
		set_default_bool(&out->resolved, true);
	else if (action == CASE_VISIT)
		set_default_bool(&out->resolved, out->score.value >= CASE_SATISFIED_SCORE);
	return true;
}

/*
 *********************************
 * Helpers
 *********************************
 */

/*
 * Check every member of obj against spec (a NULL-named entry ends it): unknown
 * members first, so the answer names a stray field even when a required one is
 * also missing; then each spec entry in order.
 */
static bool
validate_object(json_object *obj, const FieldSpec *spec, const char *prefix, void *out, ApiError *err)
{
	char path[FIELD_PATH_MAX];

	json_object_object_foreach(obj, key, val) {
		const FieldSpec *f = spec;

		(void)val;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (!f->name) {
			field_path(path, prefix, key);
			return api_error_set(err, 422, "invalid_field", path, "unknown field %s", path);
		}
	}
	for (const FieldSpec *f = spec; f->name; f++) {
		json_object *val = NULL;

		/* the path only for the fields there (or missing and required): most are absent */
		if (!json_object_object_get_ex(obj, f->name, &val) || val == NULL) {
			if (!f->required)
				continue;
			field_path(path, prefix, f->name);
			return api_error_set(err, 422, "missing_field", path, "%s is required", path);
		}
		field_path(path, prefix, f->name);
		if (!validate_value(val, f, path, out, err))
			return false;
	}
	return true;
}

static bool
validate_value(json_object *val, const FieldSpec *f, const char *path, void *out, ApiError *err)
{
	switch (f->kind) {
	case FIELD_TEXT:
	case FIELD_ENUM:
	case FIELD_DEPARTMENT:
	case FIELD_CATEGORY:
	case FIELD_PHONE:
		return validate_string(val, f, path, out, err);
	case FIELD_NUMBER:
	case FIELD_INT:
		return validate_number(val, f, path, out, err);
	case FIELD_BOOL:
		if (!json_object_is_type(val, json_type_boolean))
			return api_error_set(err, 422, "invalid_field", path, "%s must be true or false", path);
		*(OptBool *)((char *)out + f->offset) = (OptBool){true, json_object_get_boolean(val)};
		return true;
	case FIELD_OBJECT:
		if (!json_object_is_type(val, json_type_object))
			return api_error_set(err, 422, "invalid_field", path, "%s must be an object", path);
		return validate_object(val, f->nested, path, out, err);
	case FIELD_CODES:
		return validate_codes(val, f, path, out, err);
	}
	return api_error_set(err, 500, "internal", path, "unknown field kind");
}

static bool
validate_string(json_object *val, const FieldSpec *f, const char *path, void *out, ApiError *err)
{
	const char *s;
	size_t len, nchars;

	if (!json_object_is_type(val, json_type_string))
		return api_error_set(err, 422, "invalid_field", path, "%s must be a string", path);
	s = json_object_get_string(val);
	len = (size_t)json_object_get_string_len(val);
	if (!utf8_validate(s, len, &nchars))
		return api_error_set(err, 422, "invalid_field", path, "%s must be valid UTF-8 without NUL", path);

	switch (f->kind) {
	case FIELD_ENUM: {
		const char *const *v = f->values;

		while (*v && strcmp(*v, s) != 0)
			v++;
		if (!*v)
			return api_error_set(err, 422, "invalid_field", path, "%s is not one of the known values",
					     path);
		break;
	}
	case FIELD_DEPARTMENT:
		if (!department_code_valid(s))
			return api_error_set(err, 422, "invalid_field", path,
					     "%s must be a department code: a lowercase letter, then up to %d lowercase "
					     "letters, digits or '_'", path, DEPARTMENT_CODE_MAX - 1);
		break;
	case FIELD_CATEGORY:
		if (!category_code_valid(s, NULL))
			return api_error_set(err, 422, "invalid_field", path,
					     "%s must be a category code: <department>.<two or more digits>", path);
		break;
	case FIELD_PHONE:
		if (nchars > f->max || !all_chars_in(s, "0123456789+-"))
			return api_error_set(err, 422, "invalid_field", path,
					     "%s must be at most %.0f digits, '+' or '-'", path, f->max);
		break;
	default:
		if (nchars < f->min || nchars > f->max)
			return api_error_set(err, 422, "invalid_field", path, "%s must be %.0f to %.0f characters",
					     path, f->min, f->max);
		break;
	}
	*(const char **)((char *)out + f->offset) = s;
	return true;
}

/* An array of at most f->max distinct department codes, each as FIELD_DEPARTMENT checks one. */
static bool
validate_codes(json_object *val, const FieldSpec *f, const char *path, void *out, ApiError *err)
{
	static const FieldSpec code = {"", FIELD_DEPARTMENT, true, 0, 0, NULL, NULL, 0};
	CodeList *list = (CodeList *)((char *)out + f->offset);
	size_t n;

	if (!json_object_is_type(val, json_type_array))
		return api_error_set(err, 422, "invalid_field", path, "%s must be an array of department codes", path);
	n = json_object_array_length(val);
	if (n > (size_t)f->max)
		return api_error_set(err, 422, "invalid_field", path, "%s holds at most %.0f departments", path, f->max);
	*list = (CodeList){.set = true};
	for (size_t i = 0; i < n; i++) {
		const char *s = NULL;

		/* every refusal names the list itself: its elements have no field of their own */
		if (!validate_string(json_object_array_get_idx(val, i), &code, path, &s, err))
			return false;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(list->code[j], s) == 0)
				return api_error_set(err, 422, "invalid_field", path, "%s names %s twice", path, s);
		}
		list->code[list->n++] = s;
	}
	return true;
}

/* Numbers: JSON ints and doubles alike; FIELD_INT also takes an integral double (4.0). */
static bool
validate_number(json_object *val, const FieldSpec *f, const char *path, void *out, ApiError *err)
{
	bool is_int = json_object_is_type(val, json_type_int);
	double d;

	if (!is_int && !json_object_is_type(val, json_type_double))
		return api_error_set(err, 422, "invalid_field", path, "%s must be a number", path);
	d = json_object_get_double(val);
	if (f->kind == FIELD_INT && !is_int && (!isfinite(d) || d != floor(d)))
		return api_error_set(err, 422, "invalid_field", path, "%s must be an integer", path);
	if (!isfinite(d) || d < f->min || d > f->max)
		return api_error_set(err, 422, "invalid_field", path, "%s must be between %.15g and %.15g", path,
				     f->min, f->max);
	if (f->kind == FIELD_INT)
		*(OptInt *)((char *)out + f->offset) =
			(OptInt){true, is_int ? json_object_get_int64(val) : (int64_t)d};
	else
		*(OptDouble *)((char *)out + f->offset) = (OptDouble){true, d};
	return true;
}

static bool
all_chars_in(const char *s, const char *allowed)
{
	return s[strspn(s, allowed)] == '\0';
}

/* "caller" + "name" -> "caller.name"; truncated to the ApiError field size. */
static void
field_path(char *buf, const char *prefix, const char *name)
{
	snprintf(buf, FIELD_PATH_MAX, "%s%s%s", prefix, *prefix ? "." : "", name);
	/* A long key cut to fit must not leave half a character: errors are UTF-8 JSON. */
	buf[utf8_prefix(buf, FIELD_PATH_MAX - 1)] = '\0';
}

static void
set_default_bool(OptBool *b, bool value)
{
	if (!b->set)
		*b = (OptBool){true, value};
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
	if (value)
		json_object_object_add(obj, key, json_object_new_string(value));
}
