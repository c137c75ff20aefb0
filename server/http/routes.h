/*
 * http/routes: the route table type. Each server/api/<resource>.c exports one table;
 * main.c hands them all to the HTTP server, which matches method + path, authenticates,
 * checks the role, checks the content type, parses the JSON body and calls the handler.
 *
 * Path patterns are literal segments and "{id}" (a positive integer: req->path_id, else
 * 400 bad_request) or "{arg}" (any segment up to 63 bytes: req->path_arg). A path that
 * matches a pattern with another method gets 405.
 */
#ifndef HOTLINE_HTTP_ROUTES_H
#define HOTLINE_HTTP_ROUTES_H

#include "http/request.h"

typedef void (*HandlerFn)(Req *req);

/* Role masks for Route.roles. */
#define ROLES_NONE 0u /* no authentication at all (health, metrics) */
#define ROLE_BIT(r) (1u << (r))
#define ROLES_ANY (ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_DEPARTMENT) | ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_ADMIN))

typedef enum BodyKind {
	BODY_NONE,   /* body ignored */
	BODY_JSON,   /* Content-Type application/json required (415), must parse as UTF-8 JSON object (400 bad_json); empty body = {} */
	BODY_RAW     /* body kept raw in req->body_raw (CSV/form posts) */
} BodyKind;

typedef struct Route {
	const char *method;   /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern;  /* "/v1/cases/{id}/sign" */
	unsigned roles;       /* who may call it (403 otherwise); ROLES_NONE = unauthenticated */
	BodyKind body;
	HandlerFn handler;
} Route;

typedef struct RouteTable {
	const Route *routes;
	int count;
} RouteTable;

#endif
