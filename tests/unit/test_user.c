/* Unit tests for core/user: a name longer than the buffer is cut between characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/user.h"
#include "core/utf8.h"

static void
test_contract_longest_name_fits_whole(void **state)
{
	char name[USER_NAME_MAX_CHARS * 4 + 1] = "";
	User u;

	(void)state;
	for (int i = 0; i < USER_NAME_MAX_CHARS; i++)
		strcat(name, "\xf0\x9f\x98\x80"); /* 100 four-byte characters */
	user_set_name(&u, name);
	assert_string_equal(u.name, name);
}

static void
test_longer_name_is_cut_on_a_character_boundary(void **state)
{
	char name[600] = "";
	size_t nchars;
	User u;

	(void)state;
	for (int i = 0; i < 150; i++)
		strcat(name, "\xe9\x95\xbf"); /* 长: 450 bytes */
	user_set_name(&u, name);
	assert_true(utf8_validate(u.name, strlen(u.name), &nchars));
	assert_int_equal(nchars, 133); /* 399 bytes of the 400 that fit */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract_longest_name_fits_whole),
		cmocka_unit_test(test_longer_name_is_cut_on_a_character_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
