/* metrics: request counters by route and status, a latency histogram, connection and pool gauges. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_SERIES 512

typedef struct RequestSeries {
	const char *method;   /* static strings: route patterns live in the route tables */
	const char *route;
	int status;
	unsigned long long count;
} RequestSeries;

static const double latency_bounds_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
#define LATENCY_BUCKETS (sizeof(latency_bounds_ms) / sizeof(latency_bounds_ms[0]))

static struct {
	RequestSeries series[METRICS_MAX_SERIES];
	int nseries;
	unsigned long long dropped_series;
	unsigned long long latency_buckets[LATENCY_BUCKETS];
	unsigned long long latency_count;
	double latency_sum_s;
	int open_connections;
	unsigned long long connections_total, connections_rejected, connections_timed_out;
	unsigned long long sweeps, sweep_warnings, sweep_overdue;
	int open_streams;
	unsigned long long streams_total, streams_dropped, stream_events;
	unsigned long long queue_timeouts;
} m;

typedef struct Out {
	char *buf;
	size_t len, cap;
	int failed;
} Out;

static void out_printf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void
metrics_request(const char *method, const char *route, int status, double ms)
{
	int i;

	for (i = 0; i < m.nseries; i++) {
		RequestSeries *s = &m.series[i];

		if (s->status == status && strcmp(s->route, route) == 0 && strcmp(s->method, method) == 0)
			break;
	}
	if (i == m.nseries) {
		if (m.nseries == METRICS_MAX_SERIES) {
			m.dropped_series++;
			i = -1;
		} else {
			m.series[m.nseries++] = (RequestSeries){method, route, status, 0};
		}
	}
	if (i >= 0)
		m.series[i].count++;
	for (size_t b = 0; b < LATENCY_BUCKETS; b++)
		if (ms <= latency_bounds_ms[b])
			m.latency_buckets[b]++;
	m.latency_count++;
	m.latency_sum_s += ms / 1000.0;
}

void
metrics_stream_opened(void)
{
	m.open_streams++;
	m.streams_total++;
}

void
metrics_stream_closed(void)
{
	m.open_streams--;
}

void
metrics_stream_dropped(void)
{
	m.streams_dropped++;
}

void
metrics_stream_events(unsigned long long n)
{
	m.stream_events += n;
}

void
metrics_connection_opened(void)
{
	m.open_connections++;
	m.connections_total++;
}

void
metrics_connection_closed(void)
{
	m.open_connections--;
}

void
metrics_connection_rejected(void)
{
	m.connections_rejected++;
}

void
metrics_connection_timed_out(void)
{
	m.connections_timed_out++;
}

void
metrics_sweep(unsigned warnings, unsigned overdue)
{
	m.sweeps++;
	m.sweep_warnings += warnings;
	m.sweep_overdue += overdue;
}

void
metrics_queue_timeouts(unsigned n)
{
	m.queue_timeouts += n;
}

static void
out_printf(Out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *grown = realloc(o->buf, o->cap * 2 + (size_t)n);

		if (!grown) {
			o->failed = 1;
			return;
		}
		o->buf = grown;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

static void
render_requests(Out *o)
{
	out_printf(o, "# HELP hotline_http_requests_total HTTP requests answered, by method, route and status.\n"
		      "# TYPE hotline_http_requests_total counter\n");
	for (int i = 0; i < m.nseries; i++)
		out_printf(o, "hotline_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
			   m.series[i].method, m.series[i].route, m.series[i].status, m.series[i].count);
	out_printf(o, "# HELP hotline_http_request_duration_seconds Time from request arrival to reply.\n"
		      "# TYPE hotline_http_request_duration_seconds histogram\n");
	for (size_t b = 0; b < LATENCY_BUCKETS; b++)
		out_printf(o, "hotline_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   latency_bounds_ms[b] / 1000.0, m.latency_buckets[b]);
	out_printf(o, "hotline_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", m.latency_count);
	out_printf(o, "hotline_http_request_duration_seconds_sum %.6f\n", m.latency_sum_s);
	out_printf(o, "hotline_http_request_duration_seconds_count %llu\n", m.latency_count);
}

static void
render_gauge(Out *o, const char *name, const char *type, const char *help, double value)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
}

char *
metrics_render(const DbPoolStats *pool, const DbPoolStats *reads, const DbPoolStats *intake,
	       const DbBatchStats *intakes)
{
	Out o = {malloc(8192), 0, 8192, 0};

	if (!o.buf)
		return NULL;
	render_requests(&o);
	render_gauge(&o, "hotline_http_connections_open", "gauge", "Client connections open now.",
		     m.open_connections);
	render_gauge(&o, "hotline_http_connections_total", "counter", "Client connections seen.",
		     (double)m.connections_total);
	render_gauge(&o, "hotline_http_connections_rejected_total", "counter",
		     "Connections refused by the connection cap.", (double)m.connections_rejected);
	render_gauge(&o, "hotline_http_connections_timed_out_total", "counter",
		     "Connections closed because their request did not arrive within the timeout.",
		     (double)m.connections_timed_out);
	render_gauge(&o, "hotline_metrics_series_dropped_total", "counter",
		     "Request series not recorded because the table was full.", (double)m.dropped_series);
	render_gauge(&o, "hotline_db_pool_size", "gauge", "Database connections configured.", pool->size);
	render_gauge(&o, "hotline_db_pool_connected", "gauge", "Database connections up.", pool->connected);
	render_gauge(&o, "hotline_db_pool_in_use", "gauge", "Database connections running a query.", pool->in_use);
	render_gauge(&o, "hotline_db_pool_waiting", "gauge", "Queries waiting for a connection.", pool->waiting);
	render_gauge(&o, "hotline_db_reconnects_total", "counter", "Database reconnections after a failure.",
		     (double)pool->reconnects);
	render_gauge(&o, "hotline_db_queries_total", "counter", "Queries sent.", (double)pool->queries);
	render_gauge(&o, "hotline_db_query_failures_total", "counter", "Queries that failed.",
		     (double)pool->failures);
	render_gauge(&o, "hotline_db_read_pool_size", "gauge",
		     "Connections of the slow-read lane (searches, reports).", reads->size);
	render_gauge(&o, "hotline_db_read_pool_in_use", "gauge", "Slow-read connections running a query.",
		     reads->in_use);
	render_gauge(&o, "hotline_db_read_pool_waiting", "gauge", "Slow reads waiting for a connection.",
		     reads->waiting);
	render_gauge(&o, "hotline_db_read_queries_total", "counter", "Slow-read queries sent.",
		     (double)reads->queries);
	render_gauge(&o, "hotline_db_intake_pool_size", "gauge", "Connections of the intake (POST /v1/cases).",
		     intake->size);
	render_gauge(&o, "hotline_db_intake_pool_connected", "gauge", "Intake connections up.", intake->connected);
	render_gauge(&o, "hotline_db_intake_pool_in_use", "gauge", "Intake connections running a transaction.",
		     intake->in_use);
	render_gauge(&o, "hotline_db_intake_pool_waiting", "gauge", "Intake transactions waiting for a connection.",
		     intake->waiting);
	render_gauge(&o, "hotline_intake_transactions_total", "counter",
		     "Transactions that created cases (POST /v1/cases), one case or a batch.",
		     (double)intakes->statements);
	render_gauge(&o, "hotline_intake_cases_total", "counter", "Cases answered through those transactions.",
		     (double)intakes->calls);
	render_gauge(&o, "hotline_intake_batches_split_total", "counter",
		     "Batches of cases that failed and were sent again one case at a time.", (double)intakes->split);
	render_gauge(&o, "hotline_intake_waiting", "gauge", "Cases waiting for the next intake transaction.",
		     intakes->waiting);
	render_gauge(&o, "hotline_streams_open", "gauge", "Event streams (GET /v1/stream) open now.",
		     m.open_streams);
	render_gauge(&o, "hotline_streams_total", "counter", "Event streams opened.", (double)m.streams_total);
	render_gauge(&o, "hotline_streams_dropped_total", "counter",
		     "Event streams dropped because their client did not read.", (double)m.streams_dropped);
	render_gauge(&o, "hotline_stream_events_total", "counter", "Events sent on event streams.",
		     (double)m.stream_events);
	render_gauge(&o, "hotline_queue_timeouts_total", "counter",
		     "Queries and creates answered 503 because they waited longer than queue_timeout_ms.",
		     (double)m.queue_timeouts);
	render_gauge(&o, "hotline_sweeps_total", "counter", "Deadline sweeps run.", (double)m.sweeps);
	render_gauge(&o, "hotline_sweep_warnings_total", "counter", "deadline_warning rows written.",
		     (double)m.sweep_warnings);
	render_gauge(&o, "hotline_sweep_overdue_total", "counter", "overdue rows written.", (double)m.sweep_overdue);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
