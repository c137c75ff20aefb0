/*
 * db/reloader: a state built from database rows and kept current, the mechanism
 * under routing_state (rules -> Router) and sla_state (policy + calendars).
 *
 * One statement (load_sql) reads the version and the data together, one snapshot;
 * build() turns its row into an immutable object, which is swapped in whole. Readers
 * hold the object only within one loop callback, so the old one is freed at the swap.
 *
 * A timer drives it: until the first load succeeds it retries every few milliseconds
 * (the pool may still be connecting); afterwards it runs the cheap version_sql every
 * poll_ms and loads when the version differs from the loaded one. With a channel, a
 * NOTIFY on it loads at once, unless its payload is the version already loaded; the
 * pool's NULL payload after a reconnect ("changes may have been missed") loads too.
 * A failed check, load or build keeps the last good object: the server goes on through
 * a database outage, which is logged once when it starts and once when it ends.
 *
 * One query is in flight at a time. A reload asked for while one is in flight runs
 * when it ends, since what is in flight may predate the change.
 */
#ifndef HOTLINE_DB_RELOADER_H
#define HOTLINE_DB_RELOADER_H

#include <stdbool.h>

#include "db/listen.h"
#include "db/pool.h"

struct event;
struct event_base;

/* The object built from the load's single row (column 0 is the version), or NULL to
 * refuse the row (build logs why; the previous object stays). Owned by the reloader. */
typedef void *(*ReloaderBuild)(const PGresult *res);
typedef void (*ReloaderFree)(void *object);
typedef void (*ReloaderDone)(void *arg);

typedef struct ReloaderConfig {
	const char *name;        /* the owner, first word of its log lines: "routing_state" */
	const char *what;        /* what is loaded, for the log: "rules" */
	const char *version_sql; /* one row, column 0: the version as text (at most 63 bytes) */
	const char *load_sql;    /* one row, column 0: the same version, then what build reads */
	ReloaderBuild build;
	ReloaderFree free;       /* frees what build returned */
	int poll_ms;             /* version check interval once loaded */
	const char *channel;     /* LISTEN channel whose payload is the new version, or NULL */
} ReloaderConfig;

typedef struct ReloaderWaiter ReloaderWaiter;

/*
 * The fields are reloader.c's. A Reloader lives in static storage, not on the heap:
 * the pool may call its query callbacks after reloader_stop (at db_pool_free), and the
 * listener its notification callback until it is freed: they must find it, stopped.
 */
typedef struct Reloader {
	const ReloaderConfig *cfg;   /* NULL when stopped */
	DbPool *pool;
	struct event *timer;
	void *object;                /* NULL until the first load */
	char version[64];            /* the version object was built from */
	bool busy;                   /* a check or load is waiting for the database */
	bool reload_wanted;          /* a reload was asked for while busy */
	bool db_trouble;             /* the last attempt failed (log the outage once) */
	unsigned long long loads_started;
	ReloaderWaiter *waiters;     /* of reloader_reload_then, oldest first */
} Reloader;

/* Start loading (asynchronously) and watching. cfg must outlive the reloader. False
 * when the timer cannot be created; a channel that cannot be listened to is logged and
 * left to the version check. */
bool reloader_start(Reloader *r, const ReloaderConfig *cfg, struct event_base *base, DbPool *pool,
		    DbListener *listener);
/* Stop: call every waiter's done, free the object; callbacks still queued see it stopped. */
void reloader_stop(Reloader *r);
/* The object in force, or NULL until the first load has succeeded (or when stopped). */
void *reloader_current(const Reloader *r);
/* Load now (after this server changed what the object is built from). */
void reloader_reload(Reloader *r);
/*
 * The same, and call done(arg) on the loop thread once a load that STARTED AFTER this
 * call has ended, whether it succeeded or failed (database error, or refused by build):
 * a writer answers its client only then, so the client's next request here sees its
 * change when the load succeeded. done runs at once, possibly before this returns, when
 * no load can start (stopped, out of memory, the pool refused the query), and from
 * reloader_stop for waiters still waiting.
 */
void reloader_reload_then(Reloader *r, ReloaderDone done, void *arg);

#endif
