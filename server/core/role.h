/* role: the four user roles of API.md section 6. */
#ifndef HOTLINE_CORE_ROLE_H
#define HOTLINE_CORE_ROLE_H

#include <stdbool.h>

typedef enum Role {
	ROLE_OPERATOR,
	ROLE_DEPARTMENT,
	ROLE_MANAGER,
	ROLE_ADMIN,
	ROLE__COUNT
} Role;

/* "operator", "department", ... ; never NULL for a valid role. */
const char *role_name(Role role);
/* Parse a role name; false when unknown. */
bool role_parse(const char *name, Role *out) __attribute__((warn_unused_result));

#endif
