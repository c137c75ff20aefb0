/* Unit tests for core/utf8: well-formed text is counted, every malformed class refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

static void
test_ascii_and_empty(void **state)
{
	size_t n = 99;

	(void)state;
	assert_true(utf8_validate("", 0, &n));
	assert_int_equal(n, 0);
	assert_true(utf8_validate("hello", 5, &n));
	assert_int_equal(n, 5);
	assert_true(utf8_validate("x", 1, NULL));
}

static void
test_counts_characters_not_bytes(void **state)
{
	const char *s = "小区门口占道摆摊"; /* 8 characters, 24 bytes */
	const char *mixed = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80"; /* a é 中 😀 */
	size_t n = 0;

	(void)state;
	assert_int_equal(strlen(s), 24);
	assert_true(utf8_validate(s, strlen(s), &n));
	assert_int_equal(n, 8);
	assert_true(utf8_validate(mixed, strlen(mixed), &n));
	assert_int_equal(n, 4);
}

static void
test_boundaries_accepted(void **state)
{
	static const char *const ok[] = {
		"\x7f",             /* U+007F */
		"\xc2\x80",         /* U+0080, smallest 2-byte */
		"\xdf\xbf",         /* U+07FF */
		"\xe0\xa0\x80",     /* U+0800, smallest 3-byte */
		"\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",     /* U+E000, just above them */
		"\xef\xbf\xbf",     /* U+FFFF */
		"\xf0\x90\x80\x80", /* U+10000, smallest 4-byte */
		"\xf4\x8f\xbf\xbf", /* U+10FFFF, the largest code point */
	};
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(utf8_validate(ok[i], strlen(ok[i]), &n));
		assert_int_equal(n, 1);
	}
}

static void
test_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"\x80",                 /* stray continuation */
		"\xbf",                 /* stray continuation */
		"\xc0\xaf",             /* overlong '/' */
		"\xc1\xbf",             /* overlong */
		"\xe0\x80\xaf",         /* overlong 3-byte '/' */
		"\xe0\x9f\xbf",         /* overlong 3-byte U+07FF */
		"\xf0\x80\x80\xaf",     /* overlong 4-byte */
		"\xf0\x8f\xbf\xbf",     /* overlong 4-byte U+FFFF */
		"\xed\xa0\x80",         /* U+D800, high surrogate */
		"\xed\xbf\xbf",         /* U+DFFF, low surrogate */
		"\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 surrogate pair */
		"\xf4\x90\x80\x80",     /* U+110000 */
		"\xf5\x80\x80\x80",     /* lead byte above F4 */
		"\xff",                 /* never in UTF-8 */
		"\xfe",
		"\xc3",                 /* truncated 2-byte */
		"\xe4\xb8",             /* truncated 3-byte */
		"\xf0\x9f\x98",         /* truncated 4-byte */
		"\xe4\x41\xad",         /* ASCII where a continuation belongs */
		"\xf0\x9f\x41\x80",     /* ASCII in the third byte */
		"ok\xc3(",              /* bad continuation after valid text */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 42;

		assert_false(utf8_validate(bad[i], strlen(bad[i]), &n));
		assert_int_equal(n, 42); /* untouched on failure */
	}
}

static void
test_nul_refused(void **state)
{
	(void)state;
	assert_false(utf8_validate("a\0b", 3, NULL));
	assert_false(utf8_validate("\0", 1, NULL));
	assert_true(utf8_validate("a\0b", 1, NULL)); /* the length decides, not a terminator */
}

static void
test_truncated_by_length(void **state)
{
	const char *s = "中文";
	size_t n = 0;

	(void)state;
	assert_true(utf8_validate(s, 6, &n));
	assert_int_equal(n, 2);
	assert_false(utf8_validate(s, 5, NULL)); /* cut inside the second character */
	assert_false(utf8_validate(s, 4, NULL));
	assert_true(utf8_validate(s, 3, &n));
	assert_int_equal(n, 1);
}

static void
test_every_two_byte_lead(void **state)
{
	(void)state;
	/* Exhaustive over the lead byte with a valid continuation: only C2..DF start a 2-byte form. */
	for (int lead = 0x80; lead <= 0xff; lead++) {
		char s[2] = {(char)lead, (char)0x80};

		assert_int_equal(utf8_validate(s, 2, NULL), lead >= 0xc2 && lead <= 0xdf);
	}
}

/* Decoding gives the code point and length of every well-formed sequence, and 0 for what
 * utf8_validate refuses; encoding is its inverse over every scalar value. */
static void
test_decode_encode_round_trip(void **state)
{
	char buf[4];
	uint32_t cp = 0;

	(void)state;
	for (uint32_t v = 0; v <= 0x10FFFF; v++) {
		size_t n;

		if (v >= 0xD800 && v <= 0xDFFF)
			continue;
		n = utf8_encode(v, buf);
		assert_int_equal(n, v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4);
		assert_int_equal(utf8_encode(v, NULL), n);
		assert_int_equal(utf8_decode(buf, n, &cp), n);
		assert_int_equal(cp, v);
		if (n > 1)
			assert_int_equal(utf8_decode(buf, n - 1, &cp), 0); /* truncated */
	}
	assert_int_equal(utf8_decode("\xe4\xb8\xad\xe6\x96\x87", 6, &cp), 3);
	assert_int_equal(cp, 0x4E2D);
	assert_int_equal(utf8_decode("", 1, &cp), 1); /* NUL decodes; utf8_validate refuses it */
	assert_int_equal(cp, 0);
}

static void
test_decode_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xff", "\x80", "\xbf", "\xe4\x41\xad",
	};
	uint32_t cp = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(utf8_decode(bad[i], strlen(bad[i]), &cp), 0);
		assert_false(utf8_validate(bad[i], strlen(bad[i]), NULL));
	}
	assert_int_equal(cp, 7); /* untouched */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_and_empty),
		cmocka_unit_test(test_counts_characters_not_bytes),
		cmocka_unit_test(test_boundaries_accepted),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_nul_refused),
		cmocka_unit_test(test_truncated_by_length),
		cmocka_unit_test(test_every_two_byte_lead),
		cmocka_unit_test(test_decode_encode_round_trip),
		cmocka_unit_test(test_decode_refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
