/*
 * sweeper: one timer, three jobs (see sweeper.h). Each runs at most once at a time:
 * a pass still waiting for the database when the timer fires again is not doubled.
 */
#include "sweeper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "metrics.h"
#include "sla_state.h"
#include "stream_hub.h"

/* Expired idempotency keys go at most this often (they live 24 hours). */
#define SWEEPER_REAP_SECONDS 600

typedef struct Sweeper {
	App *app;            /* NULL when stopped */
	struct event *timer;
	bool sweeping;       /* a sweep_deadlines() call is waiting for the database */
	bool reaping;        /* an idempotency_reap() call is waiting */
	bool folding;        /* a rule_counts_fold() call is waiting */
	bool db_trouble;     /* the last pass failed (log an outage once) */
	int passes_to_reap;  /* timer ticks until the next reap */
} Sweeper;

static Sweeper sw;

static void sweeper_tick_cb(evutil_socket_t fd, short what, void *arg);
static void sweeper_sweep(void);
static void sweeper_sweep_cb(const DbResult *r, void *arg);
static void sweeper_reap(void);
static void sweeper_reap_cb(const DbResult *r, void *arg);
static void sweeper_fold(void);
static void sweeper_fold_cb(const DbResult *r, void *arg);
static bool sweeper_job_answered(const DbResult *r, const char *job);
static void sweeper_settle(bool ok, const char *why);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
sweeper_start(App *app)
{
	struct timeval tv = {app->config->sweep_interval, 0};

	memset(&sw, 0, sizeof(sw));
	sw.timer = event_new(app->base, -1, EV_PERSIST, sweeper_tick_cb, NULL);
	if (!sw.timer)
		return false;
	sw.app = app;
	evtimer_add(sw.timer, &tv);
	log_info("sweeper: every %d s", app->config->sweep_interval);
	return true;
}

void
sweeper_stop(void)
{
	if (sw.timer)
		event_free(sw.timer);
	sw.timer = NULL;
	sw.app = NULL;
}

/*
 *********************************
 * Passes
 *********************************
 */

static void
sweeper_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!sw.sweeping)
		sweeper_sweep();
	if (!sw.folding)
		sweeper_fold();
	if (--sw.passes_to_reap <= 0) {
		int every = SWEEPER_REAP_SECONDS / sw.app->config->sweep_interval;

		sw.passes_to_reap = every > 0 ? every : 1;
		if (!sw.reaping)
			sweeper_reap();
	}
}

static void
sweeper_sweep(void)
{
	char warn_at[32];
	const char *params[] = {warn_at};

	snprintf(warn_at, sizeof(warn_at), "%.17g", sla_state_warn_at());
	sw.sweeping = db_pool_submit(sw.app->pool, "SELECT warnings, overdue FROM sweep_deadlines($1::float8)", 1,
				     params, sweeper_sweep_cb, NULL);
	if (!sw.sweeping)
		sweeper_settle(false, "the database is away or busy"); /* skip this pass */
}

static void
sweeper_sweep_cb(const DbResult *r, void *arg)
{
	unsigned warnings, overdue;

	(void)arg;
	sw.sweeping = false;
	if (!sw.app)
		return;
	if (r->status != DB_OK || PQntuples(r->res) != 1) {
		sweeper_settle(false, r->status == DB_FAILED ? r->message : "the database does not answer");
		return;
	}
	sweeper_settle(true, NULL);
	warnings = (unsigned)strtoul(PQgetvalue(r->res, 0, 0), NULL, 10);
	overdue = (unsigned)strtoul(PQgetvalue(r->res, 0, 1), NULL, 10);
	metrics_sweep(warnings, overdue);
	if (warnings || overdue) {
		log_info("sweeper: %u deadline_warning and %u overdue rows written", warnings, overdue);
		stream_hub_wrote(sw.app->streams);
	}
}

static void
sweeper_reap(void)
{
	sw.reaping = db_pool_submit(sw.app->pool, "SELECT idempotency_reap()", 0, NULL, sweeper_reap_cb, NULL);
}

static void
sweeper_reap_cb(const DbResult *r, void *arg)
{
	(void)arg;
	sw.reaping = false;
	if (sweeper_job_answered(r, "idempotency_reap"))
		log_debug("sweeper: %s expired idempotency keys deleted", PQgetvalue(r->res, 0, 0));
}

/* The rules' dispatch counts, folded in from the create events (sql/025_rule_counts_fold.sql):
 * the intake's transactions no longer count them, and rule_stats reads what is not folded yet
 * from the events, so the longer between folds, the more it reads. */
static void
sweeper_fold(void)
{
	sw.folding = db_pool_submit(sw.app->pool, "SELECT folded_after, folded_upto FROM rule_counts_fold()", 0,
				    NULL, sweeper_fold_cb, NULL);
}

static void
sweeper_fold_cb(const DbResult *r, void *arg)
{
	(void)arg;
	sw.folding = false;
	if (sweeper_job_answered(r, "rule_counts_fold"))
		log_debug("sweeper: create events %s..%s folded into rule_counts", PQgetvalue(r->res, 0, 0),
			  PQgetvalue(r->res, 0, 1));
}

/* Whether a job's call (while the sweeper runs) answered its one row. A failure is logged; a
 * database that is away is the sweep pass's to log, and the job runs again at its next turn. */
static bool
sweeper_job_answered(const DbResult *r, const char *job)
{
	if (!sw.app)
		return false;
	if (r->status == DB_FAILED)
		log_error("sweeper: %s failed: %s %s", job, r->sqlstate, r->message);
	return r->status == DB_OK && PQntuples(r->res) == 1;
}

/* Log a run of failed passes once when it starts and once when it ends. */
static void
sweeper_settle(bool ok, const char *why)
{
	if (!ok && !sw.db_trouble)
		log_warn("sweeper: pass failed (%s); skipping passes until one succeeds", why);
	else if (ok && sw.db_trouble)
		log_info("sweeper: passes succeed again");
	sw.db_trouble = !ok;
}
