/*
 * case_input: validation of the JSON bodies of API.md section 2 (create and actions).
 *
 * Each body is checked against a table of its fields: unknown fields, wrong JSON
 * types, lengths (in characters), enumerations and ranges are refused with a 422
 * ApiError naming the field ("caller.phone" for nested ones); a missing required
 * field is missing_field. JSON null counts as absent. Strings in the outputs point
 * into the json_object that was validated: they live as long as it does.
 *
 * Limits not fixed by API.md: note, reason and comment are at most 1000 characters;
 * a reply's and an assist's text 1 to 4000 like a case's; extension 1 to 60 working
 * days. A dispatch's co is an array of 0 to 5 distinct codes without the lead
 * department (every refusal names field "co").
 */
#ifndef HOTLINE_CORE_CASE_INPUT_H
#define HOTLINE_CORE_CASE_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/case_state.h"

#define CASE_TEXT_MAX 4000
#define CASE_TITLE_MAX 200
#define CASE_DISTRICT_MAX 50
#define CASE_ADDRESS_MAX 200
#define CASE_CALLER_NAME_MAX 50
#define CASE_PHONE_MAX 20
#define CASE_NOTE_MAX 1000     /* note, reason, comment */
#define CASE_EXTEND_MAX_WORKDAYS 60
#define CASE_CO_MAX 5          /* co-departments of one dispatch (API.md section 9) */

typedef struct OptBool {
	bool set;
	bool value;
} OptBool;

typedef struct OptDouble {
	bool set;
	double value;
} OptDouble;

typedef struct OptInt {
	bool set;
	int64_t value;
} OptInt;

/* A validated create body; defaults applied (channel, type, urgent, confidential). */
typedef struct CaseInput {
	const char *channel;     /* never NULL after validation */
	const char *type;        /* never NULL after validation */
	OptBool urgent;          /* always set after validation */
	const char *category;    /* NULL when absent, likewise below */
	const char *title;
	const char *text;        /* never NULL after validation */
	const char *district;
	const char *address;
	OptDouble lat, lon;      /* both set or neither */
	const char *caller_name;
	const char *caller_phone;
	OptBool caller_confidential; /* always set after validation */
	const char *department;  /* dispatch directly there */
	const char *answer;      /* the operator answered on the call; excludes department */
	OptInt kb;               /* the knowledge-base article of that answer; only with answer */
} CaseInput;

/* A list of department codes: distinct, at most CASE_CO_MAX. */
typedef struct CodeList {
	bool set;
	size_t n;
	const char *code[CASE_CO_MAX];
} CodeList;

/* A validated action body; which fields apply depends on the action. */
typedef struct CaseActionInput {
	const char *department; /* dispatch: required */
	CodeList co;            /* dispatch: optional, never holding department */
	const char *reason;     /* return, extend, suspend, decline: required; reject: optional;
				   review: required when approve is false */
	const char *note;       /* supervise: required; contact, approve, decline: optional */
	const char *text;       /* reply, assist: required */
	OptBool approve;        /* review: required */
	const char *comment;    /* visit: optional */
	OptInt workdays;        /* extend: required, 1..60 */
	OptInt score;           /* visit: required, 1..5 */
	OptInt into;            /* merge: required, a positive case id */
	OptBool resolved;       /* reply: default true; visit: default score >= 3; set after validation */
} CaseActionInput;

/* The reasons a request may be declined for (section 12): "out_of_scope", ...; NULL-terminated. */
extern const char *const case_decline_reasons[];

/*
 * Validate a create body. body must be a JSON object (the HTTP layer refuses
 * anything else as bad_json). Returns true and fills *out, or false with err set.
 */
bool case_input_create(json_object *body, CaseInput *out, ApiError *err) __attribute__((warn_unused_result));

/*
 * The validated create input as a new JSON object with the defaults filled in and
 * absent fields left out: what is stored, and hashed for Idempotency-Key. Caller
 * frees it with json_object_put. NULL only when out of memory.
 */
json_object *case_input_to_json(const CaseInput *in);

/*
 * Validate the body of an action other than create; an empty object is valid
 * where the action requires no field. Returns true and fills *out, or false with
 * err set (also for CASE_CREATE, which has its own function).
 */
bool case_input_action(CaseAction action, json_object *body, CaseActionInput *out, ApiError *err) __attribute__((warn_unused_result));

#endif
