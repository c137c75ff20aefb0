/*
 * ymd: calendar dates written YYYY-MM-DD (API.md: "Dates are YYYY-MM-DD"), the one
 * validator of every date a request or the client takes: list filters (from, to), report
 * ranges, calendar lists, the client's --from and --to.
 */
#ifndef HOTLINE_CORE_YMD_H
#define HOTLINE_CORE_YMD_H

#include <stdbool.h>

#define YMD_TEXT_LEN 10  /* "YYYY-MM-DD" */
#define YMD_YEAR_MIN 1000
#define YMD_YEAR_MAX 9999

typedef struct Ymd {
	int year;  /* YMD_YEAR_MIN..YMD_YEAR_MAX */
	int month; /* 1-12 */
	int day;   /* 1..ymd_days_in_month(year, month) */
} Ymd;

/*
 * Whether text (NULL: no) is exactly ten characters "YYYY-MM-DD" naming a real Gregorian
 * date (February 29 in leap years only) of a four-digit year YMD_YEAR_MIN..YMD_YEAR_MAX,
 * so that two such texts order as their dates do. The date goes to *out when out is not
 * NULL (and is left alone on failure).
 */
bool ymd_parse(const char *text, Ymd *out) __attribute__((warn_unused_result));

bool ymd_is_leap(int year);

/* Days of month 1-12 of year. */
int ymd_days_in_month(int year, int month);

#endif
