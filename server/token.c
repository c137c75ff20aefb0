/* token: generation from getrandom(), hashing, shape checks, constant-time comparison. */
#include "token.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/sha256.h"

#define TOKEN_RANDOM_BYTES 24

/* Fill buf with len bytes from the kernel's random source; false when it gives none. */
static bool
random_fill(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

bool
token_generate(char out[TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[TOKEN_RANDOM_BYTES];

	if (!random_fill(raw, sizeof(raw)))
		return false;
	memcpy(out, "hl_", 3);
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[3 + 2 * i] = hex[raw[i] >> 4];
		out[3 + 2 * i + 1] = hex[raw[i] & 15];
	}
	out[TOKEN_LEN] = '\0';
	return true;
}

bool
token_track_code(char out[TRACK_CODE_LEN + 1])
{
	/* The largest multiple of 10^6 that fits 32 bits: draws at or above it are redrawn, so
	 * every code is equally likely. */
	const uint32_t limit = UINT32_MAX - UINT32_MAX % 1000000u;
	uint32_t v;

	do {
		if (!random_fill((unsigned char *)&v, sizeof(v)))
			return false;
	} while (v >= limit);
	snprintf(out, TRACK_CODE_LEN + 1, "%06u", (unsigned)(v % 1000000u));
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
