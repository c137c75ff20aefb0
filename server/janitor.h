/*
 * janitor: one timer, once a second (as pgbouncer's), that gives every request a deadline
 * for waiting: a query waiting for a database connection, or a create waiting for an intake
 * transaction, longer than queue_timeout_ms is answered 503 `unavailable` with Retry-After
 * (through DB_TIMEOUT) and counted in hotline_queue_timeouts_total. So a request is answered
 * within about queue_timeout_ms + 1 s + statement_timeout_ms even when PostgreSQL stalls,
 * before nginx's or the client's patience runs out.
 */
#ifndef HOTLINE_JANITOR_H
#define HOTLINE_JANITOR_H

#include <stdbool.h>

#include "app.h"

/* Start the timer on app->base. False when it cannot be created. */
bool janitor_start(App *app);
void janitor_stop(void);

#endif
