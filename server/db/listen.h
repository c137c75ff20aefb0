/*
 * db/listen: one dedicated libpq connection that LISTENs on one channel, apart from the
 * pool (its connections run queries; this one only waits for notifications).
 *
 * Non-blocking from the connect on, on the server's event_base. When the connection breaks
 * it is reopened with back-off (100 ms doubling to 5 s); each time it is (re)established,
 * cb(NULL, arg) is called, since notifications sent meanwhile were lost: the owner catches up.
 */
#ifndef HOTLINE_DB_LISTEN_H
#define HOTLINE_DB_LISTEN_H

#include <stdbool.h>

struct event_base;
typedef struct DbListener DbListener;

/* payload: the NOTIFY's payload, or NULL for "(re)connected: anything may have been missed". */
typedef void (*DbListenCallback)(const char *payload, void *arg);

/* Start connecting to conninfo and LISTEN on channel (a plain identifier). NULL on OOM. */
DbListener *db_listener_new(struct event_base *base, const char *conninfo, const char *channel,
			    DbListenCallback cb, void *arg);
void db_listener_free(DbListener *l);
/* True while the LISTEN is in place. */
bool db_listener_ready(const DbListener *l);

#endif
