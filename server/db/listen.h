/*
 * db/listen: the server's one dedicated libpq connection for LISTEN, apart from the pools
 * (their connections run queries; this one only waits for notifications), on every channel
 * the server's parts add: rules_changed (routing_state), hotline_events (the event streams).
 *
 * Non-blocking from the connect on, on the server's event_base. When the connection breaks
 * it is reopened with back-off (100 ms doubling to 5 s); each time it is (re)established,
 * every channel's cb(NULL, arg) is called, since notifications sent meanwhile were lost: the
 * owners catch up.
 */
#ifndef HOTLINE_DB_LISTEN_H
#define HOTLINE_DB_LISTEN_H

#include <stdbool.h>

struct event_base;
typedef struct DbListener DbListener;

/* payload: the NOTIFY's payload, or NULL for "(re)connected: anything may have been missed". */
typedef void (*DbListenCallback)(const char *payload, void *arg);

#define DB_LISTEN_CHANNELS_MAX 8

/* Start connecting to conninfo (the LISTENs follow once connected). NULL on OOM. */
DbListener *db_listener_new(struct event_base *base, const char *conninfo);
/*
 * Listen on channel (a plain identifier, at most 63 bytes) with cb. Call before the loop
 * runs (the connection is made by the loop). False when full, too late, or the name too long.
 */
bool db_listener_add(DbListener *l, const char *channel, DbListenCallback cb, void *arg)
	__attribute__((warn_unused_result));
void db_listener_free(DbListener *l);
/* True while the LISTEN is in place. */
bool db_listener_ready(const DbListener *l);

#endif
