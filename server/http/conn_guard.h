/*
 * http/conn_guard: every client connection from its accept to its close, for the
 * connection cap and the request deadline.
 *
 * A connection counts toward max_connections from the moment it is accepted. One over the
 * cap is still tracked (up to another max_connections of them) so that its request can
 * get the polite 503, but it has only a second to send it; beyond that it is closed at
 * once. Whenever the server waits for a request (from the accept, and from the end of each
 * answer on a keep-alive connection) the whole request, head and body, must arrive within
 * `timeout` seconds, however steadily the client trickles it; otherwise the connection is
 * closed.
 */
#ifndef HOTLINE_HTTP_CONN_GUARD_H
#define HOTLINE_HTTP_CONN_GUARD_H

#include <stdbool.h>

#include "http/request.h"

struct evhttp;
struct evhttp_connection;

typedef struct ConnGuard ConnGuard;

/* Guard every connection http accepts from now on; NULL when out of memory. Free it
 * with conn_guard_free after evhttp_free(http), whose closing of the connections it
 * hears. abandoned(arg) is called when a connection closes while an answer ended with
 * conn_guard_request_end was still being written (its completion will never come). */
ConnGuard *conn_guard_new(struct evhttp *http, int max_connections, int timeout_s, void (*abandoned)(void *arg),
			  void *arg);
void conn_guard_free(ConnGuard *g);

/* evhttp has read req completely: stop the deadline and remember req as the one the
 * connection waits for, so that a close marks it not alive. False when the connection is
 * over the cap (or unknown): answer 503 and close it. */
bool conn_guard_request_begin(ConnGuard *g, struct evhttp_connection *evcon, Req *req) __attribute__((warn_unused_result));
/* req has been answered (the answer may still be in the output buffer); the caller will call
 * conn_guard_wait_next once it is written, unless the connection closes first (abandoned). */
void conn_guard_request_end(ConnGuard *g, struct evhttp_connection *evcon, Req *req);
/* The answer is written and evhttp waits for the next request: the deadline starts again. */
void conn_guard_wait_next(ConnGuard *g, struct evhttp_connection *evcon);

#endif
