/*
 * api/sla: the SLA policy and the working-day calendars (API.md section 4).
 *   GET /v1/sla, GET /v1/calendar/{year}     admin, manager
 *   PUT /v1/sla, PUT /v1/calendar/{year}     admin
 * Bodies are validated by the core (core/sla.h, core/workcal.h), stored in their
 * canonical form, and the state holder (sla_state.h) is told to reload.
 */
#ifndef HOTLINE_API_SLA_H
#define HOTLINE_API_SLA_H

#include "http/routes.h"

const RouteTable *sla_routes(void);

#endif
