/*
 * api/assess: the assessment of API.md section 17: GET/PUT /v1/scorecard and the
 * reports /v1/reports/scorecard and /v1/reports/bad-reviews.
 */
#ifndef HOTLINE_API_ASSESS_H
#define HOTLINE_API_ASSESS_H

#include "http/routes.h"

const RouteTable *assess_routes(void);

#endif
