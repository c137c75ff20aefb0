/* test_loadgen_schedule: the open-loop schedule of bench/loadgen (bench/loadgen_schedule.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../bench/loadgen_schedule.h"

/* Before the clock starts nothing is due: the count once wrapped around to every request, and
 * loadgen sent them at full speed while its connections opened. */
static void
test_nothing_due_before_the_start(void **state)
{
	(void)state;
	assert_int_equal(schedule_due(99.8, 100.0, 300, 2400), 0);
	assert_int_equal(schedule_due(0, 100.0, 1000, 30000), 0);
}

/* Request n is due at t0 + n / rate; the count stops at the total. */
static void
test_due_by_the_rate_up_to_the_total(void **state)
{
	(void)state;
	assert_int_equal(schedule_due(100.0, 100.0, 300, 2400), 1);
	assert_int_equal(schedule_due(100.5, 100.0, 300, 2400), 151);
	assert_int_equal(schedule_due(107.999, 100.0, 300, 2400), 2400);
	assert_int_equal(schedule_due(200.0, 100.0, 300, 2400), 2400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_due_before_the_start),
		cmocka_unit_test(test_due_by_the_rate_up_to_the_total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
