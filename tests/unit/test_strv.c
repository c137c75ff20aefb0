/* Unit tests for core/strv: texts and byte strings (NULs inside) copied into one block, NULLs
 * kept, nothing shared with the sources, and the sizes it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/strv.h"

static void
test_texts_and_nulls(void **state)
{
	char a[] = "市民来电", b[] = "";
	const char *src[] = {a, NULL, b, "x"};
	char **v = strv_copy(src, NULL, 4);

	(void)state;
	assert_non_null(v);
	assert_string_equal(v[0], "市民来电");
	assert_null(v[1]);
	assert_string_equal(v[2], "");
	assert_string_equal(v[3], "x");
	assert_ptr_not_equal(v[0], a);
	a[0] = 'Z'; /* the copy does not follow its source */
	assert_string_equal(v[0], "市民来电");
	assert_true(v[3] > v[2] && v[2] > v[0]); /* in the block, in order */
	free(v);
}

static void
test_bytes_with_nuls(void **state)
{
	const char bin[] = {0, 0, 0, 1, 0, 'a'};
	const char *src[] = {bin, NULL, "ab"};
	const size_t len[] = {sizeof(bin), 0, 2};
	char **v = strv_copy(src, len, 3);

	(void)state;
	assert_non_null(v);
	assert_memory_equal(v[0], bin, sizeof(bin));
	assert_null(v[1]);
	assert_memory_equal(v[2], "ab", 2);
	assert_ptr_equal(v[2], v[0] + sizeof(bin));
	free(v);
}

static void
test_refused(void **state)
{
	const char *src[] = {"a", "b"};
	const size_t huge[] = {SIZE_MAX - 8, 16};

	(void)state;
	assert_null(strv_copy(src, NULL, 0));
	assert_null(strv_copy(src, huge, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts_and_nulls),
		cmocka_unit_test(test_bytes_with_nuls),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
