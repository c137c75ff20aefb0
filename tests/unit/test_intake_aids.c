/*
 * Unit tests for core/intake_aids: phones and case numbers of a path, the caller-flag body,
 * and article bodies on create and on update (limits in characters, not bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/intake_aids.h"

static json_object *
parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static void
assert_article(const char *text, bool create, bool ok, const char *code, const char *field)
{
	json_object *body = parse(text);
	ApiError err = {0};

	assert_int_equal(intake_article_check(body, create, &err), ok);
	if (!ok) {
		assert_int_equal(err.status, 422);
		assert_string_equal(err.code, code);
		assert_string_equal(err.field, field);
	}
	json_object_put(body);
}

/* {"title": t, "body": <n copies of ch>} */
static char *
article_with_body(const char *ch, size_t n)
{
	size_t len = strlen(ch) * n + 64;
	char *text = malloc(len);
	size_t off;

	assert_non_null(text);
	off = (size_t)snprintf(text, len, "{\"title\": \"t\", \"body\": \"");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, len - off, "%s", ch);
	snprintf(text + off, len - off, "\"}");
	return text;
}

static void
test_phone(void **state)
{
	(void)state;
	assert_true(intake_phone_valid("13800000000"));
	assert_true(intake_phone_valid("+86-138-0000-0000"));
	assert_true(intake_phone_valid("12345678901234567890"));
	assert_false(intake_phone_valid("123456789012345678901"));
	assert_false(intake_phone_valid(""));
	assert_false(intake_phone_valid("138abc"));
	assert_false(intake_phone_valid("138 0000"));
	assert_false(intake_phone_valid("１３８"));
}

static void
test_case_number(void **state)
{
	(void)state;
	assert_true(intake_case_number_valid("20261128-000042"));
	assert_false(intake_case_number_valid("20261128000042"));
	assert_false(intake_case_number_valid("20261128-00004"));
	assert_false(intake_case_number_valid("20261128-0000421"));
	assert_false(intake_case_number_valid("2026112a-000042"));
	assert_false(intake_case_number_valid("20261128-00004x"));
	assert_false(intake_case_number_valid("20261128_000042"));
	assert_false(intake_case_number_valid(""));
}

static void
test_flag(void **state)
{
	const char *kind, *note;
	ApiError err;
	json_object *body;

	(void)state;
	body = parse("{\"kind\": \"malicious\", \"note\": \"多次辱骂\"}");
	assert_true(intake_flag_parse(body, &kind, &note, &err));
	assert_string_equal(kind, "malicious");
	assert_string_equal(note, "多次辱骂");
	json_object_put(body);
	body = parse("{\"kind\": \"repeat\"}");
	assert_true(intake_flag_parse(body, &kind, &note, &err));
	assert_null(note);
	json_object_put(body);
	for (const char *const *bad = (const char *const[]){"{}", "{\"kind\": null}", NULL}; *bad; bad++) {
		body = parse(*bad);
		assert_false(intake_flag_parse(body, &kind, &note, &err));
		assert_string_equal(err.code, "missing_field");
		json_object_put(body);
	}
	for (const char *const *bad = (const char *const[]){"{\"kind\": \"angry\"}", "{\"kind\": 1}",
							   "{\"kind\": \"repeat\", \"x\": 1}",
							   "{\"kind\": \"repeat\", \"note\": 5}", NULL};
	     *bad; bad++) {
		body = parse(*bad);
		assert_false(intake_flag_parse(body, &kind, &note, &err));
		assert_string_equal(err.code, "invalid_field");
		json_object_put(body);
	}
}

static void
test_article_create(void **state)
{
	(void)state;
	assert_article("{\"title\": \"停电报修\", \"body\": \"拨打95598\", \"tags\": [\"停电\"], "
		       "\"department\": \"power_supply\", \"enabled\": true}", true, true, NULL, NULL);
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"department\": null}", true, true, NULL, NULL);
	assert_article("{\"body\": \"b\"}", true, false, "missing_field", "title");
	assert_article("{\"title\": \"t\"}", true, false, "missing_field", "body");
	assert_article("{\"title\": \"\", \"body\": \"b\"}", true, false, "invalid_field", "title");
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"tags\": [1]}", true, false, "invalid_field", "tags");
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"tags\": {}}", true, false, "invalid_field", "tags");
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"department\": \"Urban\"}", true, false, "invalid_field",
		       "department");
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"department\": 7}", true, false, "invalid_field",
		       "department");
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"enabled\": 1}", true, false, "invalid_field", "enabled");
	assert_article("{\"title\": \"t\", \"body\": \"b\", \"version\": 1}", true, false, "invalid_field", "version");
}

static void
test_article_limits_in_characters(void **state)
{
	char *text;

	(void)state;
	text = article_with_body("中", KB_BODY_MAX);
	assert_article(text, true, true, NULL, NULL);
	free(text);
	text = article_with_body("中", KB_BODY_MAX + 1);
	assert_article(text, true, false, "invalid_field", "body");
	free(text);
	text = malloc(4 * (KB_TITLE_MAX + 1) + 32);
	assert_non_null(text);
	strcpy(text, "{\"body\": \"b\", \"title\": \"");
	for (int i = 0; i < KB_TITLE_MAX + 1; i++)
		strcat(text, "题");
	strcat(text, "\"}");
	assert_article(text, true, false, "invalid_field", "title");
	free(text);
}

static void
test_article_update(void **state)
{
	(void)state;
	assert_article("{\"body\": \"新正文\"}", false, true, NULL, NULL);
	assert_article("{\"enabled\": false}", false, true, NULL, NULL);
	assert_article("{\"department\": null}", false, true, NULL, NULL);
	assert_article("{}", false, false, "missing_field", "title");
	assert_article("{\"title\": null}", false, false, "missing_field", "title");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_case_number),
		cmocka_unit_test(test_flag),
		cmocka_unit_test(test_article_create),
		cmocka_unit_test(test_article_limits_in_characters),
		cmocka_unit_test(test_article_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
