/* token: generation from getrandom(), hashing, shape checks, constant-time comparison. */
#include "token.h"

#include <ctype.h>
#include <string.h>
#include <sys/random.h>

#include "core/sha256.h"

#define TOKEN_RANDOM_BYTES 24

bool
token_generate(char out[TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[TOKEN_RANDOM_BYTES];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	memcpy(out, "hl_", 3);
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[3 + 2 * i] = hex[raw[i] >> 4];
		out[3 + 2 * i + 1] = hex[raw[i] & 15];
	}
	out[TOKEN_LEN] = '\0';
	return true;
}

void
token_hash_literal(const char *token, char out[TOKEN_HASH_HEX + 3])
{
	out[0] = '\\';
	out[1] = 'x';
	sha256_hex(token, strlen(token), out + 2);
}

bool
token_well_formed(const char *token)
{
	if (!token || strlen(token) != TOKEN_LEN || strncmp(token, "hl_", 3) != 0)
		return false;
	for (size_t i = 3; i < TOKEN_LEN; i++)
		if (!isxdigit((unsigned char)token[i]) || isupper((unsigned char)token[i]))
			return false;
	return true;
}

bool
token_equal_ct(const char *a, const char *b, size_t len)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}
