/* api/intake_aids: caller history and flags, similar open cases (API.md section 14). */
#ifndef HOTLINE_API_INTAKE_AIDS_H
#define HOTLINE_API_INTAKE_AIDS_H

#include "http/routes.h"

const RouteTable *intake_aids_routes(void);

#endif
