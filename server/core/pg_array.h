/*
 * pg_array: a PostgreSQL array literal ({"a","b\"c",NULL}) of C strings, to send many values
 * of one parameter as one text parameter of an array type. Every element is quoted, so no
 * value can be read as NULL, a delimiter or a nested array; inside the quotes only '"' and
 * '\' take a backslash (PostgreSQL manual, "Array Value Input"). A NULL pointer is SQL NULL.
 */
#ifndef HOTLINE_CORE_PG_ARRAY_H
#define HOTLINE_CORE_PG_ARRAY_H

#include <stddef.h>

/* The literal of values[0..n-1]: malloc'd, the caller frees it; NULL when memory ran out. */
char *pg_array_literal(const char *const *values, size_t n);

#endif
