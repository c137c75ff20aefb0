/*
 * stream_hub: the open GET /v1/stream connections of this server and the feed that fills
 * them (API.md section 18).
 *
 * The feed reads new history rows with one query for all streams, on a NOTIFY on channel
 * hotline_events heard on the server's LISTEN connection (app->listener, db/listen.h, not a
 * pool connection), and every 2 s as a backstop while streams are open. Writers do not notify
 * inside their transactions (a NOTIFY serializes the commits of every notifying
 * transaction, which would cost the intake path): this server sends one
 * pg_notify('hotline_events', '') at most every 50 ms after requests that wrote
 * (stream_hub_wrote), and every server, this one included, hears it and reads.
 *
 * Event ids are assigned before commit, so a row may become visible after a higher one:
 * the feed remembers the ids it skipped for 30 s and reads them too when they appear.
 * A stream that has more than stream_buffer_max bytes unsent is dropped (the client
 * reconnects with Last-Event-ID). Loop thread only.
 */
#ifndef HOTLINE_STREAM_HUB_H
#define HOTLINE_STREAM_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "http/request.h"

#define STREAM_CHANNEL "hotline_events"

/* Add the channel to app->listener (before the loop runs). NULL on OOM. */
StreamHub *stream_hub_new(App *app);
/* Free the hub; the streams must have been closed (stream_hub_close_all). */
void stream_hub_free(StreamHub *hub);
/*
 * Make req (GET /v1/stream, authenticated) a stream: answer 200 text/event-stream and keep
 * it open. With replay, the events after last_event_id (up to 1000) come first. Answers 503
 * itself when stream_max streams are open. The hub owns req from here on.
 */
void stream_hub_open(StreamHub *hub, Req *req, bool replay, int64_t last_event_id);
/* End every stream (the drain of SIGTERM): each gets the end of its chunked answer. */
void stream_hub_close_all(StreamHub *hub);
/* This server committed history rows: tell every server's streams (at most every 50 ms). */
void stream_hub_wrote(StreamHub *hub);

#endif
