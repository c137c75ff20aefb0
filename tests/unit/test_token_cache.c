/*
 * Unit tests for core/token_cache: a hit within the lifetime, expiry, a different key that
 * maps to the same slot, invalidation, an answer read before an invalidation not stored, and
 * negative entries (a token the database did not know).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/token_cache.h"

#define KEY_A "00000000000a1111111111111111111111111111111111111111111111111111"
/* Same first twelve digits as KEY_A (the slot), different afterwards. */
#define KEY_A2 "00000000000a2222222222222222222222222222222222222222222222222222"
#define KEY_B "00000000000bffffffffffffffffffffffffffffffffffffffffffffffffffff"

static User
user_of(int64_t id, Role role, const char *department)
{
	User u = {.id = id, .role = role};

	snprintf(u.name, sizeof(u.name), "user %lld", (long long)id);
	snprintf(u.department, sizeof(u.department), "%s", department);
	return u;
}

static void
test_hit_within_lifetime_then_expired(void **state)
{
	TokenCache *tc = token_cache_new(16, 5.0);
	User in = user_of(7, ROLE_DEPARTMENT, "housing"), out;

	(void)state;
	assert_false(token_cache_get(tc, KEY_A, 100.0, &out));
	token_cache_put(tc, KEY_A, &in, 100.0, token_cache_generation(tc));
	assert_true(token_cache_get(tc, KEY_A, 104.9, &out));
	assert_int_equal(out.id, 7);
	assert_int_equal(out.role, ROLE_DEPARTMENT);
	assert_string_equal(out.name, "user 7");
	assert_string_equal(out.department, "housing");
	assert_false(token_cache_get(tc, KEY_A, 105.0, &out));
	assert_false(token_cache_get(tc, KEY_B, 101.0, &out));
	token_cache_free(tc);
}

static void
test_same_slot_other_key_misses_and_evicts(void **state)
{
	TokenCache *tc = token_cache_new(16, 5.0);
	User a = user_of(1, ROLE_OPERATOR, ""), a2 = user_of(2, ROLE_ADMIN, ""), out;

	(void)state;
	token_cache_put(tc, KEY_A, &a, 0.0, token_cache_generation(tc));
	assert_false(token_cache_get(tc, KEY_A2, 1.0, &out));
	token_cache_put(tc, KEY_A2, &a2, 1.0, token_cache_generation(tc));
	assert_true(token_cache_get(tc, KEY_A2, 1.0, &out));
	assert_int_equal(out.id, 2);
	assert_false(token_cache_get(tc, KEY_A, 1.0, &out));
	token_cache_free(tc);
}

static void
test_invalidate_forgets_and_refuses_older_answers(void **state)
{
	TokenCache *tc = token_cache_new(16, 5.0);
	User a = user_of(1, ROLE_OPERATOR, ""), b = user_of(2, ROLE_MANAGER, ""), out;
	unsigned long before;

	(void)state;
	token_cache_put(tc, KEY_A, &a, 0.0, token_cache_generation(tc));
	before = token_cache_generation(tc); /* a lookup of KEY_B is sent... */
	token_cache_invalidate(tc);           /* ...a revocation commits meanwhile... */
	assert_false(token_cache_get(tc, KEY_A, 1.0, &out));
	token_cache_put(tc, KEY_B, &b, 1.0, before); /* ...so its answer may be stale: dropped */
	assert_false(token_cache_get(tc, KEY_B, 1.0, &out));
	token_cache_put(tc, KEY_B, &b, 1.0, token_cache_generation(tc));
	assert_true(token_cache_get(tc, KEY_B, 1.0, &out));
	token_cache_free(tc);
}

static void
test_uppercase_hex_maps_like_lowercase(void **state)
{
	TokenCache *tc = token_cache_new(1000, 5.0); /* rounded up to 1024 slots */
	User a = user_of(3, ROLE_OPERATOR, ""), out;
	char upper[] = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

	(void)state;
	token_cache_put(tc, upper, &a, 0.0, token_cache_generation(tc));
	assert_true(token_cache_get(tc, upper, 0.0, &out));
	token_cache_free(tc);
}

static void
test_unknown_remembered_for_the_lifetime_and_never_a_user(void **state)
{
	TokenCache *tc = token_cache_new(16, 5.0);
	User in = user_of(7, ROLE_OPERATOR, ""), out;

	(void)state;
	assert_false(token_cache_unknown(tc, KEY_A, 100.0));
	token_cache_put_unknown(tc, KEY_A, 100.0, token_cache_generation(tc));
	assert_true(token_cache_unknown(tc, KEY_A, 104.9));
	assert_false(token_cache_get(tc, KEY_A, 104.9, &out));
	assert_false(token_cache_unknown(tc, KEY_A2, 104.9)); /* same slot, another key */
	assert_false(token_cache_unknown(tc, KEY_A, 105.0));  /* expired */
	token_cache_put_unknown(tc, KEY_A, 200.0, token_cache_generation(tc));
	token_cache_put(tc, KEY_A, &in, 200.0, token_cache_generation(tc)); /* it exists after all */
	assert_false(token_cache_unknown(tc, KEY_A, 200.0));
	assert_true(token_cache_get(tc, KEY_A, 200.0, &out));
	token_cache_free(tc);
}

static void
test_invalidate_forgets_unknown_and_refuses_older_answers(void **state)
{
	TokenCache *tc = token_cache_new(16, 5.0);
	unsigned long gen = token_cache_generation(tc);

	(void)state;
	token_cache_put_unknown(tc, KEY_B, 100.0, gen);
	token_cache_invalidate(tc);
	assert_false(token_cache_unknown(tc, KEY_B, 100.0));
	token_cache_put_unknown(tc, KEY_B, 100.0, gen); /* read before the invalidation */
	assert_false(token_cache_unknown(tc, KEY_B, 100.0));
	token_cache_free(tc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_within_lifetime_then_expired),
		cmocka_unit_test(test_same_slot_other_key_misses_and_evicts),
		cmocka_unit_test(test_invalidate_forgets_and_refuses_older_answers),
		cmocka_unit_test(test_uppercase_hex_maps_like_lowercase),
		cmocka_unit_test(test_unknown_remembered_for_the_lifetime_and_never_a_user),
		cmocka_unit_test(test_invalidate_forgets_unknown_and_refuses_older_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
