/* role: names of the user roles. */
#include "core/role.h"

#include <string.h>

static const char *const role_names[ROLE__COUNT] = {
	[ROLE_OPERATOR] = "operator",
	[ROLE_DEPARTMENT] = "department",
	[ROLE_MANAGER] = "manager",
	[ROLE_ADMIN] = "admin",
};

const char *
role_name(Role role)
{
	return (role >= 0 && role < ROLE__COUNT) ? role_names[role] : "unknown";
}

bool
role_parse(const char *name, Role *out)
{
	for (int i = 0; name && i < ROLE__COUNT; i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (Role)i;
			return true;
		}
	}
	return false;
}
