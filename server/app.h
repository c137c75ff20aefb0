/*
 * app: what every handler may reach: the loop, the database pool, the configuration.
 * One App per process, created by main.c.
 */
#ifndef HOTLINE_APP_H
#define HOTLINE_APP_H

#include "config.h"
#include "db/pool.h"

struct event_base;

typedef struct App {
	struct event_base *base;
	DbPool *pool;
	const Config *config;
} App;

#endif
