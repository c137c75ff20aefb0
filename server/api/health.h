/* api/health: /healthz, /readyz and /metrics (unauthenticated). */
#ifndef HOTLINE_API_HEALTH_H
#define HOTLINE_API_HEALTH_H

#include "http/routes.h"

const RouteTable *health_routes(void);

#endif
