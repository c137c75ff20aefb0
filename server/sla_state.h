/*
 * sla_state: the SLA policy and the working-day calendar in force, loaded from the
 * database at start and reloaded when their versions change, so every deadline the
 * server computes uses the same rules the admin last saved. Times are Unix seconds;
 * the process time zone is the configured one (main.c sets TZ). The mechanism is
 * db/reloader's.
 */
#ifndef HOTLINE_SLA_STATE_H
#define HOTLINE_SLA_STATE_H

#include <stdbool.h>
#include <time.h>

#include "app.h"
#include "core/sla.h"

bool sla_state_start(App *app) __attribute__((warn_unused_result));
void sla_state_stop(void);
/* Ask for a reload now (after this server changed the policy or a calendar). */
void sla_state_reload(void);
/* The same, and call done(arg) on the loop thread once a load that started after this call
 * has ended, successfully or not, or could not start (see reloader_reload_then): a writer
 * answers its client only then, so the client's next request sees the change. done may run
 * before this returns. */
void sla_state_reload_then(void (*done)(void *arg), void *arg);

/* The three clocks of a dispatch at `at` for a case of this type and urgency.
 * False until the policy is loaded, or for an unknown type. */
bool sla_state_deadlines(const char *type, bool urgent, time_t at, time_t *sign_by, time_t *contact_by,
			 time_t *finish_by) __attribute__((warn_unused_result));
/* Which of those clocks count working days (SLA_CLOCK_* bits); false as sla_state_deadlines. */
bool sla_state_clock_workdays(const char *type, bool urgent, unsigned *out) __attribute__((warn_unused_result));
/* finish_by of a case reopened at `at` (整改时限). */
bool sla_state_rectify(time_t at, time_t *finish_by) __attribute__((warn_unused_result));
/* finish_by moved by n approved working days. */
bool sla_state_extend(time_t finish_by, int workdays, time_t *out) __attribute__((warn_unused_result));
/* A copy of the policy in force (its review flag, its rules' clock kinds); false until loaded. */
bool sla_state_policy(SlaPolicy *out) __attribute__((warn_unused_result));
/* A deadline moved by a suspension from `since` to `until` (core sla_resume_deadline). */
bool sla_state_resume(time_t deadline, bool workdays, time_t since, time_t until, time_t *out)
	__attribute__((warn_unused_result));
/* The policy's warn_at fraction (0..1), for the sweeper. */
double sla_state_warn_at(void);
/* True once the policy and calendars have been loaded (for /readyz). */
bool sla_state_loaded(void);

#endif
