/* user_input: validation of the users' bodies (API.md sections 6 and 19). */
#ifndef HOTLINE_CORE_USER_INPUT_H
#define HOTLINE_CORE_USER_INPUT_H

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/role.h"
#include "core/user.h"

#define USER_LOGIN_MIN 3
#define USER_LOGIN_MAX 32
#define USER_PASSWORD_MIN_CHARS 10
#define USER_PASSWORD_MAX_CHARS 200

typedef struct UserInput {
	const char *name;        /* borrowed from the body object */
	Role role;
	const char *department;  /* NULL unless role == ROLE_DEPARTMENT */
	const char *login;       /* NULL when not given */
	const char *password;    /* NULL when not given; only with a login */
} UserInput;

/* What POST /v1/login and PUT /v1/me/password carry; pointers borrow from the body. */
typedef struct UserCredentials {
	const char *login;       /* POST /v1/login: "login"; PUT /v1/me/password: NULL */
	const char *password;    /* "password" / "old" */
	const char *new_password; /* PUT /v1/me/password: "new"; else NULL */
} UserCredentials;

/*
 * Validate {"name", "role", "department", "login", "password"}: name 1..100 characters,
 * role one of the four, department required for the department role and refused for the
 * others, login [a-z0-9._-] 3..32, password 10..200 characters and only with a login, no
 * other field. Pointers in out borrow from body. Whether the department exists and the
 * login is free is checked by the caller against the database.
 */
bool user_input_parse(json_object *body, UserInput *out, ApiError *err) __attribute__((warn_unused_result));

/*
 * POST /v1/login {"login", "password"}: both strings of at most 200 characters (a login
 * of the wrong shape is not refused here: it simply matches no user, and answers the
 * same 401 as a wrong password).
 */
bool user_login_parse(json_object *body, UserCredentials *out, ApiError *err);

/* POST /v1/users/{id}/password {"password"}: 10..200 characters. */
bool user_password_parse(json_object *body, const char **password, ApiError *err);

/* PUT /v1/me/password {"old", "new"}: old any string up to 200 characters, new 10..200. */
bool user_password_change_parse(json_object *body, UserCredentials *out, ApiError *err);

#endif
