/*
 * stream_hub: streams, the feed of history rows, pings and this server's NOTIFY (see
 * stream_hub.h).
 *
 * A Stream lives from stream_hub_open until its connection closes (the client left, or the
 * hub dropped it), or the drain ends it. While its Last-Event-ID replay (or the feed's first
 * query) is in flight, live frames wait in `held`. A Stream whose query is in flight when it
 * ends is only marked `ended` and freed by that query's callback.
 */
#include "stream_hub.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/stream_event.h"
#include "core/textbuf.h"
#include "db/listen.h"
#include "http/reply.h"
#include "http/server.h"
#include "log.h"
#include "metrics.h"

#define STREAM_PING_SECONDS 15
#define STREAM_BACKSTOP_MS 2000   /* read the feed this often while streams are open */
#define STREAM_COALESCE_MS 50     /* a burst of writes or notifications makes one NOTIFY / read */
#define STREAM_REPLAY_MAX 1000
#define STREAM_HOLES_MAX 1000
#define STREAM_HOLE_SECONDS 30    /* far longer than any transaction may run (statement_timeout) */

/* The columns of a stream event, in StreamEvent order, then the co-handling departments. */
#define STREAM_EVENT_SELECT \
	"SELECT e.id, e.case_id, c.number, e.action, coalesce(e.to_state, c.state), c.department, rfc3339(e.at), " \
	"  (SELECT string_agg(x->>'department', ',') FROM jsonb_array_elements(c.co) x) " \
	"FROM case_events e JOIN cases c ON c.id = e.case_id "

typedef struct Stream Stream;

struct Stream {
	Stream *prev, *next;
	StreamHub *hub;
	Req *req;               /* NULL once ended */
	bool answering;         /* its 200 is sent (after the feed knew its position) */
	bool waiting;           /* the replay is in flight (or not started): frames go to held */
	bool replay;
	int64_t replay_after;
	bool querying;          /* its replay query is in flight */
	TextBuf held;
};

typedef struct StreamHole {
	int64_t id;
	double until;           /* monotonic seconds: forget it after */
} StreamHole;

struct StreamHub {
	App *app;
	Stream *streams;
	int count;
	/* the feed */
	int64_t last;           /* highest event id read; -1 when unknown (no stream open) */
	bool starting;          /* the query for the first `last` is in flight */
	StreamHole holes[STREAM_HOLES_MAX];
	int nholes;
	bool reading, read_again;
	struct event *read_timer;   /* coalescing and backstop */
	struct event *ping_timer;
	struct event *notify_timer;
	bool notify_armed;
};

static void hub_listen_cb(const char *payload, void *arg);
static void hub_read_soon(StreamHub *hub, int ms);
static void hub_read_timer_cb(evutil_socket_t fd, short what, void *arg);
static void hub_read(StreamHub *hub);
static void hub_start_cb(const DbResult *r, void *arg);
static void hub_read_cb(const DbResult *r, void *arg);
static void hub_fan_out(StreamHub *hub, const PGresult *res);
static void hub_ping_cb(evutil_socket_t fd, short what, void *arg);
static void hub_notify_cb(evutil_socket_t fd, short what, void *arg);
static void hub_notify_sent_cb(const DbResult *r, void *arg);
static void stream_answer(Stream *s);
static void stream_begin(Stream *s);
static void stream_replay_cb(const DbResult *r, void *arg);
static void stream_write(Stream *s, const char *text, size_t len);
static void stream_send(Stream *s, const char *text, size_t len);
static void stream_release(Stream *s);
static void stream_closed_cb(void *arg);
static void stream_unlink(Stream *s);
static double hub_now(void);

/*
 *********************************
 * Public functions
 *********************************
 */

StreamHub *
stream_hub_new(App *app)
{
	StreamHub *hub = calloc(1, sizeof(*hub));
	struct timeval ping = {STREAM_PING_SECONDS, 0};

	if (!hub)
		return NULL;
	hub->app = app;
	hub->last = -1;
	hub->read_timer = evtimer_new(app->base, hub_read_timer_cb, hub);
	hub->ping_timer = event_new(app->base, -1, EV_PERSIST, hub_ping_cb, hub);
	hub->notify_timer = evtimer_new(app->base, hub_notify_cb, hub);
	if (!hub->read_timer || !hub->ping_timer || !hub->notify_timer ||
	    !db_listener_add(app->listener, STREAM_CHANNEL, hub_listen_cb, hub)) {
		stream_hub_free(hub);
		return NULL;
	}
	evtimer_add(hub->ping_timer, &ping);
	return hub;
}

void
stream_hub_free(StreamHub *hub)
{
	if (!hub)
		return;
	if (hub->read_timer)
		event_free(hub->read_timer);
	if (hub->ping_timer)
		event_free(hub->ping_timer);
	if (hub->notify_timer)
		event_free(hub->notify_timer);
	free(hub);
}

void
stream_hub_open(StreamHub *hub, Req *req, bool replay, int64_t last_event_id)
{
	Stream *s;

	if (hub->count >= hub->app->config->stream_max) {
		reply_error(req, 503, "unavailable", NULL, "too many event streams open, try again later");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		reply_out_of_memory(req);
		return;
	}
	s->hub = hub;
	s->req = req;
	s->waiting = true;
	s->replay = replay;
	s->replay_after = last_event_id;
	req->on_close = stream_closed_cb;
	req->on_close_arg = s;
	s->next = hub->streams;
	if (hub->streams)
		hub->streams->prev = s;
	hub->streams = s;
	hub->count++;
	metrics_stream_opened();
	if (hub->last >= 0) {
		stream_begin(s);
	} else if (!hub->starting) {
		hub->starting = true;
		if (!db_pool_submit(hub->app->pool, "SELECT coalesce(max(id), 0) FROM case_events", 0, NULL,
				    hub_start_cb, hub))
			hub_start_cb(&(DbResult){DB_UNAVAILABLE, NULL, "", ""}, hub);
	}
}

void
stream_hub_close_all(StreamHub *hub)
{
	while (hub->streams) {
		Stream *s = hub->streams;
		Req *req = s->req;
		struct evhttp_request *ev = req->ev;
		bool answering = s->answering;

		stream_unlink(s);
		req->on_close = NULL;
		if (!answering) {
			reply_error(req, 503, "unavailable", NULL, "server is shutting down, try again");
		} else {
			/* As reply_send: account first (it hooks the end of the write), then send. */
			http_server_request_done(req, 200);
			evhttp_send_reply_end(ev);
		}
		stream_release(s);
	}
}

void
stream_hub_wrote(StreamHub *hub)
{
	struct timeval tv = {0, STREAM_COALESCE_MS * 1000};

	if (!hub || hub->notify_armed)
		return;
	hub->notify_armed = true;
	evtimer_add(hub->notify_timer, &tv);
}

/*
 *********************************
 * The feed
 *********************************
 */

/* A NOTIFY (payload ignored), or the LISTEN (re)connected (payload NULL). */
static void
hub_listen_cb(const char *payload, void *arg)
{
	(void)payload;
	hub_read_soon(arg, 0);
}

/* Read new rows within ms, unless a read is already due; nothing while no stream is open. */
static void
hub_read_soon(StreamHub *hub, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (hub->count == 0 || hub->last < 0)
		return;
	if (hub->reading) {
		hub->read_again = true;
		return;
	}
	if (ms == 0) {
		hub_read(hub);
		return;
	}
	if (!evtimer_pending(hub->read_timer, NULL))
		evtimer_add(hub->read_timer, &tv);
}

static void
hub_read_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	StreamHub *hub = arg;

	(void)fd;
	(void)what;
	if (hub->reading)
		hub->read_again = true;
	else
		hub_read(hub);
}

/* Rows after `last`, and the skipped ids that may have committed since. */
static void
hub_read(StreamHub *hub)
{
	char last[24];
	TextBuf holes = {0};
	const char *params[2] = {last, NULL};
	double now = hub_now();
	int kept = 0;

	if (hub->count == 0 || hub->last < 0)
		return;
	snprintf(last, sizeof(last), "%" PRId64, hub->last);
	textbuf_add_str(&holes, "{");
	for (int i = 0; i < hub->nholes; i++) {
		char id[24];

		if (hub->holes[i].until < now)
			continue;
		hub->holes[kept++] = hub->holes[i];
		snprintf(id, sizeof(id), "%s%" PRId64, kept > 1 ? "," : "", hub->holes[i].id);
		textbuf_add_str(&holes, id);
	}
	hub->nholes = kept;
	textbuf_add_str(&holes, "}");
	params[1] = holes.failed ? "{}" : holes.buf;
	hub->read_again = false;
	hub->reading = db_pool_submit(hub->app->pool,
				      STREAM_EVENT_SELECT "WHERE e.id > $1::bigint OR e.id = ANY($2::bigint[]) "
				      "ORDER BY e.id LIMIT 1000",
				      2, params, hub_read_cb, hub);
	free(holes.buf);
	if (!hub->reading)
		hub_read_soon(hub, STREAM_BACKSTOP_MS);
}

/* The first `last`: streams opened so far begin (replay, then live). */
static void
hub_start_cb(const DbResult *r, void *arg)
{
	StreamHub *hub = arg;

	hub->starting = false;
	if (hub->count == 0)
		return;
	if (r->status != DB_OK || PQntuples(r->res) != 1) {
		log_warn("streams: cannot read the last event id");
		for (Stream *s = hub->streams, *next; s; s = next) {
			Req *req = s->req;

			next = s->next;
			if (s->answering)
				continue;
			stream_unlink(s);
			req->on_close = NULL;
			reply_error(req, 503, "unavailable", NULL, "the database is unavailable, try again shortly");
			stream_release(s);
		}
		return;
	}
	hub->last = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
	hub->nholes = 0;
	for (Stream *s = hub->streams, *next; s; s = next) {
		next = s->next;
		if (!s->answering)
			stream_begin(s);
	}
	hub_read_soon(hub, STREAM_BACKSTOP_MS);
}

static void
hub_read_cb(const DbResult *r, void *arg)
{
	StreamHub *hub = arg;
	int rows = r->status == DB_OK ? PQntuples(r->res) : 0;

	hub->reading = false;
	if (r->status == DB_OK && hub->last >= 0)
		hub_fan_out(hub, r->res);
	if (hub->count == 0) {
		/* Nobody listens: forget the position; the next stream starts from the newest row. */
		hub->last = -1;
		hub->nholes = 0;
		return;
	}
	if (rows == STREAM_REPLAY_MAX || hub->read_again)
		hub_read_soon(hub, rows == STREAM_REPLAY_MAX ? 0 : STREAM_COALESCE_MS);
	else
		hub_read_soon(hub, STREAM_BACKSTOP_MS);
}

/* Note the ids skipped below id (committed later, or never: rolled back). */
static void
hub_note_holes(StreamHub *hub, int64_t id)
{
	double until = hub_now() + STREAM_HOLE_SECONDS;

	for (int64_t h = hub->last + 1; h < id && hub->nholes < STREAM_HOLES_MAX; h++)
		hub->holes[hub->nholes++] = (StreamHole){h, until};
}

static void
hub_fill_hole(StreamHub *hub, int64_t id)
{
	for (int i = 0; i < hub->nholes; i++)
		if (hub->holes[i].id == id) {
			hub->holes[i] = hub->holes[--hub->nholes];
			return;
		}
}

/* Every row to every stream that may read it: one chunk per stream. */
static void
hub_fan_out(StreamHub *hub, const PGresult *res)
{
	int rows = PQntuples(res);
	TextBuf *frames = calloc((size_t)rows + 1, sizeof(TextBuf));
	unsigned long long sent = 0;

	if (!frames)
		return;
	for (int i = 0; i < rows; i++) {
		StreamEvent ev = {strtoll(PQgetvalue(res, i, 0), NULL, 10), strtoll(PQgetvalue(res, i, 1), NULL, 10),
				  PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
				  db_value(res, i, 5), PQgetvalue(res, i, 6)};

		if (ev.event_id > hub->last) {
			hub_note_holes(hub, ev.event_id);
			hub->last = ev.event_id;
		} else {
			hub_fill_hole(hub, ev.event_id);
		}
		stream_event_format(&frames[i], &ev);
	}
	for (Stream *s = hub->streams, *next; s; s = next) {
		TextBuf out = {0};

		next = s->next;
		for (int i = 0; i < rows; i++)
			if (stream_may_read(s->req->user.role, s->req->user.department, db_value(res, i, 5),
					    db_value(res, i, 7)) &&
			    !frames[i].failed) {
				textbuf_add(&out, frames[i].buf, frames[i].len);
				sent++;
			}
		if (out.len)
			stream_send(s, out.buf, out.len);
		free(out.buf);
	}
	metrics_stream_events(sent);
	for (int i = 0; i < rows; i++)
		free(frames[i].buf);
	free(frames);
}

static void
hub_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char ping[] = ": ping\n\n";
	StreamHub *hub = arg;

	(void)fd;
	(void)what;
	for (Stream *s = hub->streams, *next; s; s = next) {
		next = s->next;
		stream_send(s, ping, sizeof(ping) - 1);
	}
}

/* True when a connection of pool is up, free and nothing waits for one. */
static bool
pool_has_idle_connection(const DbPool *pool)
{
	DbPoolStats st;

	db_pool_stats(pool, &st);
	return st.waiting == 0 && st.in_use < st.connected;
}

static void
hub_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	StreamHub *hub = arg;

	(void)fd;
	(void)what;
	hub->notify_armed = false;
	/* The NOTIFY only takes a connection that is idle now: queued behind requests it would
	 * wait with them and be answered by the janitor as one more timed-out query. Meanwhile it
	 * is tried again in 50 ms, and the 2 s backstop reads of the servers with streams find
	 * the rows whatever happens to it. */
	if (!pool_has_idle_connection(hub->app->pool)) {
		stream_hub_wrote(hub);
		return;
	}
	if (!db_pool_submit(hub->app->pool, "SELECT pg_notify('" STREAM_CHANNEL "', '')", 0, NULL,
			    hub_notify_sent_cb, hub))
		log_debug("streams: pool busy, NOTIFY skipped");
}

static void
hub_notify_sent_cb(const DbResult *r, void *arg)
{
	(void)arg;
	if (r->status != DB_OK)
		log_debug("streams: NOTIFY failed");
}

/*
 *********************************
 * Streams
 *********************************
 */

/* The 200 and its headers: sent once the feed knows its position, so that every event
 * committed after the client sees them reaches it. */
static void
stream_answer(Stream *s)
{
	static const char hello[] = "retry: 3000\n\n";
	Req *req = s->req;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req->ev));
	struct timeval write_timeout = {s->hub->app->config->timeout, 0};
	char id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)req->id);
	evhttp_remove_header(h, "Content-Type");
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Accel-Buffering", "no"); /* nginx: pass events on at once */
	evhttp_add_header(h, "X-Request-Id", id);
	evhttp_send_reply_start(req->ev, 200, "OK");
	/* The client sends nothing more: no read timeout. A write that makes no progress for
	 * `timeout` seconds (the client stopped reading, the kernel buffer is full) still ends it. */
	bufferevent_set_timeouts(bev, NULL, &write_timeout);
	s->answering = true;
	stream_write(s, hello, sizeof(hello) - 1);
}

/* The feed is ready: answer, then replay what the client missed, or go live at once. */
static void
stream_begin(Stream *s)
{
	char after[24], upto[24];
	const char *params[] = {after, upto, NULL};
	const User *u = &s->req->user;

	stream_answer(s);
	if (!s->replay) {
		s->waiting = false;
		if (s->held.len)
			stream_write(s, s->held.buf, s->held.len);
		free(s->held.buf);
		s->held = (TextBuf){0};
		return;
	}
	snprintf(after, sizeof(after), "%" PRId64, s->replay_after);
	snprintf(upto, sizeof(upto), "%" PRId64, s->hub->last);
	params[2] = u->role == ROLE_DEPARTMENT ? u->department : NULL;
	s->querying = db_pool_submit(s->hub->app->pool,
				     STREAM_EVENT_SELECT "WHERE e.id > $1::bigint AND e.id <= $2::bigint "
				     "AND ($3::text IS NULL OR c.department = $3 OR c.co @> case_co_entry($3)) "
				     "ORDER BY e.id LIMIT 1000",
				     3, params, stream_replay_cb, s);
	if (!s->querying) {
		/* The database is away: the client reconnects later with its Last-Event-ID. */
		evhttp_connection_free(evhttp_request_get_connection(s->req->ev));
	}
}

static void
stream_replay_cb(const DbResult *r, void *arg)
{
	Stream *s = arg;
	TextBuf out = {0};
	int rows;

	s->querying = false;
	if (!s->req) {
		stream_release(s);
		return;
	}
	if (r->status != DB_OK) {
		evhttp_connection_free(evhttp_request_get_connection(s->req->ev));
		return;
	}
	rows = PQntuples(r->res);
	for (int i = 0; i < rows; i++) {
		StreamEvent ev = {strtoll(PQgetvalue(r->res, i, 0), NULL, 10), strtoll(PQgetvalue(r->res, i, 1), NULL, 10),
				  PQgetvalue(r->res, i, 2), PQgetvalue(r->res, i, 3), PQgetvalue(r->res, i, 4),
				  db_value(r->res, i, 5), PQgetvalue(r->res, i, 6)};

		stream_event_format(&out, &ev);
	}
	metrics_stream_events((unsigned long long)rows);
	if (s->held.len)
		textbuf_add(&out, s->held.buf, s->held.len);
	free(s->held.buf);
	s->held = (TextBuf){0};
	s->waiting = false;
	if (out.len)
		stream_send(s, out.buf, out.len);
	free(out.buf);
}

/* The bytes of this stream that the kernel has not taken yet. */
static size_t
stream_unsent(const Stream *s)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(s->req->ev);

	return evbuffer_get_length(bufferevent_get_output(evhttp_connection_get_bufferevent(evcon))) + s->held.len;
}

/* Write text as one chunk of the answer. */
static void
stream_write(Stream *s, const char *text, size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	if (!buf || evbuffer_add(buf, text, len) != 0) {
		if (buf)
			evbuffer_free(buf);
		return;
	}
	evhttp_send_reply_chunk(s->req->ev, buf);
	evbuffer_free(buf);
}

/* Send text on s, or hold it while s waits; drop s when its unsent bytes passed the bound. */
static void
stream_send(Stream *s, const char *text, size_t len)
{
	if (!s->req)
		return;
	/* What the client has not taken yet, not counting this text: a replay of 1000 events
	 * goes out whole even when it is larger than the bound. */
	if (stream_unsent(s) > (size_t)s->hub->app->config->stream_buffer_max) {
		log_info("req=%llu: event stream dropped: %zu bytes unsent", (unsigned long long)s->req->id,
			 stream_unsent(s));
		metrics_stream_dropped();
		/* Closing calls stream_closed_cb, which ends s. */
		evhttp_connection_free(evhttp_request_get_connection(s->req->ev));
		return;
	}
	if (s->waiting)
		textbuf_add(&s->held, text, len);
	else
		stream_write(s, text, len);
}

/*
 * The connection closed. Dropped by us (evhttp_connection_free): evhttp frees the request
 * after this. The client left: evhttp has detached the request, which is ours to free, as
 * evhttp_send_reply_end does for a request without a connection.
 */
static void
stream_closed_cb(void *arg)
{
	Stream *s = arg;
	Req *req = s->req;

	stream_unlink(s);
	if (!evhttp_request_get_connection(req->ev))
		evhttp_send_reply_end(req->ev);
	req->ev = NULL;
	req->on_close = NULL;
	http_server_request_done(req, 200);
	stream_release(s);
}

/* Out of the list: no more frames; the Req is no longer ours. */
static void
stream_unlink(Stream *s)
{
	StreamHub *hub = s->hub;

	if (s->prev)
		s->prev->next = s->next;
	else
		hub->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->req = NULL;
	hub->count--;
	metrics_stream_closed();
	if (hub->count == 0 && !hub->reading) {
		/* Nobody listens: forget the position; the next stream starts from the newest row. */
		hub->last = -1;
		hub->nholes = 0;
	}
}

/* Free s, or leave that to its query's callback. */
static void
stream_release(Stream *s)
{
	if (s->querying)
		return;
	free(s->held.buf);
	free(s);
}

static double
hub_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9;
}
