/*
 * codes: department and category code syntax (see codes.h).
 */
#include <stddef.h>
#include <string.h>

#include "core/codes.h"

/* Length of the longest prefix of s that is [a-z][a-z0-9_]*. */
static size_t
department_prefix(const char *s)
{
	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
}

bool
department_code_valid(const char *s)
{
	size_t n = department_prefix(s);

	return n >= 1 && n <= DEPARTMENT_CODE_MAX && s[n] == '\0';
}

bool
category_code_valid(const char *s, size_t *dept_len)
{
	size_t n = department_prefix(s), digits;

	if (n < 1 || n > DEPARTMENT_CODE_MAX || s[n] != '.')
		return false;
	digits = strspn(s + n + 1, "0123456789");
	if (digits < 2 || s[n + 1 + digits] != '\0' || n + 1 + digits > CATEGORY_CODE_MAX)
		return false;
	if (dept_len)
		*dept_len = n;
	return true;
}
