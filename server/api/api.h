/*
 * api: every route table of the server, in one list, so that main.c and the HTTP fuzz target
 * (tests/fuzz/fuzz_http.c) serve the same endpoints. A new server/api/<resource>.c adds its
 * table here.
 */
#ifndef HOTLINE_API_API_H
#define HOTLINE_API_API_H

#include "http/routes.h"

#define API_ROUTE_TABLES_MAX 16

/* Fill tables (room for API_ROUTE_TABLES_MAX) with every route table; returns how many. */
int api_route_tables(const RouteTable **tables);

#endif
