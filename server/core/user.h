/*
 * user: who made a request, as authentication found them (the users row of its token).
 */
#ifndef HOTLINE_CORE_USER_H
#define HOTLINE_CORE_USER_H

#include <stdint.h>

#include "core/role.h"

#define USER_NAME_MAX_CHARS 100 /* the contract's limit (API.md section 6) */
#define UTF8_CHAR_MAX_BYTES 4

typedef struct User {
	int64_t id;
	char name[USER_NAME_MAX_CHARS * UTF8_CHAR_MAX_BYTES + 1]; /* any name the contract allows, whole */
	Role role;
	char department[48]; /* "" unless role == ROLE_DEPARTMENT */
} User;

/* Set u->name to name, or to its longest prefix that fits, cut on a character boundary (a name
 * written in the database by hand may be longer than the contract allows; cut in the middle of
 * a character it would be invalid UTF-8 that PostgreSQL refuses). name is NUL-terminated UTF-8. */
void user_set_name(User *u, const char *name);

#endif
