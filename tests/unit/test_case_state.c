/*
 * Unit tests for core/case_state: every cell of the state x action and role x action
 * tables, written out here independently of the implementation's table, illegal
 * cells included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/case_state.h"

#define NSTATES 8
#define NACTIONS 12

static const char *const state_order[NSTATES] = {
	"pending", "dispatched", "accepted", "replied", "reopened", "answered", "closed", "merged",
};

/*
 * Expected target of each action from each state (columns in state_order), by name;
 * NULL = 409 illegal_transition. Visit is given for a satisfied score (>= 3) here and
 * for an unsatisfied one in visit_unsatisfied.
 */
static const struct {
	const char *action;
	const char *to[NSTATES];
} expected[NACTIONS] = {
	{"create", {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"dispatch", {"dispatched", NULL, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"sign", {NULL, "accepted", NULL, NULL, NULL, NULL, NULL, NULL}},
	{"return", {NULL, "pending", "pending", NULL, NULL, NULL, NULL, NULL}},
	{"contact", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL}},
	{"extend", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL}},
	{"approve", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL}},
	{"reject", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL}},
	{"reply", {NULL, NULL, "replied", NULL, "replied", NULL, NULL, NULL}},
	{"visit", {NULL, NULL, NULL, "closed", NULL, "closed", NULL, NULL}},
	{"supervise", {"pending", "dispatched", "accepted", "replied", "reopened", "answered", NULL, NULL}},
	{"merge", {"merged", "merged", "merged", "merged", "merged", "merged", NULL, NULL}},
};

static const char *const visit_unsatisfied[NSTATES] = {
	NULL, NULL, NULL, "reopened", NULL, "pending", NULL, NULL,
};

/* Who may do what (API.md "who"), columns operator, department, manager, admin. */
static const struct {
	const char *action;
	bool allowed[ROLE__COUNT];
	bool own_department;
} who[NACTIONS] = {
	{"create", {true, false, false, true}, false},
	{"dispatch", {true, false, true, false}, false},
	{"sign", {false, true, false, false}, true},
	{"return", {false, true, false, false}, true},
	{"contact", {false, true, false, false}, true},
	{"extend", {false, true, false, false}, true},
	{"approve", {false, false, true, false}, false},
	{"reject", {false, false, true, false}, false},
	{"reply", {false, true, false, false}, true},
	{"visit", {true, false, false, false}, false},
	{"supervise", {false, false, true, false}, false},
	{"merge", {true, false, true, false}, false},
};

static CaseAction
action_named(const char *name)
{
	CaseAction a = CASE_ACTION__COUNT;

	assert_true(case_action_parse(name, &a));
	assert_string_equal(case_action_name(a), name);
	return a;
}

static CaseState
state_named(const char *name)
{
	CaseState s = CASE_STATE_NONE;

	assert_true(case_state_parse(name, &s));
	assert_string_equal(case_state_name(s), name);
	return s;
}

static void
assert_target(const char *want, CaseState got)
{
	if (want)
		assert_string_equal(case_state_name(got), want);
	else
		assert_int_equal(got, CASE_STATE_NONE);
}

static void
test_names_round_trip(void **state)
{
	CaseState s;
	CaseAction a;

	(void)state;
	assert_int_equal(CASE_STATE__COUNT, NSTATES + 1);
	assert_int_equal(CASE_ACTION__COUNT, NACTIONS);
	for (int i = 0; i < NSTATES; i++)
		state_named(state_order[i]);
	for (int i = 0; i < NACTIONS; i++)
		action_named(expected[i].action);
	assert_false(case_state_parse("none", &s));
	assert_false(case_state_parse("Pending", &s));
	assert_false(case_state_parse("", &s));
	assert_false(case_state_parse(NULL, &s));
	assert_false(case_action_parse("close", &a));
	assert_false(case_action_parse(NULL, &a));
	assert_string_equal(case_state_name(CASE_STATE__COUNT), "unknown");
	assert_string_equal(case_action_name(CASE_ACTION__COUNT), "unknown");
	assert_string_equal(case_state_name(CASE_STATE_NONE), "none");
}

static void
test_every_state_action_cell(void **state)
{
	(void)state;
	for (int i = 0; i < NACTIONS; i++) {
		CaseAction a = action_named(expected[i].action);

		for (int j = 0; j < NSTATES; j++) {
			CaseState from = state_named(state_order[j]);
			/* scores 3..5 are satisfied: the table's main row */
			for (int score = CASE_SATISFIED_SCORE; score <= 5; score++)
				assert_target(expected[i].to[j], case_action_target(a, from, score));
			/* other actions ignore the score; visit uses its unsatisfied row */
			for (int score = 0; score < CASE_SATISFIED_SCORE; score++) {
				const char *want = a == CASE_VISIT ? visit_unsatisfied[j] : expected[i].to[j];

				assert_target(want, case_action_target(a, from, score));
			}
		}
		/* no action starts from "none" */
		assert_int_equal(case_action_target(a, CASE_STATE_NONE, 5), CASE_STATE_NONE);
	}
}

static void
test_from_states_match_cells(void **state)
{
	(void)state;
	for (int i = 0; i < NACTIONS; i++) {
		CaseAction a = action_named(expected[i].action);
		const char *names[NSTATES];
		size_t n = case_action_from_states(a, names, NSTATES), k = 0;

		for (int j = 0; j < NSTATES; j++) {
			if (!expected[i].to[j] && !(a == CASE_VISIT && visit_unsatisfied[j]))
				continue;
			assert_true(k < n);
			assert_string_equal(names[k], state_order[j]);
			k++;
		}
		assert_int_equal(n, k);
	}
}

static void
test_from_states_truncation(void **state)
{
	const char *names[2] = {NULL, NULL};

	(void)state;
	/* merge is allowed from six states: two are written, six are counted */
	assert_int_equal(case_action_from_states(CASE_MERGE, names, 2), 6);
	assert_string_equal(names[0], "pending");
	assert_string_equal(names[1], "dispatched");
	assert_int_equal(case_action_from_states(CASE_CREATE, names, 2), 0);
	assert_int_equal(case_action_from_states(CASE_ACTION__COUNT, names, 2), 0);
}

static void
test_every_role_action_cell(void **state)
{
	(void)state;
	for (int i = 0; i < NACTIONS; i++) {
		CaseAction a = action_named(who[i].action);
		unsigned mask = 0;

		for (int r = 0; r < ROLE__COUNT; r++) {
			assert_int_equal(case_action_allowed(a, (Role)r), who[i].allowed[r]);
			if (who[i].allowed[r])
				mask |= 1u << r;
		}
		assert_int_equal(case_action_roles(a), mask);
		assert_int_equal(case_action_own_department(a), who[i].own_department);
		assert_false(case_action_allowed(a, ROLE__COUNT));
	}
	assert_int_equal(case_action_roles(CASE_ACTION__COUNT), 0);
}

static void
test_open_states(void **state)
{
	(void)state;
	for (int j = 0; j < NSTATES; j++) {
		bool final = strcmp(state_order[j], "closed") == 0 || strcmp(state_order[j], "merged") == 0;

		assert_int_equal(case_state_open(state_named(state_order[j])), !final);
	}
	assert_false(case_state_open(CASE_STATE_NONE));
	assert_false(case_state_open(CASE_STATE__COUNT));
}

static void
test_create_state(void **state)
{
	(void)state;
	assert_int_equal(case_create_state(false, false), CASE_PENDING);
	assert_int_equal(case_create_state(false, true), CASE_DISPATCHED);
	assert_int_equal(case_create_state(true, false), CASE_ANSWERED);
	assert_int_equal(case_create_state(true, true), CASE_ANSWERED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_every_state_action_cell),
		cmocka_unit_test(test_from_states_match_cells),
		cmocka_unit_test(test_from_states_truncation),
		cmocka_unit_test(test_every_role_action_cell),
		cmocka_unit_test(test_open_states),
		cmocka_unit_test(test_create_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
