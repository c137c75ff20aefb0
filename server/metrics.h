/*
 * metrics: process-wide counters exported in the Prometheus text format at /metrics.
 * Loop-thread only (the server has one thread), so plain integers suffice.
 */
#ifndef HOTLINE_METRICS_H
#define HOTLINE_METRICS_H

#include <stddef.h>

#include "db/batch.h"
#include "db/pool.h"

/* Count one answered request; route is the matched pattern or "unmatched". */
void metrics_request(const char *method, const char *route, int status, double ms);
void metrics_connection_opened(void);
void metrics_connection_closed(void);
void metrics_connection_rejected(void);
void metrics_connection_timed_out(void);
/* Event streams (GET /v1/stream): opened, closed (by either side), dropped for not reading,
 * and events sent. */
void metrics_stream_opened(void);
void metrics_stream_closed(void);
void metrics_stream_dropped(void);
void metrics_stream_events(unsigned long long n);
/* Count a sweeper pass and the history rows it wrote. */
void metrics_sweep(unsigned warnings, unsigned overdue);
/* Count requests the janitor answered 503 for waiting too long (janitor.h). */
void metrics_queue_timeouts(unsigned n);

/* Render everything; returns a malloc'd NUL-terminated string the caller frees (NULL on OOM). */
char *metrics_render(const DbPoolStats *pool, const DbPoolStats *reads, const DbPoolStats *intake,
		     const DbBatchStats *intakes);

#endif
