/*
 * token_cache: the users of recently authenticated tokens, so that most requests need no
 * database round trip to learn who sent them (one less query per request on the intake path).
 *
 * Keys are the tokens' SHA-256 in hex, never the tokens. An entry lives `ttl` seconds: that
 * bounds how long a token revoked or a user disabled through ANOTHER server (or by hand in
 * SQL) keeps working here. Writes through this server call token_cache_invalidate, before
 * they are sent and again once committed, which forgets every entry. A lookup that missed
 * reads the generation first and passes it to token_cache_put: an answer that was in flight
 * across an invalidation is not stored, since it may predate the write.
 *
 * Pure: the caller passes the time (seconds, monotonic). Direct-mapped on the hash's first
 * bytes (uniformly random), so a collision just evicts; only found users are stored.
 */
#ifndef HOTLINE_CORE_TOKEN_CACHE_H
#define HOTLINE_CORE_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/user.h"

#define TOKEN_CACHE_KEY_LEN 64 /* hex digits of a SHA-256 */

typedef struct TokenCache TokenCache;

/* slots: rounded up to a power of two; ttl: seconds an entry is trusted. NULL on OOM. */
TokenCache *token_cache_new(size_t slots, double ttl);
void token_cache_free(TokenCache *tc);
/* The user of key (TOKEN_CACHE_KEY_LEN hex digits) into *out; false when absent or expired. */
bool token_cache_get(const TokenCache *tc, const char *key, double now, User *out);
/* The generation to pass to token_cache_put for a lookup starting now. */
unsigned long token_cache_generation(const TokenCache *tc);
/* Remember key's user as read at generation gen; ignored if the cache was invalidated since. */
void token_cache_put(TokenCache *tc, const char *key, const User *user, double now, unsigned long gen);
/* Forget every entry and refuse answers read before now. */
void token_cache_invalidate(TokenCache *tc);

#endif
