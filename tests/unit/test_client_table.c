/* test_client_table: display widths, truncation and alignment of the
 * client's tables (client/table.c), with Chinese and fullwidth text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The client is its own program: its files are compiled into the test. */
#include "../../client/table.c"

/* What print writes, as a malloc'd string. */
static char *
capture_table(const Table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	table_print(t, f);
	fclose(f);
	return buf;
}

static void
test_code_point_widths(void **state)
{
	(void)state;
	assert_int_equal(table_cp_width('a'), 1);
	assert_int_equal(table_cp_width(0x4E2D), 2);	/* 中 */
	assert_int_equal(table_cp_width(0x3001), 2);	/* 、 */
	assert_int_equal(table_cp_width(0xFF21), 2);	/* fullwidth Ａ */
	assert_int_equal(table_cp_width(0xFF0C), 2);	/* fullwidth ， */
	assert_int_equal(table_cp_width(0xD55C), 2);	/* Hangul 한 */
	assert_int_equal(table_cp_width(0x1F600), 2);	/* emoji */
	assert_int_equal(table_cp_width(0x20BB7), 2);	/* CJK extension B */
	assert_int_equal(table_cp_width(0x0301), 0);	/* combining acute */
	assert_int_equal(table_cp_width(0x200B), 0);	/* zero-width space */
	assert_int_equal(table_cp_width(0x2026), 1);	/* … */
	assert_int_equal(table_cp_width(0x00E9), 1);	/* é */
	assert_int_equal(table_cp_width(0xFF61), 1);	/* halfwidth katakana stop */
	assert_int_equal(table_cp_width('\n'), 0);
}

static void
test_string_widths(void **state)
{
	(void)state;
	assert_int_equal(table_width(""), 0);
	assert_int_equal(table_width("驿城区"), 6);
	assert_int_equal(table_width("ab中c"), 5);
	assert_int_equal(table_width("e\xcc\x81"), 1);	/* e + combining acute */
	assert_int_equal(table_width("\xff"), 1);	/* a stray byte shows as U+FFFD */
	assert_int_equal(table_width("\xe4\xb8"), 2);	/* a cut sequence: two stray bytes */
}

static void
test_decode_rejects_malformed(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(table_utf8_decode("\xc0\xaf", 2, &cp), 1);	/* overlong '/' */
	assert_int_equal(cp, 0xFFFD);
	assert_int_equal(table_utf8_decode("\xed\xa0\x80", 3, &cp), 1);	/* surrogate */
	assert_int_equal(cp, 0xFFFD);
	assert_int_equal(table_utf8_decode("\xf4\x90\x80\x80", 4, &cp), 1);	/* > U+10FFFF */
	assert_int_equal(cp, 0xFFFD);
	assert_int_equal(table_utf8_decode("\xe4\xb8\xad", 3, &cp), 3);
	assert_int_equal(cp, 0x4E2D);
	assert_int_equal(table_utf8_decode("\xf0\xa0\xae\xb7", 4, &cp), 4);
	assert_int_equal(cp, 0x20BB7);
}

static void
test_fit_truncates_by_columns(void **state)
{
	static const struct {
		const char *in;
		int max;
		const char *out;
	} cases[] = {
		{"abc", 3, "abc"},
		{"abcd", 3, "ab\xe2\x80\xa6"},
		{"小区门口占道摆摊", 10, "小区门口\xe2\x80\xa6"},	/* 8 + 1 columns: 占 would make 11 */
		{"小区门口占道摆摊", 9, "小区门口\xe2\x80\xa6"},
		{"小区门口占道摆摊", 16, "小区门口占道摆摊"},
		{"a中b", 3, "a\xe2\x80\xa6"},
		{"中", 1, "\xe2\x80\xa6"},
		{"line\nbreak\ttab", 0, "line break tab"},
		{"\xff", 0, "\xef\xbf\xbd"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = table_fit(cases[i].in, cases[i].max);

		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		if (cases[i].max > 0)
			assert_true(table_width(got) <= cases[i].max);
		free(got);
	}
}

/* The snapshot: columns start at the same display column on every line
 * even though the district names are 6 and 14 columns wide in 3 and 7
 * characters, and the long title is cut with an ellipsis. */
static void
test_table_aligns_chinese(void **state)
{
	static const char *const headers[] = {"ID", "DISTRICT", "TITLE"};
	static const char *const rows[][3] = {
		{"1", "驿城区", "小区门口占道摆摊"},
		{"12", "West", "short"},
		{"123", "高新技术开发区", "\xef\xbc\xa1\xef\xbd\x82"},	/* Ａｂ */
	};
	const char *expect = " ID  DISTRICT        TITLE\n"
			     "  1  驿城区          小区门口\xe2\x80\xa6\n"
			     " 12  West            short\n"
			     "123  高新技术开发区  \xef\xbc\xa1\xef\xbd\x82\n";
	Table *t = table_new(3, headers);
	char *out;

	(void)state;
	assert_non_null(t);
	table_set_right(t, 0);
	table_set_max_width(t, 2, 10);
	for (size_t i = 0; i < 3; i++)
		assert_true(table_add_row(t, rows[i]));
	assert_int_equal(table_rows(t), 3);
	out = capture_table(t);
	assert_string_equal(out, expect);
	/* The same, measured: TITLE starts at display column 21 on each line. */
	for (char *line = out; *line;) {
		char *nl = strchr(line, '\n');
		int col = 0;
		size_t i = 0;

		while (col < 21) {
			uint32_t cp;

			i += table_utf8_decode(line + i, (size_t)(nl - line) - i, &cp);
			col += table_cp_width(cp);
		}
		assert_int_equal(col, 21);
		assert_true(line[i] != ' ');
		line = nl + 1;
	}
	free(out);
	table_free(t);
}

static void
test_empty_cells_and_no_trailing_blanks(void **state)
{
	static const char *const headers[] = {"A", "B"};
	const char *row[] = {NULL, ""};
	Table *t = table_new(2, headers);
	char *out;

	(void)state;
	assert_non_null(t);
	assert_true(table_add_row(t, row));
	out = capture_table(t);
	assert_string_equal(out, "A  B\n\n");
	free(out);
	table_free(t);
}

static void
test_kv_block_aligns_values(void **state)
{
	KvBlock *kv = kv_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(kv);
	assert_non_null(f);
	assert_true(kv_add(kv, "id", "1"));
	assert_true(kv_add(kv, "地址", "风光路"));
	assert_true(kv_add(kv, "x", "a\nb"));
	kv_print(kv, f);
	fclose(f);
	assert_string_equal(buf, "id:   1\n"
				 "地址: 风光路\n"
				 "x:    a\n"
				 "      b\n");
	free(buf);
	kv_free(kv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_point_widths),
		cmocka_unit_test(test_string_widths),
		cmocka_unit_test(test_decode_rejects_malformed),
		cmocka_unit_test(test_fit_truncates_by_columns),
		cmocka_unit_test(test_table_aligns_chinese),
		cmocka_unit_test(test_empty_cells_and_no_trailing_blanks),
		cmocka_unit_test(test_kv_block_aligns_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
