/*
 * routing_state: the routing engine in force. Built from the `rules` and `categories`
 * tables at start, rebuilt whenever another server (or this one) changes the rules
 * (LISTEN rules_changed, plus a cheap version check), and swapped in whole: a
 * request holds the pointer only within one loop callback, so the old router can be
 * freed at the swap. The mechanism is db/reloader's.
 */
#ifndef HOTLINE_ROUTING_STATE_H
#define HOTLINE_ROUTING_STATE_H

#include <stdbool.h>

#include "app.h"
#include "core/router.h"

/* Start loading (asynchronously) and watching for changes. */
bool routing_state_start(App *app) __attribute__((warn_unused_result));
/* The current router, or NULL until the first load has finished (callers answer 503). */
const Router *routing_state_current(void);
/* Ask for a reload now (after this server changed rules or categories). */
void routing_state_reload(void);
/* The same, and call done(arg) on the loop thread once a load that started after this call
 * has ended, successfully or not (see reloader_reload_then): a writer answers its client
 * only then, so the client's next request routes with the change. done may run before this
 * returns. */
void routing_state_reload_then(void (*done)(void *arg), void *arg);
void routing_state_stop(void);

#endif
