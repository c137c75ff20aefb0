/*
 * app: what every handler may reach: the loop, the database pool and the intakes' group
 * commit, the configuration, the token cache.
 * One App per process, created by main.c.
 */
#ifndef HOTLINE_APP_H
#define HOTLINE_APP_H

#include "config.h"
#include "core/token_cache.h"
#include "core/user_slots.h"
#include "db/batch.h"
#include "db/listen.h"
#include "db/pool.h"
#include "worker.h"

struct event_base;
typedef struct StreamHub StreamHub;
typedef struct StaticFiles StaticFiles;

typedef struct App {
	struct event_base *base;
	DbPool *pool;            /* writes and quick reads */
	DbPool *reads;           /* the slow-read lane: searches and reports (http/request.h) */
	UserSlots *read_slots;   /* per-user cap of the slow-read lane */
	DbPool *intake_pool;     /* the intake's own connections (main.c) */
	DbBatch *intakes;        /* group commit of POST /v1/cases (api/cases.c), on intake_pool */
	const Config *config;
	TokenCache *tokens;      /* users of recently authenticated tokens (http/server.c) */
	Worker *hasher;          /* the thread that hashes and checks passwords (api/session.c) */
	StaticFiles *web;        /* the console's files, served at /app/ (http/static.c) */
	DbListener *listener;    /* the one LISTEN connection (db/listen.c): rules_changed, hotline_events */
	StreamHub *streams;      /* open GET /v1/stream answers (stream_hub.c) */
} App;

#endif
