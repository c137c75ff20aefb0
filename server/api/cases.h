/* api/cases: the case endpoints of API.md section 2 (create, read, list, inbox, actions). */
#ifndef HOTLINE_API_CASES_H
#define HOTLINE_API_CASES_H

#include "http/routes.h"

/* The route table; the roles of each action come from core/case_state. */
const RouteTable *cases_routes(void);

#endif
