/* api/reports: the manager reports of API.md section 5 (rates, overdue, hot spots). */
#ifndef HOTLINE_API_REPORTS_H
#define HOTLINE_API_REPORTS_H

#include "http/routes.h"

const RouteTable *reports_routes(void);

#endif
