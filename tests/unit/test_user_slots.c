/* Unit tests for core/user_slots: the per-user cap of the slow-read lane. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/user_slots.h"

static void
test_per_user_cap_and_release(void **state)
{
	UserSlots *us = user_slots_new(4, 2);

	(void)state;
	assert_true(user_slots_take(us, 7));
	assert_true(user_slots_take(us, 7));
	assert_false(user_slots_take(us, 7));   /* the third at once */
	assert_true(user_slots_take(us, 8));    /* another user is not held back */
	user_slots_release(us, 7);
	assert_true(user_slots_take(us, 7));
	user_slots_free(us);
}

static void
test_holders_bounded_and_freed_entries_reused(void **state)
{
	UserSlots *us = user_slots_new(2, 1);

	(void)state;
	assert_true(user_slots_take(us, 1));
	assert_true(user_slots_take(us, 2));
	assert_false(user_slots_take(us, 3));   /* two users hold slots: no room for a third */
	user_slots_release(us, 1);
	assert_true(user_slots_take(us, 3));
	user_slots_release(us, 99);             /* holds nothing: no effect */
	assert_false(user_slots_take(us, 2));
	user_slots_free(us);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_user_cap_and_release),
		cmocka_unit_test(test_holders_bounded_and_freed_entries_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
