/*
 * fuzz_body: a request body as the server reads it: json_body_parse, then the create
 * validation (case_input), every action body, and the users body.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * - every refusal is a well-formed contract error (fuzz_check_refusal);
 * - an accepted create body's canonical form (case_input_to_json, what is stored and
 *   hashed for Idempotency-Key) is valid again and is a fixed point: validating it
 *   gives the same canonical text, so a retry with the same body always hashes alike.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/case_input.h"
#include "core/json_body.h"
#include "core/user_input.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_create(json_object *body)
{
	CaseInput in, again;
	ApiError err;
	json_object *canon, *back, *canon2;
	const char *text, *text2;

	memset(&err, 0, sizeof(err));
	if (!case_input_create(body, &in, &err)) {
		fuzz_check_refusal(&err);
		return;
	}
	FUZZ_ASSERT(in.channel && in.type && in.text, "defaults filled in");
	FUZZ_ASSERT(in.urgent.set && in.caller_confidential.set, "boolean defaults filled in");
	FUZZ_ASSERT(in.lat.set == in.lon.set, "lat and lon together");
	FUZZ_ASSERT(!(in.answer && in.department), "answer excludes department");
	canon = case_input_to_json(&in);
	FUZZ_ASSERT(canon != NULL, "canonical form built");
	back = fuzz_round_trip(canon, &text);
	FUZZ_ASSERT(case_input_create(back, &again, &err), "the canonical form is valid");
	canon2 = case_input_to_json(&again);
	FUZZ_ASSERT(canon2 != NULL, "canonical form built again");
	text2 = json_object_to_json_string_ext(canon2, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	FUZZ_ASSERT(strcmp(text, text2) == 0, "the canonical form is a fixed point");
	json_object_put(canon2);
	json_object_put(back);
	json_object_put(canon);
}

static void
check_actions(json_object *body)
{
	for (int a = CASE_DISPATCH; a < CASE_ACTION__COUNT; a++) {
		CaseActionInput act;
		ApiError err;

		memset(&err, 0, sizeof(err));
		if (!case_input_action((CaseAction)a, body, &act, &err)) {
			fuzz_check_refusal(&err);
			continue;
		}
		if (a == CASE_REPLY || a == CASE_VISIT)
			FUZZ_ASSERT(act.resolved.set, "resolved defaulted");
		if (a == CASE_VISIT)
			FUZZ_ASSERT(act.score.set && act.score.value >= 1 && act.score.value <= 5, "score 1..5");
		if (a == CASE_EXTEND)
			FUZZ_ASSERT(act.workdays.set && act.workdays.value >= 1 &&
					    act.workdays.value <= CASE_EXTEND_MAX_WORKDAYS, "workdays in range");
		if (a == CASE_MERGE)
			FUZZ_ASSERT(act.into.set && act.into.value > 0, "merge target positive");
	}
}

static void
check_user(json_object *body)
{
	UserInput user;
	ApiError err;

	memset(&err, 0, sizeof(err));
	if (!user_input_parse(body, &user, &err))
		fuzz_check_refusal(&err);
	else
		FUZZ_ASSERT(user.name && user.name[0], "user name present");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body = NULL;
	ApiError err;

	memset(&err, 0, sizeof(err));
	if (!json_body_parse((const char *)data, size, &body, &err)) {
		FUZZ_ASSERT(body == NULL, "no object on refusal");
		fuzz_check_parse((const char *)data, size, NULL, &err);
		return 0;
	}
	fuzz_check_parse((const char *)data, size, body, &err);
	FUZZ_ASSERT(json_object_is_type(body, json_type_object), "parsed body is an object");
	check_create(body);
	check_actions(body);
	check_user(body);
	json_object_put(body);
	return 0;
}
