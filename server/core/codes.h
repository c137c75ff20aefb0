/*
 * codes: the syntax of department and category codes, as the departments and categories
 * tables hold them (urban_mgmt, urban_mgmt.01). Whether a code exists is the database's
 * check; these refuse what can never be one before any SQL runs: rules, users, case
 * create and dispatch, the catalog admin endpoints.
 */
#ifndef HOTLINE_CORE_CODES_H
#define HOTLINE_CORE_CODES_H

#include <stdbool.h>
#include <stddef.h>

#define DEPARTMENT_CODE_MAX 40 /* bytes */
#define CATEGORY_CODE_MAX 63   /* bytes: it must fit a path segment */

/* ^[a-z][a-z0-9_]{0,39}$ (s not NULL). */
bool department_code_valid(const char *s) __attribute__((warn_unused_result));

/* A department code, '.', then two or more digits, at most CATEGORY_CODE_MAX bytes
 * (s not NULL); *dept_len receives the length of the department part when not NULL. */
bool category_code_valid(const char *s, size_t *dept_len) __attribute__((warn_unused_result));

#endif
