/*
 * Unit tests for core/pg_array: quoting of every element, NULL, the two escaped characters,
 * text PostgreSQL would otherwise read as syntax, UTF-8 untouched, and a long array.
 * (That PostgreSQL reads them back as sent is checked by tests/integration/test_intake_batch.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/pg_array.h"

static void
expect_literal(const char *const *values, size_t n, const char *want)
{
	char *got = pg_array_literal(values, n);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_empty_and_single(void **state)
{
	const char *one[] = {"abc"};

	(void)state;
	expect_literal(NULL, 0, "{}");
	expect_literal(one, 1, "{\"abc\"}");
}

static void
test_null_is_bare_and_text_null_is_quoted(void **state)
{
	const char *values[] = {NULL, "NULL", "", NULL};

	(void)state;
	expect_literal(values, 4, "{NULL,\"NULL\",\"\",NULL}");
}

static void
test_quotes_and_backslashes_escaped(void **state)
{
	const char *values[] = {"say \"hi\"", "C:\\dir\\", "\\\"", "{\"a\": [1, \"b\\n\"]}"};

	(void)state;
	expect_literal(values, 4,
		       "{\"say \\\"hi\\\"\",\"C:\\\\dir\\\\\",\"\\\\\\\"\",\"{\\\"a\\\": [1, \\\"b\\\\n\\\"]}\"}");
}

static void
test_syntax_characters_left_inside_quotes(void **state)
{
	const char *values[] = {"a,b", "{x}", " padded ", "'; DROP TABLE cases; --", "市民来电 😀"};

	(void)state;
	expect_literal(values, 5,
		       "{\"a,b\",\"{x}\",\" padded \",\"'; DROP TABLE cases; --\",\"市民来电 😀\"}");
}

static void
test_long_array(void **state)
{
	enum { N = 2000 };
	const char *values[N];
	char *got;

	(void)state;
	for (size_t i = 0; i < N; i++)
		values[i] = i % 2 ? "x" : NULL;
	got = pg_array_literal(values, N);
	assert_non_null(got);
	/* "{" + N/2 * "NULL" + N/2 * "\"x\"" + (N - 1) commas + "}" */
	assert_int_equal(strlen(got), 2 + (N / 2) * 4 + (N / 2) * 3 + (N - 1));
	assert_memory_equal(got, "{NULL,\"x\",NULL", 14);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_null_is_bare_and_text_null_is_quoted),
		cmocka_unit_test(test_quotes_and_backslashes_escaped),
		cmocka_unit_test(test_syntax_characters_left_inside_quotes),
		cmocka_unit_test(test_long_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
