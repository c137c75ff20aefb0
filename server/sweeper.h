/*
 * sweeper: the periodic deadline job (API.md section 4). Every sweep_interval
 * seconds one SQL call writes the deadline_warning and overdue history rows that
 * have come due, each exactly once per clock even with several servers on one
 * database (sql/006_sweeper.sql), and folds the rules' new dispatches into their
 * counts (sql/025_rule_counts_fold.sql); every few minutes it also deletes expired
 * idempotency keys. Never blocks the loop; a pass the database cannot answer is
 * skipped. Passes and rows are counted in metrics (metrics_sweep).
 */
#ifndef HOTLINE_SWEEPER_H
#define HOTLINE_SWEEPER_H

#include <stdbool.h>

#include "app.h"

/* Start the timer on app->base (the first pass runs one interval from now).
 * False when the timer cannot be created. */
bool sweeper_start(App *app) __attribute__((warn_unused_result));
/* Stop the timer; a pass still waiting for the database is ignored when it ends. */
void sweeper_stop(void);

#endif
