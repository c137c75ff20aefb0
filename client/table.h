/*
 * table: terminal text laid out by display width.
 *
 * Case text is Chinese: a CJK or fullwidth character takes two terminal
 * columns, so aligning by bytes or by code points breaks every table.
 * These helpers measure UTF-8 by East Asian width, truncate with an
 * ellipsis, and print aligned tables and "key: value" blocks.
 */
#ifndef HOTLINE_CLIENT_TABLE_H
#define HOTLINE_CLIENT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Table Table;
typedef struct KvBlock KvBlock;

/* Columns the code point takes in a terminal: 0 (combining, zero-width,
 * control), 2 (East Asian Wide or Fullwidth) or 1. */
int table_cp_width(uint32_t cp);

/* Decode one UTF-8 sequence at s (at most len bytes) into *cp and return
 * its length in bytes (>= 1). A malformed byte decodes as U+FFFD, length 1. */
size_t table_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Display width of the UTF-8 string s. */
int table_width(const char *s);

/* A malloc'd copy of s that fits in max_width columns: control characters
 * (newlines, tabs) become spaces, and a longer string is cut at a character
 * boundary and ends with "…". The caller frees it. */
char *table_fit(const char *s, int max_width);

/* A table with ncols columns and the given headers (copied). Returns NULL
 * when out of memory. Free with table_free. */
Table *table_new(size_t ncols, const char *const *headers);

/* Cells of column col are cut to max_width columns (default: no limit). */
void table_set_max_width(Table *t, size_t col, int max_width);

/* Cells of column col are aligned to the right (numbers). */
void table_set_right(Table *t, size_t col);

/* Append a row of ncols cells (copied; NULL prints as empty).
 * Returns false when out of memory. */
bool table_add_row(Table *t, const char *const *cells) __attribute__((warn_unused_result));

/* Rows added so far. */
size_t table_rows(const Table *t);

/* Print the header line and the rows: columns separated by two spaces,
 * no trailing blanks. */
void table_print(const Table *t, FILE *out);

void table_free(Table *t);

/* A "key: value" block whose values start in one column. */
KvBlock *kv_new(void);

/* Append key and value (both copied). A value with newlines continues on
 * lines indented to the value column. Returns false when out of memory. */
bool kv_add(KvBlock *kv, const char *key, const char *value) __attribute__((warn_unused_result));

void kv_print(const KvBlock *kv, FILE *out);

void kv_free(KvBlock *kv);

#endif
