/* sla: parse, validate and apply the time-limit policy. */
#include "core/sla.h"

#include <stdio.h>
#include <string.h>

#define FIELD_MAX 64

static const char *const case_types[] = {
	"consult", "complaint", "help", "report", "suggestion", "praise",
};
#define N_CASE_TYPES (sizeof(case_types) / sizeof(case_types[0]))

static const SlaRule default_rules[] = {
	{"*", true, {DURATION_MINUTES, 30}, {DURATION_HOURS, 2}, {DURATION_HOURS, 24}},
	{"consult", false, {DURATION_WORKDAYS, 1}, {DURATION_WORKDAYS, 1}, {DURATION_WORKDAYS, 2}},
	{"help", false, {DURATION_WORKDAYS, 1}, {DURATION_WORKDAYS, 1}, {DURATION_WORKDAYS, 5}},
	{"*", false, {DURATION_WORKDAYS, 1}, {DURATION_WORKDAYS, 2}, {DURATION_WORKDAYS, 10}},
};

static const char *const rule_members[] = {"type", "urgent", "sign", "contact", "finish"};
static const char *const policy_members[] = {"rules", "rectify", "warn_at", "review"};

static bool only_members(json_object *obj, const char *const *allowed, size_t n, const char *prefix,
			 ApiError *err);
static bool member(json_object *obj, const char *key, const char *field, json_type type,
		   const char *what, json_object **out, ApiError *err);
static bool duration_member(json_object *obj, const char *key, const char *field, Duration *out,
			    ApiError *err);
static bool rules_from_json(json_object *body, SlaPolicy *out, ApiError *err);
static bool rule_from_json(json_object *obj, size_t i, SlaRule *out, ApiError *err);
static const char *rule_field(char *buf, size_t i, const char *name);
static bool check_coverage(const SlaPolicy *p, ApiError *err);
static bool add_duration(json_object *obj, const char *key, Duration d);
static json_object *rule_to_json(const SlaRule *r);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
sla_type_valid(const char *type)
{
	size_t i;

	for (i = 0; type && i < N_CASE_TYPES; i++)
		if (strcmp(type, case_types[i]) == 0)
			return true;
	return false;
}

void
sla_policy_default(SlaPolicy *out)
{
	memset(out, 0, sizeof(*out));
	out->nrules = sizeof(default_rules) / sizeof(default_rules[0]);
	memcpy(out->rules, default_rules, sizeof(default_rules));
	out->rectify = (Duration){DURATION_WORKDAYS, 5};
	out->warn_at = 0.75;
}

bool
sla_policy_from_json(json_object *body, SlaPolicy *out, ApiError *err)
{
	json_object *warn, *review = NULL;

	if (!json_object_is_type(body, json_type_object))
		return api_error_set(err, 400, "bad_json", NULL, "the SLA policy must be a JSON object");
	memset(out, 0, sizeof(*out));
	if (!only_members(body, policy_members, 4, "", err) || !rules_from_json(body, out, err) ||
	    !duration_member(body, "rectify", "rectify", &out->rectify, err))
		return false;
	/* json-c types 1 as an int and 0.75 as a double; either is a number here. */
	if (!json_object_object_get_ex(body, "warn_at", &warn))
		return api_error_set(err, 422, "missing_field", "warn_at", "warn_at is required");
	if (!json_object_is_type(warn, json_type_double) && !json_object_is_type(warn, json_type_int))
		return api_error_set(err, 422, "invalid_field", "warn_at", "warn_at must be a number");
	out->warn_at = json_object_get_double(warn);
	if (!(out->warn_at > 0.0 && out->warn_at < 1.0))
		return api_error_set(err, 422, "invalid_field", "warn_at",
				     "warn_at must be greater than 0 and less than 1");
	/* review is optional (false): policies stored before section 11 have none */
	if (json_object_object_get_ex(body, "review", &review) &&
	    !member(body, "review", "review", json_type_boolean, "true or false", &review, err))
		return false;
	out->review = review && json_object_get_boolean(review);
	return check_coverage(out, err);
}

json_object *
sla_policy_to_json(const SlaPolicy *p)
{
	json_object *obj = json_object_new_object();
	json_object *rules = json_object_new_array();
	json_object *rule, *warn;
	char text[32];
	size_t i;

	if (!obj || !rules)
		goto fail;
	for (i = 0; i < p->nrules; i++) {
		rule = rule_to_json(&p->rules[i]);
		if (!rule || json_object_array_add(rules, rule) != 0) {
			json_object_put(rule);
			goto fail;
		}
	}
	if (json_object_object_add(obj, "rules", rules) != 0)
		goto fail;
	rules = NULL;
	/* Keep the short text ("0.75"), not json-c's 17 significant digits. */
	snprintf(text, sizeof(text), "%.15g", p->warn_at);
	warn = json_object_new_double_s(p->warn_at, text);
	if (!add_duration(obj, "rectify", p->rectify) || !warn ||
	    json_object_object_add(obj, "warn_at", warn) != 0) {
		json_object_put(warn);
		goto fail;
	}
	if (json_object_object_add(obj, "review", json_object_new_boolean(p->review)) != 0)
		goto fail;
	return obj;
fail:
	json_object_put(rules);
	json_object_put(obj);
	return NULL;
}

const SlaRule *
sla_pick(const SlaPolicy *p, const char *type, bool urgent)
{
	size_t i;

	if (!sla_type_valid(type))
		return NULL;
	for (i = 0; i < p->nrules; i++) {
		const SlaRule *r = &p->rules[i];

		if (r->urgent == urgent && (strcmp(r->type, "*") == 0 || strcmp(r->type, type) == 0))
			return r;
	}
	return NULL;
}

bool
sla_deadlines(const SlaPolicy *p, const Workcal *cal, const char *type, bool urgent,
	      time_t dispatched_at, time_t *sign_by, time_t *contact_by, time_t *finish_by)
{
	const SlaRule *r = sla_pick(p, type, urgent);

	if (!r)
		return false;
	*sign_by = workcal_add(cal, dispatched_at, r->sign);
	*contact_by = workcal_add(cal, dispatched_at, r->contact);
	*finish_by = workcal_add(cal, dispatched_at, r->finish);
	return true;
}

time_t
sla_rectify_deadline(const SlaPolicy *p, const Workcal *cal, time_t reopened_at)
{
	return workcal_add(cal, reopened_at, p->rectify);
}

time_t
sla_extend(const Workcal *cal, time_t finish_by, int workdays)
{
	return workcal_add(cal, finish_by, (Duration){DURATION_WORKDAYS, workdays});
}

unsigned
sla_clock_workdays(const SlaRule *r)
{
	return (r->sign.unit == DURATION_WORKDAYS ? SLA_CLOCK_SIGN : 0u) |
	       (r->contact.unit == DURATION_WORKDAYS ? SLA_CLOCK_CONTACT : 0u) |
	       (r->finish.unit == DURATION_WORKDAYS ? SLA_CLOCK_FINISH : 0u);
}

time_t
sla_resume_deadline(const Workcal *cal, time_t deadline, bool workdays, time_t suspended_at, time_t resumed_at)
{
	int w;

	if (resumed_at < suspended_at)
		return (time_t)-1;
	if (!workdays)
		return deadline + (resumed_at - suspended_at);
	w = workcal_workdays_between(cal, suspended_at, resumed_at);
	if (w < 0)
		return (time_t)-1;
	return w == 0 ? deadline : workcal_add(cal, deadline, (Duration){DURATION_WORKDAYS, w});
}

time_t
sla_warn_time(time_t start, time_t deadline, double warn_at)
{
	if (deadline <= start)
		return deadline;
	/* The product is positive, so truncation is rounding down. */
	return start + (time_t)(warn_at * (double)(deadline - start));
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* Refuse the first member of obj not in allowed; prefix ("rules[0].") names it. */
static bool
only_members(json_object *obj, const char *const *allowed, size_t n, const char *prefix, ApiError *err)
{
	char field[FIELD_MAX];
	size_t i;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; i < n && strcmp(key, allowed[i]) != 0; i++)
			;
		if (i == n) {
			snprintf(field, sizeof(field), "%s%s", prefix, key);
			return api_error_set(err, 422, "invalid_field", field, "%s is not a field of %s",
					     field, *prefix ? "an SLA rule" : "the SLA policy");
		}
	}
	return true;
}

/* Fetch obj[key] of the given JSON type into *out; missing_field or
 * invalid_field ("must be <what>") naming `field` otherwise. */
static bool
member(json_object *obj, const char *key, const char *field, json_type type, const char *what,
       json_object **out, ApiError *err)
{
	if (!json_object_object_get_ex(obj, key, out))
		return api_error_set(err, 422, "missing_field", field, "%s is required", field);
	if (!json_object_is_type(*out, type))
		return api_error_set(err, 422, "invalid_field", field, "%s must be %s", field, what);
	return true;
}

static bool
duration_member(json_object *obj, const char *key, const char *field, Duration *out, ApiError *err)
{
	json_object *val;

	return member(obj, key, field, json_type_string, "a duration like \"2h\" or \"3wd\"", &val,
		      err) &&
	       workcal_duration_parse(json_object_get_string(val), field, out, err);
}

static bool
rules_from_json(json_object *body, SlaPolicy *out, ApiError *err)
{
	json_object *rules;
	size_t i, n;

	if (!member(body, "rules", "rules", json_type_array, "an array of rules", &rules, err))
		return false;
	n = json_object_array_length(rules);
	if (n < 1 || n > SLA_MAX_RULES)
		return api_error_set(err, 422, "invalid_field", "rules", "rules must hold 1 to %d rules",
				     SLA_MAX_RULES);
	for (i = 0; i < n; i++)
		if (!rule_from_json(json_object_array_get_idx(rules, i), i, &out->rules[i], err))
			return false;
	out->nrules = n;
	return true;
}

static bool
rule_from_json(json_object *obj, size_t i, SlaRule *out, ApiError *err)
{
	char prefix[FIELD_MAX], field[FIELD_MAX];
	json_object *val;
	const char *type;

	snprintf(prefix, sizeof(prefix), "rules[%zu]", i);
	if (!json_object_is_type(obj, json_type_object))
		return api_error_set(err, 422, "invalid_field", prefix, "%s must be an object", prefix);
	if (!only_members(obj, rule_members, 5, rule_field(prefix, i, ""), err))
		return false;

	if (!member(obj, "type", rule_field(field, i, "type"), json_type_string,
		    "a case type or \"*\"", &val, err))
		return false;
	type = json_object_get_string(val);
	if (strcmp(type, "*") != 0 && !sla_type_valid(type))
		return api_error_set(err, 422, "invalid_field", field,
				     "%s must be \"*\" or one of consult, complaint, help, report, suggestion, praise",
				     field);
	snprintf(out->type, sizeof(out->type), "%s", type);

	if (!member(obj, "urgent", rule_field(field, i, "urgent"), json_type_boolean, "true or false",
		    &val, err))
		return false;
	out->urgent = json_object_get_boolean(val);

	return duration_member(obj, "sign", rule_field(field, i, "sign"), &out->sign, err) &&
	       duration_member(obj, "contact", rule_field(field, i, "contact"), &out->contact, err) &&
	       duration_member(obj, "finish", rule_field(field, i, "finish"), &out->finish, err);
}

/* "rules[i].<name>" into buf (FIELD_MAX bytes); returns buf. */
static const char *
rule_field(char *buf, size_t i, const char *name)
{
	snprintf(buf, FIELD_MAX, "rules[%zu].%s", i, name);
	return buf;
}

/* Every case must get deadlines: refuse a policy that leaves a pair unmatched. */
static bool
check_coverage(const SlaPolicy *p, ApiError *err)
{
	size_t i;
	int urgent;

	for (i = 0; i < N_CASE_TYPES; i++)
		for (urgent = 0; urgent <= 1; urgent++)
			if (!sla_pick(p, case_types[i], urgent))
				return api_error_set(err, 422, "invalid_field", "rules",
						     "no rule applies to type %s with urgent %s", case_types[i],
						     urgent ? "true" : "false");
	return true;
}

static bool
add_duration(json_object *obj, const char *key, Duration d)
{
	char text[DURATION_TEXT_MAX];
	json_object *s = json_object_new_string(workcal_duration_format(d, text, sizeof(text)));

	if (!s || json_object_object_add(obj, key, s) != 0) {
		json_object_put(s);
		return false;
	}
	return true;
}

static json_object *
rule_to_json(const SlaRule *r)
{
	json_object *obj = json_object_new_object();
	json_object *type = json_object_new_string(r->type);
	json_object *urgent = json_object_new_boolean(r->urgent);

	if (!obj || !type || !urgent)
		goto fail;
	if (json_object_object_add(obj, "type", type) != 0)
		goto fail;
	type = NULL;
	if (json_object_object_add(obj, "urgent", urgent) != 0)
		goto fail;
	urgent = NULL;
	if (!add_duration(obj, "sign", r->sign) || !add_duration(obj, "contact", r->contact) ||
	    !add_duration(obj, "finish", r->finish))
		goto fail;
	return obj;
fail:
	json_object_put(type);
	json_object_put(urgent);
	json_object_put(obj);
	return NULL;
}
