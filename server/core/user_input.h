/* user_input: validation of POST /v1/users bodies (API.md section 6). */
#ifndef HOTLINE_CORE_USER_INPUT_H
#define HOTLINE_CORE_USER_INPUT_H

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/role.h"
#include "core/user.h"

typedef struct UserInput {
	const char *name;        /* borrowed from the body object */
	Role role;
	const char *department;  /* NULL unless role == ROLE_DEPARTMENT */
} UserInput;

/*
 * Validate {"name", "role", "department"}: name 1..100 characters, role one of the four,
 * department required for the department role and refused for the others, no other
 * field. Pointers in out borrow from body. Whether the department exists is checked
 * by the caller against the database.
 */
bool user_input_parse(json_object *body, UserInput *out, ApiError *err);

#endif
