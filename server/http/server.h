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

/* Bind and start serving; NULL (with a logged reason) when the address cannot be bound.
 * Port 0 binds nothing: connections come only through http_server_accept_fd. */
HttpServer *http_server_start(App *app, const RouteTable *const *tables, int ntables);
/* Also accept connections on fd, a listening stream socket of any family (the HTTP fuzz
 * target's Unix socket); evhttp owns it from now on. False when evhttp refused it. */
bool http_server_accept_fd(HttpServer *srv, int fd) __attribute__((warn_unused_result));
/* Stop accepting; call done() once every in-flight request has been answered (or at once). */
void http_server_drain(HttpServer *srv, void (*done)(void *arg), void *arg);
void http_server_free(HttpServer *srv);

/*
 * Answer every error of a request whose path begins with path_prefix with writer instead of
 * the contract's JSON, from the first check on (404, 405, 413, 503 included). One prefix.
 */
void http_server_error_writer(HttpServer *srv, const char *path_prefix, ReqErrorWriter writer);

/*
 * Authenticate req with a token that came in another way than the Authorization header
 * (Open311's api_key): from the token cache or with one query. Then done(req) runs with
 * req->user set, or refused(req) when the token is no active user's; either must reply.
 * A database failure is answered for the caller (503).
 */
void http_server_authenticate(Req *req, const char *token, ReqFn done, ReqFn refused);

/*
 * The per-user rate limit (rate_limit) for an authenticated req: true when within it;
 * false after answering 429 (Retry-After). Routes with roles get it before their handler;
 * a handler that authenticates by itself calls it once it knows the user.
 */
bool http_server_within_rate(Req *req) __attribute__((warn_unused_result));

/* Internal to http/: count a finished request (called by reply.c). */
void http_server_request_done(Req *req, int status);

#endif
