/* api/open311: Open311 GeoReport v2 under /open311/v2 (API.md section 7). */
#ifndef HOTLINE_API_OPEN311_H
#define HOTLINE_API_OPEN311_H

#include "core/api_error.h"
#include "http/routes.h"

/* Every errors answer under this prefix is Open311's (http_server_error_writer). */
#define OPEN311_PATH_PREFIX "/open311/"

const RouteTable *open311_routes(void);

/* The errors document of err in the format the path asks for (.xml, else JSON); frees req. */
void open311_reply_error(Req *req, const ApiError *err);

#endif
