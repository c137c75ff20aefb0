/*
 * user: who made a request, as authentication found them (the users row of its token).
 */
#ifndef HOTLINE_CORE_USER_H
#define HOTLINE_CORE_USER_H

#include <stdint.h>

#include "core/role.h"

typedef struct User {
	int64_t id;
	char name[128];
	Role role;
	char department[48]; /* "" unless role == ROLE_DEPARTMENT */
} User;

#endif
