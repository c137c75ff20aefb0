/*
 * pg_array: many values of one parameter as one parameter of an array type, as a PostgreSQL
 * array literal ({"a","b\"c",NULL}) of C strings or in the binary form. In the literal every
 * element is quoted, so no value can be read as NULL, a delimiter or a nested array; inside the
 * quotes only '"' and '\' take a backslash (PostgreSQL manual, "Array Value Input"). A NULL
 * pointer is SQL NULL.
 */
#ifndef HOTLINE_CORE_PG_ARRAY_H
#define HOTLINE_CORE_PG_ARRAY_H

#include <stddef.h>

/* The literal of values[0..n-1]: malloc'd, the caller frees it; NULL when memory ran out. */
char *pg_array_literal(const char *const *values, size_t n);

/* How an array parameter is sent: as pg_array_literal's text, or in PostgreSQL's binary form
 * with elements of one of these types (the value is the type's OID, which the binary form
 * names). */
typedef enum PgArrayElem {
	PG_ARRAY_LITERAL = 0,
	PG_ARRAY_INT8 = 20,
	PG_ARRAY_INT2 = 21,
	PG_ARRAY_TEXT = 25,
	PG_ARRAY_JSONB = 3802,
} PgArrayElem;

/*
 * The binary form of the same array (what array_send writes and array_recv reads), for a
 * parameter sent with format 1: why, PostgreSQL's array_in spent more on taking the text
 * literals apart than on the values (bench/RESULTS.md, session 9). Each value is given as
 * text: int8 and int2 in decimal, jsonb its JSON text, text itself; NULL is SQL NULL. elem is
 * not PG_ARRAY_LITERAL. malloc'd, its length in *len; NULL when a value is not a decimal in its
 * type's range or memory ran out.
 */
unsigned char *pg_array_binary(const char *const *values, size_t n, PgArrayElem elem, size_t *len);

#endif
