/* user: see user.h. */
#include "core/user.h"

#include <string.h>

#include "core/utf8.h"

void
user_set_name(User *u, const char *name)
{
	size_t n = utf8_prefix(name, sizeof(u->name) - 1);

	memcpy(u->name, name, n);
	u->name[n] = '\0';
}
