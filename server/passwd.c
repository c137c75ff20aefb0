/* passwd: crypt_gensalt_rn + crypt_r (libxcrypt); see passwd.h. */
#include "passwd.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

/* The cost crypt_gensalt picks by default (count 0), i.e. the cost of every stored hash. */
#define PASSWD_PREFIX "$y$"
/* A hash of a random string nobody knows, at that cost: what an unknown login is checked against. */
#define PASSWD_DUMMY "$y$j9T$v8HxdZ1u5Q8KXJqXdVaQr.$O8sDyEwzdSRJ5845S0e/QqRYs8/TTE8Dliw5.NnTy46"

bool
passwd_hash(const char *password, char out[PASSWD_HASH_MAX])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof(*data));
	const char *hash;
	bool ok = false;

	if (!data)
		return false;
	/* NULL random bytes: libxcrypt takes them from the kernel (getrandom). */
	if (!crypt_gensalt_rn(PASSWD_PREFIX, 0, NULL, 0, setting, sizeof(setting)))
		goto done;
	hash = crypt_r(password, setting, data);
	if (!hash || hash[0] == '*' || strlen(hash) >= PASSWD_HASH_MAX)
		goto done;
	snprintf(out, PASSWD_HASH_MAX, "%s", hash);
	ok = true;
done:
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok;
}

bool
passwd_verify(const char *password, const char *hash)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	const char *setting = hash ? hash : PASSWD_DUMMY;
	const char *got;
	bool ok = false;

	if (!data)
		return false;
	got = crypt_r(password, setting, data);
	/* crypt_r answers a string starting with '*' for a setting it cannot use. */
	if (got && got[0] != '*' && strlen(got) == strlen(setting))
		ok = token_equal_ct(got, setting, strlen(setting)) && hash != NULL;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok;
}
