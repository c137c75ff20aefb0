/*
 * api/rules: routing rules with their dispatch accuracy, the routing dry run, and the
 * departments and categories the router routes to (API.md section 3).
 */
#ifndef HOTLINE_API_RULES_H
#define HOTLINE_API_RULES_H

#include "http/routes.h"

const RouteTable *rules_routes(void);

#endif
