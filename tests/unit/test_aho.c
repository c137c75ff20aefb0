/* test_aho: the Aho-Corasick matcher (server/core/aho.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/aho.h"

/* Build an automaton from NUL-terminated patterns; ids[i] receives pattern i's id. */
static Aho *
build(const char *const *pats, size_t n, uint32_t *ids)
{
	AhoBuilder *b = aho_builder_new();

	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		assert_true(aho_builder_add(b, pats[i], strlen(pats[i]), &ids[i]));
	Aho *a = aho_builder_finish(b);
	assert_non_null(a);
	return a;
}

/* Scan one text into a fresh set; returns the set (caller frees). */
static uint64_t *
scan(const Aho *a, const char *text, size_t *added)
{
	uint64_t *seen = calloc(aho_seen_words(a), sizeof(*seen));

	assert_non_null(seen);
	*added = aho_scan(a, text, strlen(text), seen);
	return seen;
}

static void
test_basic_overlaps(void **state)
{
	const char *pats[] = {"he", "she", "his", "hers"};
	uint32_t ids[4];
	size_t added;
	(void)state;

	Aho *a = build(pats, 4, ids);
	assert_int_equal(aho_pattern_count(a), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(ids[i], i);
	uint64_t *seen = scan(a, "ushers", &added);
	assert_int_equal(added, 3);
	assert_true(aho_seen_test(seen, ids[0]));	/* he (inside she) */
	assert_true(aho_seen_test(seen, ids[1]));	/* she */
	assert_false(aho_seen_test(seen, ids[2]));	/* his */
	assert_true(aho_seen_test(seen, ids[3]));	/* hers */
	free(seen);
	aho_free(a);
}

static void
test_distinct_and_accumulate(void **state)
{
	const char *pats[] = {"水", "停水"};
	uint32_t ids[2];
	size_t added;
	(void)state;

	Aho *a = build(pats, 2, ids);
	uint64_t *seen = scan(a, "停水停水又停水，水", &added);
	assert_int_equal(added, 2);	/* each pattern reported once */
	/* a second text into the same set adds nothing new */
	assert_int_equal(aho_scan(a, "水", strlen("水"), seen), 0);
	free(seen);
	aho_free(a);
}

static void
test_ascii_case_folding(void **state)
{
	const char *pats[] = {"WiFi", "wifi", "5G", "ABC"};
	uint32_t ids[4];
	size_t added;
	(void)state;

	Aho *a = build(pats, 4, ids);
	assert_int_equal(ids[0], ids[1]);	/* equal after folding: one id */
	assert_int_equal(aho_pattern_count(a), 3);
	uint64_t *seen = scan(a, "家里wIFI信号差，5g也不行", &added);
	assert_int_equal(added, 2);
	assert_true(aho_seen_test(seen, ids[0]));
	assert_true(aho_seen_test(seen, ids[2]));
	assert_false(aho_seen_test(seen, ids[3]));
	free(seen);
	aho_free(a);
}

static void
test_fullwidth_not_folded(void **state)
{
	/* Only ASCII letters fold: full-width Ａ (U+FF21) is not 'a'. */
	const char *pats[] = {"a"};
	uint32_t ids[1];
	size_t added;
	(void)state;

	Aho *a = build(pats, 1, ids);
	uint64_t *seen = scan(a, "Ａ", &added);
	assert_int_equal(added, 0);
	free(seen);
	aho_free(a);
}

static void
test_chinese_substrings(void **state)
{
	/* 水管 occurs inside 喝水管理 although the words are 喝水 and 管理: plain substrings. */
	const char *pats[] = {"水管", "管理", "理发", "电梯"};
	uint32_t ids[4];
	size_t added;
	(void)state;

	Aho *a = build(pats, 4, ids);
	uint64_t *seen = scan(a, "喝水管理处", &added);
	assert_int_equal(added, 2);
	assert_true(aho_seen_test(seen, ids[0]));
	assert_true(aho_seen_test(seen, ids[1]));
	assert_false(aho_seen_test(seen, ids[2]));
	assert_false(aho_seen_test(seen, ids[3]));
	free(seen);
	aho_free(a);
}

static void
test_no_match_across_chars(void **state)
{
	/* 梯 is E6 A2 AF; the bytes A2 AF E7 never start a character, so a pattern made of
	 * valid UTF-8 cannot match at a misaligned position. */
	const char *pats[] = {"梯子"};
	uint32_t ids[1];
	size_t added;
	(void)state;

	Aho *a = build(pats, 1, ids);
	uint64_t *seen = scan(a, "电梯坏了，梯 子", &added);
	assert_int_equal(added, 0);
	free(seen);
	aho_free(a);
}

static void
test_empty_and_edge_cases(void **state)
{
	AhoBuilder *b = aho_builder_new();
	uint32_t id = 99;
	size_t added;
	(void)state;

	assert_non_null(b);
	assert_false(aho_builder_add(b, "", 0, &id));
	assert_int_equal(id, 99);
	Aho *a = aho_builder_finish(b);
	assert_non_null(a);
	assert_int_equal(aho_pattern_count(a), 0);
	assert_int_equal(aho_seen_words(a), 1);
	uint64_t *seen = scan(a, "anything", &added);
	assert_int_equal(added, 0);
	free(seen);
	aho_free(a);
	aho_free(NULL);
	aho_builder_free(NULL);
	aho_builder_free(aho_builder_new());
}

static void
test_failure_links_deep(void **state)
{
	/* Patterns that share suffixes and prefixes force long failure chains. */
	const char *pats[] = {"abcd", "bcd", "cd", "d", "bce", "abcde", "xabcdy"};
	uint32_t ids[7];
	size_t added;
	(void)state;

	Aho *a = build(pats, 7, ids);
	uint64_t *seen = scan(a, "xabcdebce", &added);
	assert_int_equal(added, 6);
	for (int i = 0; i < 6; i++)
		assert_true(aho_seen_test(seen, ids[i]));
	assert_false(aho_seen_test(seen, ids[6]));
	free(seen);
	aho_free(a);
}

/* Compare with a naive search on many patterns with wide fan-out (dense tables). */
static void
test_against_naive(void **state)
{
	enum { NP = 3000 };
	static char pats[NP][16];
	static const char *const chars[] = {"水", "电", "气", "路", "灯", "A", "b", "噪", "音", "楼",
					    "梯", "x", "Y", "工", "资", "费", "网", "车", "房", "证"};
	const size_t nchars = sizeof(chars) / sizeof(chars[0]);
	uint32_t ids[NP];
	unsigned seed = 12345;
	char text[4096];
	(void)state;

	AhoBuilder *b = aho_builder_new();
	assert_non_null(b);
	for (int i = 0; i < NP; i++) {
		int len = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;

		pats[i][0] = 0;
		for (int k = 0; k < len; k++)
			strcat(pats[i], chars[((seed = seed * 1103515245u + 12345u) >> 16) % nchars]);
		assert_true(aho_builder_add(b, pats[i], strlen(pats[i]), &ids[i]));
	}
	Aho *a = aho_builder_finish(b);
	assert_non_null(a);
	for (int round = 0; round < 50; round++) {
		text[0] = 0;
		for (int k = 0; k < 200; k++)
			strcat(text, chars[((seed = seed * 1103515245u + 12345u) >> 16) % nchars]);
		uint64_t *seen = calloc(aho_seen_words(a), sizeof(*seen));
		char ft[4096];
		size_t k;

		assert_non_null(seen);
		aho_scan(a, text, strlen(text), seen);
		/* naive: fold ASCII of both, then strstr */
		for (k = 0; text[k]; k++)
			ft[k] = (text[k] >= 'A' && text[k] <= 'Z') ? (char)(text[k] + 32) : text[k];
		ft[k] = 0;
		for (int i = 0; i < NP; i++) {
			char fp[16];

			for (k = 0; pats[i][k]; k++)
				fp[k] = (pats[i][k] >= 'A' && pats[i][k] <= 'Z') ? (char)(pats[i][k] + 32) : pats[i][k];
			fp[k] = 0;
			assert_int_equal(strstr(ft, fp) != NULL, aho_seen_test(seen, ids[i]));
		}
		free(seen);
	}
	aho_free(a);
}

/* Valid UTF-8 patterns in arbitrary bytes (stray continuation bytes, truncated and
 * overlong sequences, surrogates): found exactly where a folded byte search finds them. */
static void
test_invalid_utf8_text(void **state)
{
	static const char *const pats[] = {"水", "停水", "a水", "水B", "\xc3\xa9", "电梯", "x", "\xf0\x9f\x98\x80"};
	static const unsigned char pieces[][4] = {
		{0xe6, 0xb0, 0xb4, 0}, {0xe5, 0x81, 0x9c, 0}, {0xb0, 0}, {0xe6, 0xb0, 0}, {0xc3, 0}, {0xc3, 0xa9, 0},
		{0xc0, 0x80, 0}, {0xed, 0xa0, 0x80, 0}, {'A', 0}, {'b', 0}, {'X', 0}, {0xf0, 0x9f, 0x98, 0},
		{0x98, 0x80, 0}, {0xe7, 0x94, 0xb5, 0}, {0xe6, 0xa2, 0xaf, 0}, {0xff, 0},
	};
	const size_t np = sizeof(pats) / sizeof(pats[0]), npieces = sizeof(pieces) / sizeof(pieces[0]);
	uint32_t ids[8];
	unsigned seed = 99;
	(void)state;

	Aho *a = build(pats, np, ids);
	for (int round = 0; round < 2000; round++) {
		char text[256], ft[256], fp[16];
		size_t len = 0;
		uint64_t seen[1] = {0};

		for (int k = 0; k < 20; k++) {
			const char *piece = (const char *)pieces[((seed = seed * 1103515245u + 12345u) >> 16) % npieces];

			memcpy(text + len, piece, strlen(piece));
			len += strlen(piece);
		}
		text[len] = 0;
		aho_scan(a, text, len, seen);
		for (size_t k = 0; k <= len; k++)
			ft[k] = (text[k] >= 'A' && text[k] <= 'Z') ? (char)(text[k] + 32) : text[k];
		for (size_t i = 0; i < np; i++) {
			size_t k;

			for (k = 0; pats[i][k]; k++)
				fp[k] = (pats[i][k] >= 'A' && pats[i][k] <= 'Z') ? (char)(pats[i][k] + 32) : pats[i][k];
			fp[k] = 0;
			if ((strstr(ft, fp) != NULL) != aho_seen_test(seen, ids[i]))
				fail_msg("pattern %zu, round %d", i, round);
		}
	}
	aho_free(a);
}

/* A pattern of 50 characters, one inside it, and one longer than what the text holds. */
static void
test_long_patterns(void **state)
{
	char longest[256] = "", text[512];
	size_t added;
	(void)state;

	for (int i = 0; i < 50; i++)
		strcat(longest, i % 2 ? "水" : "电");
	char longer[300];

	snprintf(longer, sizeof(longer), "水%s", longest);	/* 51 characters: not in the text */
	const char *pats[] = {longest, "电水电", longer};
	uint32_t ids[3];

	Aho *a = build(pats, 3, ids);
	snprintf(text, sizeof(text), "前面%s后面", longest);
	uint64_t *seen = scan(a, text, &added);
	assert_int_equal(added, 2);
	assert_true(aho_seen_test(seen, ids[0]));
	assert_true(aho_seen_test(seen, ids[1]));
	assert_false(aho_seen_test(seen, ids[2]));
	free(seen);
	aho_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_overlaps),
		cmocka_unit_test(test_distinct_and_accumulate),
		cmocka_unit_test(test_ascii_case_folding),
		cmocka_unit_test(test_fullwidth_not_folded),
		cmocka_unit_test(test_chinese_substrings),
		cmocka_unit_test(test_no_match_across_chars),
		cmocka_unit_test(test_empty_and_edge_cases),
		cmocka_unit_test(test_failure_links_deep),
		cmocka_unit_test(test_against_naive),
		cmocka_unit_test(test_invalid_utf8_text),
		cmocka_unit_test(test_long_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
