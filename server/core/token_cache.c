#include "core/token_cache.h"

#include <stdlib.h>
#include <string.h>

typedef struct TokenEntry {
	char key[TOKEN_CACHE_KEY_LEN];
	bool used;
	bool unknown;  /* a negative entry: the database knew no user for this key */
	double expires;
	User user;
} TokenEntry;

struct TokenCache {
	TokenEntry *entries;
	size_t mask;
	double ttl;
	unsigned long generation;
};

static size_t token_cache_slot(const TokenCache *tc, const char *key);
static bool token_cache_key_equal(const char *a, const char *b);

TokenCache *
token_cache_new(size_t slots, double ttl)
{
	TokenCache *tc = calloc(1, sizeof(*tc));
	size_t n = 1;

	while (n < slots)
		n *= 2;
	if (!tc || !(tc->entries = calloc(n, sizeof(TokenEntry)))) {
		free(tc);
		return NULL;
	}
	tc->mask = n - 1;
	tc->ttl = ttl;
	return tc;
}

void
token_cache_free(TokenCache *tc)
{
	if (!tc)
		return;
	free(tc->entries);
	free(tc);
}

/* The live entry of key, positive or negative; NULL when none. */
static const TokenEntry *
token_cache_find(const TokenCache *tc, const char *key, double now)
{
	const TokenEntry *e = &tc->entries[token_cache_slot(tc, key)];

	if (!e->used || now >= e->expires || !token_cache_key_equal(e->key, key))
		return NULL;
	return e;
}

bool
token_cache_get(const TokenCache *tc, const char *key, double now, User *out)
{
	const TokenEntry *e = token_cache_find(tc, key, now);

	if (!e || e->unknown)
		return false;
	*out = e->user;
	return true;
}

bool
token_cache_unknown(const TokenCache *tc, const char *key, double now)
{
	const TokenEntry *e = token_cache_find(tc, key, now);

	return e && e->unknown;
}

unsigned long
token_cache_generation(const TokenCache *tc)
{
	return tc->generation;
}

void
token_cache_put(TokenCache *tc, const char *key, const User *user, double now, unsigned long gen)
{
	TokenEntry *e = &tc->entries[token_cache_slot(tc, key)];

	if (gen != tc->generation)
		return;
	memcpy(e->key, key, TOKEN_CACHE_KEY_LEN);
	e->used = true;
	e->unknown = false;
	e->expires = now + tc->ttl;
	e->user = *user;
}

void
token_cache_put_unknown(TokenCache *tc, const char *key, double now, unsigned long gen)
{
	TokenEntry *e = &tc->entries[token_cache_slot(tc, key)];

	if (gen != tc->generation)
		return;
	memcpy(e->key, key, TOKEN_CACHE_KEY_LEN);
	e->used = true;
	e->unknown = true;
	e->expires = now + tc->ttl;
}

void
token_cache_invalidate(TokenCache *tc)
{
	for (size_t i = 0; i <= tc->mask; i++)
		tc->entries[i].used = false;
	tc->generation++;
}

/* The key is hex of a hash, so its first digits are already uniformly spread. */
static size_t
token_cache_slot(const TokenCache *tc, const char *key)
{
	size_t h = 0;

	for (int i = 0; i < 12; i++)
		h = h * 16 + (size_t)(key[i] <= '9' ? key[i] - '0' : (key[i] | 0x20) - 'a' + 10);
	return h & tc->mask;
}

/* No early exit: how long a comparison takes says nothing about how much of a key matched. */
static bool
token_cache_key_equal(const char *a, const char *b)
{
	unsigned char d = 0;

	for (int i = 0; i < TOKEN_CACHE_KEY_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}
