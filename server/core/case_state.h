/*
 * case_state: the case life cycle of API.md sections 2 and 9-12 as one table.
 *
 * Each action has the roles that may perform it, whether the actor must be the
 * case's own department, and for each from-state its target state. The HTTP layer
 * checks roles with it, and passes the from-states and their targets to the SQL
 * functions (`state = ANY($from)`), so the database guard and this table are the
 * same table.
 */
#ifndef HOTLINE_CORE_CASE_STATE_H
#define HOTLINE_CORE_CASE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/role.h"

typedef enum CaseState {
	CASE_STATE_NONE, /* "no state": before create, and "not allowed" in the table */
	CASE_PENDING,
	CASE_DISPATCHED,
	CASE_ACCEPTED,
	CASE_REPLIED,
	CASE_REOPENED,
	CASE_ANSWERED,
	CASE_CLOSED,
	CASE_MERGED,
	CASE_SUSPENDED, /* 挂起: the clocks stop (API.md section 10) */
	CASE_REVIEWING, /* 审核报结: the reply waits for the centre's review (section 11) */
	CASE_STATE__COUNT
} CaseState;

typedef enum CaseAction {
	CASE_CREATE,
	CASE_DISPATCH,
	CASE_SIGN,
	CASE_RETURN,
	CASE_CONTACT,
	CASE_EXTEND,
	CASE_APPROVE,
	CASE_REJECT,
	CASE_REPLY,
	CASE_VISIT,
	CASE_SUPERVISE,
	CASE_MERGE,
	CASE_ASSIST,  /* a co-department's part (section 9) */
	CASE_SUSPEND, /* section 10 */
	CASE_RESUME,
	CASE_REVIEW,  /* approve or send back a reply (section 11) */
	CASE_DECLINE, /* 不予受理 (section 12) */
	CASE_ACTION__COUNT
} CaseAction;

/* A visit with a score at or above this closes the case (3 基本满意). */
#define CASE_SATISFIED_SCORE 3

/* "pending", "dispatched", ...; "none" for CASE_STATE_NONE, "unknown" when out of range. */
const char *case_state_name(CaseState state);
/* Parse a state name (not "none"); false when unknown. */
bool case_state_parse(const char *name, CaseState *out) __attribute__((warn_unused_result));
/* True for every state but closed and merged (and none). */
bool case_state_open(CaseState state);

/* "create", "dispatch", ...; "unknown" when out of range. */
const char *case_action_name(CaseAction action);
bool case_action_parse(const char *name, CaseAction *out) __attribute__((warn_unused_result));

/* Roles that may perform the action, as a mask of (1u << role), like http/routes.h ROLE_BIT.
 * A department performs an own-department action only on a case it leads, and assist
 * only on a case it is a co-department of (the SQL functions check which). */
unsigned case_action_roles(CaseAction action);
bool case_action_allowed(CaseAction action, Role role);
/* True when only the department the case is assigned to may perform the action. */
bool case_action_own_department(CaseAction action);

/*
 * What decides between an action's outcomes, beyond its from-state. Each action reads
 * only its own member; zero ({0}) is the main outcome of every action but visit.
 */
typedef struct CaseMove {
	int score;        /* visit: closed when >= CASE_SATISFIED_SCORE, else reopened/pending */
	bool review;      /* reply: the policy asks for centre review (-> reviewing, not replied) */
	bool send_back;   /* review: 退回重办 (back to origin) instead of approve (-> replied) */
	CaseState origin; /* resume, review sent back: the state the case was suspended or
			     replied from (accepted or reopened; anything else is refused) */
} CaseMove;

/*
 * The state the action leads to from `from`, or CASE_STATE_NONE when the action is
 * not allowed from there (or move->origin is not a state it may go back to). Actions
 * that record without moving (contact, extend, approve, reject, supervise, assist)
 * lead back to `from`. Create has no from-state: see case_create_state.
 */
CaseState case_action_target(CaseAction action, CaseState from, const CaseMove *move);

/*
 * Fill names[0..] with the names of the states the action is allowed from (by any of
 * its outcomes), in enum order, and return how many; at most max are written (the count is still the
 * full one, so a caller detects truncation).
 */
size_t case_action_from_states(CaseAction action, const char **names, size_t max);

/*
 * The initial state of a new case: answered when the operator answered on the call,
 * dispatched when a department was chosen (explicitly or by routing), else pending.
 */
CaseState case_create_state(bool answered, bool has_department);

#endif
