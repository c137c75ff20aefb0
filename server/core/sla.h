/*
 * sla: the time-limit policy of API.md section 4 and the deadlines it gives.
 *
 * A policy is a plain value (no pointers, nothing to free), so the server can
 * hold the current one and replace it whole when an admin changes it:
 *   {"rules": [{"type": "*", "urgent": true, "sign": "30m", "contact": "2h",
 *               "finish": "24h"}, ...],
 *    "rectify": "5wd", "warn_at": 0.75, "review": false}
 * "review" is optional on input (false) and always written on output.
 * The first rule whose type (or "*") and urgent flag match a case applies.
 * A valid policy covers every (type, urgent) pair, so for a known case type
 * a rule always applies.
 *
 * Times follow workcal.h: instants are parameters, local dates come from the
 * process time zone.
 */
#ifndef HOTLINE_CORE_SLA_H
#define HOTLINE_CORE_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/workcal.h"

#define SLA_MAX_RULES 64
#define SLA_TYPE_MAX 16 /* longest type name ("suggestion") and its NUL, with room */

typedef struct SlaRule {
	char type[SLA_TYPE_MAX]; /* a case type, or "*" for any */
	bool urgent;
	Duration sign;    /* dispatch -> sign_by (签收) */
	Duration contact; /* dispatch -> contact_by (first contact, 响应) */
	Duration finish;  /* dispatch -> finish_by (reply, 办结) */
} SlaRule;

typedef struct SlaPolicy {
	size_t nrules;
	SlaRule rules[SLA_MAX_RULES];
	Duration rectify; /* reopen -> new finish_by (整改时限) */
	double warn_at;   /* fraction of a clock after which to warn, in (0, 1) */
	bool review;      /* a reply waits for the centre's review (API.md section 11) */
} SlaPolicy;

/* The clocks of a dispatch, as bits of a mask (a case stores which count working days). */
#define SLA_CLOCK_SIGN 1u
#define SLA_CLOCK_CONTACT 2u
#define SLA_CLOCK_FINISH 4u

/* Whether `type` is one of the case types: consult, complaint, help, report,
 * suggestion, praise ("*" is not a case type). */
bool sla_type_valid(const char *type);

/* The shipped default policy (the one API.md shows and 004 stores). */
void sla_policy_default(SlaPolicy *out);

/*
 * Parse and validate a policy body (PUT /v1/sla, or the stored jsonb).
 * Refuses with 422 and the field named:
 *   missing_field: "rules", "rectify", "warn_at", "rules[1].sign", ...
 *   invalid_field: an unknown member ("rules[0].colour", "extra"); "rules"
 *     not an array of 1..SLA_MAX_RULES objects; a type that is neither a case
 *     type nor "*" ("rules[2].type"); urgent not a boolean; a bad duration
 *     ("rules[1].finish", "rectify"); warn_at not a number strictly between
 *     0 and 1; a (type, urgent) pair no rule matches ("rules", message names
 *     the pair).
 * A body that is not an object is 400 bad_json. On success fills *out; on
 * failure *out is unspecified.
 */
bool sla_policy_from_json(json_object *body, SlaPolicy *out, ApiError *err) __attribute__((warn_unused_result));

/* The policy as GET /v1/sla answers it (durations in canonical text).
 * Returns a new object the caller releases with json_object_put(), or NULL
 * when out of memory. */
json_object *sla_policy_to_json(const SlaPolicy *p);

/* The first rule matching (type, urgent), or NULL when none does (an unknown
 * type; never for a known type under a validated policy). Points into p. */
const SlaRule *sla_pick(const SlaPolicy *p, const char *type, bool urgent);

/*
 * The three deadlines of a case dispatched at `dispatched_at`:
 * sign_by, contact_by, finish_by = dispatched_at + the picked rule's sign,
 * contact and finish durations (workcal_add). Returns false, leaving the
 * outputs alone, when no rule matches.
 */
bool sla_deadlines(const SlaPolicy *p, const Workcal *cal, const char *type, bool urgent,
		   time_t dispatched_at, time_t *sign_by, time_t *contact_by, time_t *finish_by) __attribute__((warn_unused_result));

/* finish_by of a case reopened at `reopened_at`: reopened_at + p->rectify. */
time_t sla_rectify_deadline(const SlaPolicy *p, const Workcal *cal, time_t reopened_at);

/*
 * finish_by after an approved extension of `workdays` working days:
 * 23:59:59 of the workdays-th working day after finish_by's local day (an
 * extension of 0 gives the end of that day). The handler bounds workdays to
 * 1..WORKCAL_MAX_WORKDAYS. Returns (time_t)-1 for a negative count.
 */
time_t sla_extend(const Workcal *cal, time_t finish_by, int workdays);

/* The clocks of a rule that count working days: SLA_CLOCK_* bits. */
unsigned sla_clock_workdays(const SlaRule *r);

/*
 * A deadline moved by a suspension from suspended_at to resumed_at (API.md section 10):
 *  - calendar time (workdays false): later by exactly resumed_at - suspended_at;
 *  - working days: W = the working days d with suspend date < d <= resume date (local
 *    dates); the new deadline is 23:59:59 of the Wth working day after the old
 *    deadline's date; W = 0 leaves it unchanged.
 * Returns (time_t)-1 when resumed_at is before suspended_at or a date cannot be had.
 */
time_t sla_resume_deadline(const Workcal *cal, time_t deadline, bool workdays, time_t suspended_at,
			   time_t resumed_at);

/*
 * When to warn about a clock that runs from `start` to `deadline`:
 * start + warn_at * (deadline - start), rounded down to the second.
 * A deadline at or before start gives the deadline.
 */
time_t sla_warn_time(time_t start, time_t deadline, double warn_at);

#endif
