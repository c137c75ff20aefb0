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

#define NSTATES 10
#define NACTIONS 17

static const char *const state_order[NSTATES] = {
	"pending", "dispatched", "accepted", "replied", "reopened", "answered", "closed", "merged",
	"suspended", "reviewing",
};

/*
 * Expected target of each action from each state (columns in state_order), by name;
 * NULL = 409 illegal_transition. The main outcome here (visit satisfied, reply without
 * review, review approved, resume of a case suspended from accepted); the others below.
 */
static const struct {
	const char *action;
	const char *to[NSTATES];
} expected[NACTIONS] = {
	{"create", {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"dispatch", {"dispatched", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"sign", {NULL, "accepted", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"return", {NULL, "pending", "pending", NULL, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"contact", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL, NULL, NULL}},
	{"extend", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL, NULL, NULL}},
	{"approve", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL, NULL, NULL}},
	{"reject", {NULL, NULL, "accepted", NULL, "reopened", NULL, NULL, NULL, NULL, NULL}},
	{"reply", {NULL, NULL, "replied", NULL, "replied", NULL, NULL, NULL, NULL, NULL}},
	{"visit", {NULL, NULL, NULL, "closed", NULL, "closed", NULL, NULL, NULL, NULL}},
	{"supervise", {"pending", "dispatched", "accepted", "replied", "reopened", "answered", NULL, NULL,
		       "suspended", "reviewing"}},
	{"merge", {"merged", "merged", "merged", "merged", "merged", "merged", NULL, NULL, "merged", "merged"}},
	{"assist", {NULL, "dispatched", "accepted", NULL, "reopened", NULL, NULL, NULL, NULL, NULL}},
	{"suspend", {NULL, NULL, "suspended", NULL, "suspended", NULL, NULL, NULL, NULL, NULL}},
	{"resume", {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "accepted", NULL}},
	{"review", {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "replied"}},
	{"decline", {"closed", NULL, NULL, NULL, NULL, "closed", NULL, NULL, NULL, NULL}},
};

/* The other outcomes: visit scored below 3, reply under review, review sent back. */
static const char *const visit_unsatisfied[NSTATES] = {
	NULL, NULL, NULL, "reopened", NULL, "pending", NULL, NULL, NULL, NULL,
};
static const char *const reply_reviewed[NSTATES] = {
	NULL, NULL, "reviewing", NULL, "reviewing", NULL, NULL, NULL, NULL, NULL,
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
	{"assist", {false, true, false, false}, false},
	{"suspend", {false, true, false, false}, true},
	{"resume", {false, true, true, false}, true},
	{"review", {true, false, true, false}, false},
	{"decline", {true, false, true, false}, false},
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

/* The target of action a from `from` for each outcome the move can ask for. */
static void
test_every_state_action_cell(void **state)
{
	(void)state;
	for (int i = 0; i < NACTIONS; i++) {
		CaseAction a = action_named(expected[i].action);

		for (int j = 0; j < NSTATES; j++) {
			CaseState from = state_named(state_order[j]);
			const char *main_to = expected[i].to[j];
			CaseMove m = {.origin = CASE_ACCEPTED};

			/* scores 3..5 are satisfied: the table's main row */
			for (m.score = CASE_SATISFIED_SCORE; m.score <= 5; m.score++)
				assert_target(main_to, case_action_target(a, from, &m));
			/* other actions ignore the score; visit uses its unsatisfied row */
			for (m.score = 0; m.score < CASE_SATISFIED_SCORE; m.score++)
				assert_target(a == CASE_VISIT ? visit_unsatisfied[j] : main_to,
					      case_action_target(a, from, &m));
			m = (CaseMove){.score = 5, .review = true, .origin = CASE_ACCEPTED};
			assert_target(a == CASE_REPLY ? reply_reviewed[j] : main_to, case_action_target(a, from, &m));
			/* a review sent back goes where the reply came from: accepted here */
			m = (CaseMove){.score = 5, .send_back = true, .origin = CASE_ACCEPTED};
			assert_target(a == CASE_REVIEW && from == CASE_REVIEWING ? "accepted" : main_to,
				      case_action_target(a, from, &m));
		}
		/* no action starts from "none" */
		assert_int_equal(case_action_target(a, CASE_STATE_NONE, &(CaseMove){.score = 5}), CASE_STATE_NONE);
	}
}

/* Resume and a sent-back review go back to the origin, which must be accepted or reopened. */
static void
test_back_to_origin(void **state)
{
	CaseMove m = {.send_back = true};

	(void)state;
	m.origin = CASE_REOPENED;
	assert_int_equal(case_action_target(CASE_RESUME, CASE_SUSPENDED, &m), CASE_REOPENED);
	assert_int_equal(case_action_target(CASE_REVIEW, CASE_REVIEWING, &m), CASE_REOPENED);
	m.origin = CASE_ACCEPTED;
	assert_int_equal(case_action_target(CASE_RESUME, CASE_SUSPENDED, &m), CASE_ACCEPTED);
	for (int j = 0; j < NSTATES; j++) {
		m.origin = state_named(state_order[j]);
		if (m.origin == CASE_ACCEPTED || m.origin == CASE_REOPENED)
			continue;
		assert_int_equal(case_action_target(CASE_RESUME, CASE_SUSPENDED, &m), CASE_STATE_NONE);
		assert_int_equal(case_action_target(CASE_REVIEW, CASE_REVIEWING, &m), CASE_STATE_NONE);
	}
	m.origin = CASE_STATE_NONE;
	assert_int_equal(case_action_target(CASE_RESUME, CASE_SUSPENDED, &m), CASE_STATE_NONE);
	/* approving ignores the origin; a NULL move is the main outcome */
	m.send_back = false;
	assert_int_equal(case_action_target(CASE_REVIEW, CASE_REVIEWING, &m), CASE_REPLIED);
	assert_int_equal(case_action_target(CASE_REPLY, CASE_ACCEPTED, NULL), CASE_REPLIED);
	assert_int_equal(case_action_target(CASE_RESUME, CASE_SUSPENDED, NULL), CASE_STATE_NONE);
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
	/* merge is allowed from eight states: two are written, eight are counted */
	assert_int_equal(case_action_from_states(CASE_MERGE, names, 2), 8);
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
		cmocka_unit_test(test_back_to_origin),
		cmocka_unit_test(test_from_states_match_cells),
		cmocka_unit_test(test_from_states_truncation),
		cmocka_unit_test(test_every_role_action_cell),
		cmocka_unit_test(test_open_states),
		cmocka_unit_test(test_create_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
