/* ratelimit: token buckets in a small array, found by linear search (keys are few: users). */
#include "core/ratelimit.h"

#include <stdlib.h>
#include <string.h>

typedef struct Bucket {
	int64_t key;
	double tokens;
	double last;   /* time of the last refill */
} Bucket;

struct RateLimiter {
	double rate, burst;
	Bucket *buckets;
	size_t n, capacity;
};

RateLimiter *
ratelimit_new(double rate, double burst, size_t capacity)
{
	RateLimiter *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	rl->capacity = capacity < 2 ? 2 : capacity;
	rl->buckets = calloc(rl->capacity, sizeof(Bucket));
	if (!rl->buckets) {
		free(rl);
		return NULL;
	}
	return rl;
}

void
ratelimit_free(RateLimiter *rl)
{
	if (rl)
		free(rl->buckets);
	free(rl);
}

static int
bucket_by_last(const void *a, const void *b)
{
	double x = ((const Bucket *)a)->last, y = ((const Bucket *)b)->last;

	return (x < y) - (x > y); /* newest first */
}

static Bucket *
ratelimit_bucket(RateLimiter *rl, int64_t key, double now)
{
	for (size_t i = 0; i < rl->n; i++)
		if (rl->buckets[i].key == key)
			return &rl->buckets[i];
	if (rl->n == rl->capacity) {
		qsort(rl->buckets, rl->n, sizeof(Bucket), bucket_by_last);
		rl->n /= 2;
	}
	rl->buckets[rl->n] = (Bucket){key, rl->burst, now};
	return &rl->buckets[rl->n++];
}

bool
ratelimit_allow(RateLimiter *rl, int64_t key, double now)
{
	Bucket *b = ratelimit_bucket(rl, key, now);

	if (now > b->last) {
		b->tokens += (now - b->last) * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last = now;
	}
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

void
ratelimit_refund(RateLimiter *rl, int64_t key)
{
	for (size_t i = 0; i < rl->n; i++) {
		if (rl->buckets[i].key == key) {
			if (rl->buckets[i].tokens + 1 <= rl->burst)
				rl->buckets[i].tokens += 1;
			return;
		}
	}
}
