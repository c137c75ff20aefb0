/*
 * Unit tests for core/form: percent-decoding, '+' as space, repeated keys, empty pairs and
 * values, and every malformed body refused with 400 naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/form.h"

static Form
parse_ok(const char *body)
{
	Form f;
	ApiError err;

	assert_true(form_parse(body, strlen(body), &f, &err));
	return f;
}

static void
test_decodes_names_and_values(void **state)
{
	Form f = parse_ok("description=%E5%B0%8F%E5%8C%BA+door%2Bgate&a%5Bb%5D=1%3D2&c");

	(void)state;
	assert_int_equal(f.count, 3);
	assert_string_equal(f.fields[0].name, "description");
	assert_string_equal(f.fields[0].value, "小区 door+gate");
	assert_string_equal(f.fields[1].name, "a[b]");
	assert_string_equal(f.fields[1].value, "1=2");
	assert_string_equal(f.fields[2].name, "c");
	assert_string_equal(f.fields[2].value, "");
	form_free(&f);
}

static void
test_empty_pairs_and_body(void **state)
{
	Form f = parse_ok("&&a=1&&");
	ApiError err;

	(void)state;
	assert_int_equal(f.count, 1);
	form_free(&f);
	assert_true(form_parse("", 0, &f, &err));
	assert_int_equal(f.count, 0);
	form_free(&f);
	/* not NUL-terminated: only len bytes count */
	assert_true(form_parse("a=12345", 3, &f, &err));
	assert_string_equal(f.fields[0].value, "1");
	form_free(&f);
}

static void
test_value_rules(void **state)
{
	Form f = parse_ok("a=1&b=&a=1&c=x&c=y&d=&d=2");
	const char *v = "unset";
	ApiError err;

	(void)state;
	assert_true(form_value(&f, "a", &v, &err));
	assert_string_equal(v, "1"); /* the same value twice is that value */
	assert_true(form_value(&f, "b", &v, &err));
	assert_null(v); /* empty is absent */
	assert_true(form_value(&f, "zzz", &v, &err));
	assert_null(v);
	assert_true(form_value(&f, "d", &v, &err));
	assert_string_equal(v, "2"); /* an empty repeat is no value */
	assert_false(form_value(&f, "c", &v, &err));
	assert_int_equal(err.status, 400);
	assert_string_equal(err.field, "c");
	form_free(&f);
}

static void
test_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"a=%",         /* escape cut short */
		"a=%4",        /* one digit */
		"a=%zz",       /* not hex */
		"a=%00",       /* NUL */
		"a=%C3%28",    /* invalid UTF-8 */
		"a=%ED%A0%80", /* a surrogate */
		"%ZZ=1",       /* broken name */
		"=1",          /* no name */
		"a=\xff",      /* raw invalid UTF-8 */
	};
	Form f;
	ApiError err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.status = 0;
		assert_false(form_parse(bad[i], strlen(bad[i]), &f, &err));
		assert_int_equal(err.status, 400);
		assert_int_equal(f.count, 0);
		assert_null(f.fields);
	}
	assert_false(form_parse("x=1&description=%G1", strlen("x=1&description=%G1"), &f, &err));
	assert_string_equal(err.field, "description");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decodes_names_and_values),
		cmocka_unit_test(test_empty_pairs_and_body),
		cmocka_unit_test(test_value_rules),
		cmocka_unit_test(test_malformed_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
