/* Unit tests for core/codes: department and category code syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/codes.h"

static void
test_department_codes(void **state)
{
	char longest[DEPARTMENT_CODE_MAX + 2];

	(void)state;
	assert_true(department_code_valid("urban_mgmt"));
	assert_true(department_code_valid("a"));
	assert_true(department_code_valid("dept_2"));
	assert_false(department_code_valid(""));
	assert_false(department_code_valid("2dept"));
	assert_false(department_code_valid("_x"));
	assert_false(department_code_valid("Urban"));
	assert_false(department_code_valid("urban-mgmt"));
	assert_false(department_code_valid("urban_mgmt.01"));
	assert_false(department_code_valid("城管"));
	memset(longest, 'a', DEPARTMENT_CODE_MAX);
	longest[DEPARTMENT_CODE_MAX] = '\0';
	assert_true(department_code_valid(longest));
	longest[DEPARTMENT_CODE_MAX] = 'a';
	longest[DEPARTMENT_CODE_MAX + 1] = '\0';
	assert_false(department_code_valid(longest));
}

static void
test_category_codes(void **state)
{
	size_t n = 0;

	(void)state;
	assert_true(category_code_valid("urban_mgmt.01", &n));
	assert_int_equal(n, strlen("urban_mgmt"));
	assert_true(category_code_valid("a.123456", NULL));
	assert_false(category_code_valid("urban_mgmt.1", NULL));
	assert_false(category_code_valid("urban_mgmt", NULL));
	assert_false(category_code_valid("urban_mgmt.", NULL));
	assert_false(category_code_valid("urban_mgmt.01a", NULL));
	assert_false(category_code_valid("Urban.01", NULL));
	assert_false(category_code_valid(".01", NULL));
	assert_false(category_code_valid("a.b.01", NULL));
	assert_false(category_code_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.01234567890123456789012", NULL)); /* 64 */
	assert_true(category_code_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0123456789012345678901", NULL));  /* 63 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_department_codes),
		cmocka_unit_test(test_category_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
