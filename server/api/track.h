/* api/track: GET /v1/track/{number}?code= (API.md section 13), without a token. */
#ifndef HOTLINE_API_TRACK_H
#define HOTLINE_API_TRACK_H

#include "http/routes.h"

const RouteTable *track_routes(void);

#endif
