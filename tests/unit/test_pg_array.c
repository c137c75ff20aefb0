/*
 * Unit tests for core/pg_array: quoting of every element, NULL, the two escaped characters,
 * text PostgreSQL would otherwise read as syntax, UTF-8 untouched, and a long array; the
 * binary form byte for byte (header, NULLs, each element type) and the values it refuses.
 * (That PostgreSQL reads both back as sent is checked by tests/integration/test_intake_batch.py.)
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

/* The binary form of values as elem, compared with want (len bytes). */
static void
expect_binary(const char *const *values, size_t n, PgArrayElem elem, const void *want, size_t len)
{
	size_t got_len = 0;
	unsigned char *got = pg_array_binary(values, n, elem, &got_len);

	assert_non_null(got);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
	free(got);
}

static void
expect_refused(const char *value, PgArrayElem elem)
{
	const char *values[] = {"1", value};
	size_t len = 0;

	assert_null(pg_array_binary(values, 2, elem, &len));
}

static void
test_binary_int8_with_null(void **state)
{
	const char *values[] = {"1", NULL, "-2", "9223372036854775807"};
	static const unsigned char want[] = {
		0, 0, 0, 1,  0, 0, 0, 1,  0, 0, 0, 20,  0, 0, 0, 4,  0, 0, 0, 1, /* 1 dim, NULLs, int8, 4 from 1 */
		0, 0, 0, 8,  0, 0, 0, 0, 0, 0, 0, 1,
		0xff, 0xff, 0xff, 0xff,                                            /* NULL */
		0, 0, 0, 8,  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0, 0, 0, 8,  0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};

	(void)state;
	expect_binary(values, 4, PG_ARRAY_INT8, want, sizeof(want));
}

static void
test_binary_int2_text_and_jsonb(void **state)
{
	const char *kinds[] = {"7", "-32768"};
	static const unsigned char int2[] = {
		0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 21,  0, 0, 0, 2,  0, 0, 0, 1,
		0, 0, 0, 2,  0, 7,
		0, 0, 0, 2,  0x80, 0,
	};
	/* text goes as it is: quotes, commas, braces and NULL need nothing in the binary form */
	const char *texts[] = {"{\"a\",NULL}", "路灯"};
	static const unsigned char text[] = {
		0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,  0, 0, 0, 2,  0, 0, 0, 1,
		0, 0, 0, 10,  '{', '"', 'a', '"', ',', 'N', 'U', 'L', 'L', '}',
		0, 0, 0, 6,  0xe8, 0xb7, 0xaf, 0xe7, 0x81, 0xaf,
	};
	const char *json[] = {"{\"k\": 1}"};
	static const unsigned char jsonb[] = {
		0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0x0e, 0xda,  0, 0, 0, 1,  0, 0, 0, 1,
		0, 0, 0, 9,  1, '{', '"', 'k', '"', ':', ' ', '1', '}',            /* version 1, the text */
	};
	static const unsigned char empty[] = {0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 25};

	(void)state;
	expect_binary(kinds, 2, PG_ARRAY_INT2, int2, sizeof(int2));
	expect_binary(texts, 2, PG_ARRAY_TEXT, text, sizeof(text));
	expect_binary(json, 1, PG_ARRAY_JSONB, jsonb, sizeof(jsonb));
	expect_binary(NULL, 0, PG_ARRAY_TEXT, empty, sizeof(empty));
}

static void
test_binary_refuses_what_is_not_its_type(void **state)
{
	(void)state;
	expect_refused("", PG_ARRAY_INT8);
	expect_refused("-", PG_ARRAY_INT8);
	expect_refused("12a", PG_ARRAY_INT8);
	expect_refused(" 1", PG_ARRAY_INT8);
	expect_refused("+1", PG_ARRAY_INT8);
	expect_refused("9223372036854775808", PG_ARRAY_INT8);
	expect_refused("32768", PG_ARRAY_INT2);
	expect_refused("-32769", PG_ARRAY_INT2);
	expect_refused("1", PG_ARRAY_LITERAL);
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
		cmocka_unit_test(test_binary_int8_with_null),
		cmocka_unit_test(test_binary_int2_text_and_jsonb),
		cmocka_unit_test(test_binary_refuses_what_is_not_its_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
