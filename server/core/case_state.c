/*
 * case_state: the state x action x role table of the case life cycle.
 *
 * Every rule of API.md's "States and actions" table (section 2) and of sections 9-12
 * (assist, suspend, resume, review, decline) is one cell below; nothing else in the
 * server decides whether an action is legal from a state.
 */
#include "core/case_state.h"

#include <string.h>

#define R(role) (1u << (role))
/* A target meaning "back to the state the case came from" (CaseMove.origin); never a case's state. */
#define TO_ORIGIN CASE_STATE__COUNT
#define OPEN_TO_SELF                                                                           \
	{                                                                                      \
		[CASE_PENDING] = CASE_PENDING, [CASE_DISPATCHED] = CASE_DISPATCHED,            \
		[CASE_ACCEPTED] = CASE_ACCEPTED, [CASE_REPLIED] = CASE_REPLIED,                \
		[CASE_REOPENED] = CASE_REOPENED, [CASE_ANSWERED] = CASE_ANSWERED,              \
		[CASE_SUSPENDED] = CASE_SUSPENDED, [CASE_REVIEWING] = CASE_REVIEWING           \
	}
#define OPEN_TO(target)                                                                        \
	{                                                                                      \
		[CASE_PENDING] = (target), [CASE_DISPATCHED] = (target),                       \
		[CASE_ACCEPTED] = (target), [CASE_REPLIED] = (target),                         \
		[CASE_REOPENED] = (target), [CASE_ANSWERED] = (target),                        \
		[CASE_SUSPENDED] = (target), [CASE_REVIEWING] = (target)                       \
	}

typedef struct ActionRow {
	const char *name;
	unsigned roles;
	bool own_department;
	/* Target per from-state; CASE_STATE_NONE (0) where the action is not allowed. */
	CaseState to[CASE_STATE__COUNT];
	/* Targets of the other outcome (see action_alternative); unused by most actions. */
	CaseState to_alt[CASE_STATE__COUNT];
} ActionRow;

static const ActionRow actions[CASE_ACTION__COUNT] = {
	[CASE_CREATE] = {"create", R(ROLE_OPERATOR) | R(ROLE_ADMIN), false, {0}, {0}},
	[CASE_DISPATCH] = {"dispatch", R(ROLE_OPERATOR) | R(ROLE_MANAGER), false,
			   {[CASE_PENDING] = CASE_DISPATCHED}, {0}},
	[CASE_SIGN] = {"sign", R(ROLE_DEPARTMENT), true,
		       {[CASE_DISPATCHED] = CASE_ACCEPTED}, {0}},
	[CASE_RETURN] = {"return", R(ROLE_DEPARTMENT), true,
			 {[CASE_DISPATCHED] = CASE_PENDING, [CASE_ACCEPTED] = CASE_PENDING}, {0}},
	[CASE_CONTACT] = {"contact", R(ROLE_DEPARTMENT), true,
			  {[CASE_ACCEPTED] = CASE_ACCEPTED, [CASE_REOPENED] = CASE_REOPENED}, {0}},
	[CASE_EXTEND] = {"extend", R(ROLE_DEPARTMENT), true,
			 {[CASE_ACCEPTED] = CASE_ACCEPTED, [CASE_REOPENED] = CASE_REOPENED}, {0}},
	[CASE_APPROVE] = {"approve", R(ROLE_MANAGER), false,
			  {[CASE_ACCEPTED] = CASE_ACCEPTED, [CASE_REOPENED] = CASE_REOPENED}, {0}},
	[CASE_REJECT] = {"reject", R(ROLE_MANAGER), false,
			 {[CASE_ACCEPTED] = CASE_ACCEPTED, [CASE_REOPENED] = CASE_REOPENED}, {0}},
	/* alternative: the policy asks for centre review */
	[CASE_REPLY] = {"reply", R(ROLE_DEPARTMENT), true,
			{[CASE_ACCEPTED] = CASE_REPLIED, [CASE_REOPENED] = CASE_REPLIED},
			{[CASE_ACCEPTED] = CASE_REVIEWING, [CASE_REOPENED] = CASE_REVIEWING}},
	/* alternative: a score below CASE_SATISFIED_SCORE */
	[CASE_VISIT] = {"visit", R(ROLE_OPERATOR), false,
			{[CASE_REPLIED] = CASE_CLOSED, [CASE_ANSWERED] = CASE_CLOSED},
			{[CASE_REPLIED] = CASE_REOPENED, [CASE_ANSWERED] = CASE_PENDING}},
	[CASE_SUPERVISE] = {"supervise", R(ROLE_MANAGER), false, OPEN_TO_SELF, {0}},
	[CASE_MERGE] = {"merge", R(ROLE_OPERATOR) | R(ROLE_MANAGER), false, OPEN_TO(CASE_MERGED), {0}},
	/* own_department false: the co-departments assist, never the lead (SQL checks the entry) */
	[CASE_ASSIST] = {"assist", R(ROLE_DEPARTMENT), false,
			 {[CASE_DISPATCHED] = CASE_DISPATCHED, [CASE_ACCEPTED] = CASE_ACCEPTED,
			  [CASE_REOPENED] = CASE_REOPENED},
			 {0}},
	[CASE_SUSPEND] = {"suspend", R(ROLE_DEPARTMENT), true,
			  {[CASE_ACCEPTED] = CASE_SUSPENDED, [CASE_REOPENED] = CASE_SUSPENDED}, {0}},
	[CASE_RESUME] = {"resume", R(ROLE_DEPARTMENT) | R(ROLE_MANAGER), true,
			 {[CASE_SUSPENDED] = TO_ORIGIN}, {0}},
	/* alternative: sent back (退回重办) */
	[CASE_REVIEW] = {"review", R(ROLE_OPERATOR) | R(ROLE_MANAGER), false,
			 {[CASE_REVIEWING] = CASE_REPLIED}, {[CASE_REVIEWING] = TO_ORIGIN}},
	[CASE_DECLINE] = {"decline", R(ROLE_OPERATOR) | R(ROLE_MANAGER), false,
			  {[CASE_PENDING] = CASE_CLOSED, [CASE_ANSWERED] = CASE_CLOSED}, {0}},
};

static const char *const state_names[CASE_STATE__COUNT] = {
	[CASE_STATE_NONE] = "none",
	[CASE_PENDING] = "pending",
	[CASE_DISPATCHED] = "dispatched",
	[CASE_ACCEPTED] = "accepted",
	[CASE_REPLIED] = "replied",
	[CASE_REOPENED] = "reopened",
	[CASE_ANSWERED] = "answered",
	[CASE_CLOSED] = "closed",
	[CASE_MERGED] = "merged",
	[CASE_SUSPENDED] = "suspended",
	[CASE_REVIEWING] = "reviewing",
};

static bool action_valid(CaseAction action);
static bool action_alternative(CaseAction action, const CaseMove *move);
static bool state_valid(CaseState state);

/*
 *********************************
 * Public functions
 *********************************
 */

const char *
case_state_name(CaseState state)
{
	return (state >= 0 && state < CASE_STATE__COUNT) ? state_names[state] : "unknown";
}

bool
case_state_parse(const char *name, CaseState *out)
{
	for (int s = CASE_PENDING; name && s < CASE_STATE__COUNT; s++) {
		if (strcmp(name, state_names[s]) == 0) {
			*out = (CaseState)s;
			return true;
		}
	}
	return false;
}

bool
case_state_open(CaseState state)
{
	return state_valid(state) && state != CASE_CLOSED && state != CASE_MERGED;
}

const char *
case_action_name(CaseAction action)
{
	return action_valid(action) ? actions[action].name : "unknown";
}

bool
case_action_parse(const char *name, CaseAction *out)
{
	for (int a = 0; name && a < CASE_ACTION__COUNT; a++) {
		if (strcmp(name, actions[a].name) == 0) {
			*out = (CaseAction)a;
			return true;
		}
	}
	return false;
}

unsigned
case_action_roles(CaseAction action)
{
	return action_valid(action) ? actions[action].roles : 0;
}

bool
case_action_allowed(CaseAction action, Role role)
{
	return role >= 0 && role < ROLE__COUNT && (case_action_roles(action) & R(role)) != 0;
}

bool
case_action_own_department(CaseAction action)
{
	return action_valid(action) && actions[action].own_department;
}

CaseState
case_action_target(CaseAction action, CaseState from, const CaseMove *move)
{
	static const CaseMove main_outcome = {0};
	CaseState to;

	if (!action_valid(action) || !state_valid(from))
		return CASE_STATE_NONE;
	if (!move)
		move = &main_outcome;
	to = action_alternative(action, move) ? actions[action].to_alt[from] : actions[action].to[from];
	if (to != TO_ORIGIN)
		return to;
	/* Back where it came from: only the states a suspension or a reply starts from. */
	return move->origin == CASE_ACCEPTED || move->origin == CASE_REOPENED ? move->origin : CASE_STATE_NONE;
}

size_t
case_action_from_states(CaseAction action, const char **names, size_t max)
{
	size_t n = 0;

	if (!action_valid(action))
		return 0;
	for (int s = CASE_PENDING; s < CASE_STATE__COUNT; s++) {
		if (actions[action].to[s] == CASE_STATE_NONE && actions[action].to_alt[s] == CASE_STATE_NONE)
			continue;
		if (n < max)
			names[n] = state_names[s];
		n++;
	}
	return n;
}

CaseState
case_create_state(bool answered, bool has_department)
{
	if (answered)
		return CASE_ANSWERED;
	return has_department ? CASE_DISPATCHED : CASE_PENDING;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static bool
action_valid(CaseAction action)
{
	return action >= 0 && action < CASE_ACTION__COUNT;
}

/* Whether the move asks for the action's other outcome (its to_alt row). */
static bool
action_alternative(CaseAction action, const CaseMove *move)
{
	switch (action) {
	case CASE_VISIT:
		return move->score < CASE_SATISFIED_SCORE;
	case CASE_REPLY:
		return move->review;
	case CASE_REVIEW:
		return move->send_back;
	default:
		return false;
	}
}

/* A real state: CASE_STATE_NONE is a marker, never a case's state. */
static bool
state_valid(CaseState state)
{
	return state > CASE_STATE_NONE && state < CASE_STATE__COUNT;
}
