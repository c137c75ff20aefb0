/*
 * ratelimit: a token bucket per key (a user id, a client address), for the contract's 429
 * rate_limited.
 * Pure: the caller passes the time; the table is bounded (when it is full the oldest
 * half of the buckets is forgotten, which can only let a client through, never block one).
 */
#ifndef HOTLINE_CORE_RATELIMIT_H
#define HOTLINE_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RateLimiter RateLimiter;

/* rate: tokens per second; burst: bucket size; capacity: keys remembered. NULL on OOM. */
RateLimiter *ratelimit_new(double rate, double burst, size_t capacity);
void ratelimit_free(RateLimiter *rl);
/* Take one token of key's bucket at time now (seconds); false when the bucket is empty. */
bool ratelimit_allow(RateLimiter *rl, int64_t key, double now);
/* Give back the token an allowed attempt took, when it turned out not to count (up to the burst). */
void ratelimit_refund(RateLimiter *rl, int64_t key);

#endif
