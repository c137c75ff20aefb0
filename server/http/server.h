/*
 * http/server: evhttp with the limits set (body, headers, timeouts, connection cap),
 * request ids, route dispatch with authentication and role checks, and drain on stop.
 */
#ifndef HOTLINE_HTTP_SERVER_H
#define HOTLINE_HTTP_SERVER_H

#include <stdbool.h>

#include "app.h"
#include "http/routes.h"

typedef struct HttpServer HttpServer;

/* Bind and start serving; NULL (with a logged reason) when the address cannot be bound. */
HttpServer *http_server_start(App *app, const RouteTable *const *tables, int ntables);
/* Stop accepting; call done() once every in-flight request has been answered (or at once). */
void http_server_drain(HttpServer *srv, void (*done)(void *arg), void *arg);
void http_server_free(HttpServer *srv);

/* Internal to http/: count a finished request (called by reply.c). */
void http_server_request_done(Req *req, int status);

#endif
