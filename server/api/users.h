/* api/users: users and tokens (API.md section 6). */
#ifndef HOTLINE_API_USERS_H
#define HOTLINE_API_USERS_H

#include "http/routes.h"

const RouteTable *users_routes(void);

#endif
