/* api/stream: GET /v1/stream, the live push of history rows (API.md section 18). */
#ifndef HOTLINE_API_STREAM_H
#define HOTLINE_API_STREAM_H

#include "http/routes.h"

const RouteTable *stream_routes(void);

#endif
