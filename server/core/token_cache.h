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
 * A token the database did not know is remembered too, for the same ttl (a negative entry), so
 * a client repeating a made-up or revoked token costs no query each time; a token created by
 * this server cannot have been presented before, and invalidation forgets negatives as well.
 *
 * Pure: the caller passes the time (seconds, monotonic). Direct-mapped on the hash's first
 * bytes (uniformly random), so a collision just evicts.
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
/* The user of key (TOKEN_CACHE_KEY_LEN hex digits) into *out; false when absent, expired or
 * known to be unknown. */
bool token_cache_get(const TokenCache *tc, const char *key, double now, User *out)
	__attribute__((warn_unused_result));
/* The generation to pass to token_cache_put for a lookup starting now. */
unsigned long token_cache_generation(const TokenCache *tc);
/* Remember key's user as read at generation gen; ignored if the cache was invalidated since. */
void token_cache_put(TokenCache *tc, const char *key, const User *user, double now, unsigned long gen);
/* True when key was found unknown (token_cache_put_unknown) less than ttl ago. */
bool token_cache_unknown(const TokenCache *tc, const char *key, double now);
/* Remember that the database knew no user for key, as read at generation gen. */
void token_cache_put_unknown(TokenCache *tc, const char *key, double now, unsigned long gen);
/* Forget every entry and refuse answers read before now. */
void token_cache_invalidate(TokenCache *tc);

#endif
