/*
 * workcal: working days and SLA durations (API.md section 4).
 *
 * A working day is Monday to Friday, minus the calendar's holidays, plus its
 * make-up workdays (调休). A year with no loaded calendar has weekends only.
 *
 * Time zone: the core converts time_t <-> local dates with localtime_r() and
 * mktime(), so it follows the process time zone. The server sets it once at
 * start, before any other thread exists:
 *     setenv("TZ", cfg->time_zone, 1);   (default "Asia/Shanghai")
 *     tzset();
 * Unit tests do the same with the zone they need. No function here reads the
 * clock: every instant is a parameter.
 *
 * A Workcal is immutable once built: the server builds a new one when a
 * calendar changes and swaps the pointer; readers never see a half-built one.
 */
#ifndef HOTLINE_CORE_WORKCAL_H
#define HOTLINE_CORE_WORKCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "core/api_error.h"

/* Years a calendar may be loaded for (four-digit years after the epoch). */
#define WORKCAL_YEAR_MIN 1970
#define WORKCAL_YEAR_MAX 9999

/*
 * Durations: a positive integer without sign, spaces or leading zeros,
 * then one unit. Upper bounds are one year in every unit.
 */
typedef enum DurationUnit {
	DURATION_SECONDS,  /* "45s", at most 31536000s */
	DURATION_MINUTES,  /* "30m", at most 525600m */
	DURATION_HOURS,    /* "2h",  at most 8760h */
	DURATION_WORKDAYS, /* "3wd", at most 365wd */
} DurationUnit;

#define WORKCAL_MAX_WORKDAYS 365
/* Enough for the longest duration text and its NUL ("31536000s"). */
#define DURATION_TEXT_MAX 16

typedef struct Duration {
	DurationUnit unit;
	int amount; /* 1..bound of the unit when parsed; workcal_add also takes 0 */
} Duration;

/* How one day of a loaded year differs from the Monday-Friday rule. */
typedef enum WorkcalDay {
	WORKCAL_DAY_DEFAULT = 0, /* weekday works, Saturday/Sunday rests */
	WORKCAL_DAY_HOLIDAY,     /* rests, whatever the weekday */
	WORKCAL_DAY_WORKDAY,     /* works, whatever the weekday (调休) */
} WorkcalDay;

/* One year's calendar as a plain value (copyable, nothing to free). */
typedef struct WorkcalYear {
	int year;
	unsigned char day[366]; /* WorkcalDay per day of the year, [0] = January 1 */
} WorkcalYear;

typedef struct Workcal Workcal;

/*
 * Parse a duration ("45s", "30m", "2h", "3wd"). Returns false on anything
 * else (empty, "0wd", "+1h", "1.5h", " 1h", "01h", "1 h", "1d", over the
 * bound) and fills err (when not NULL) with 422 invalid_field naming `field`.
 */
bool workcal_duration_parse(const char *text, const char *field, Duration *out, ApiError *err) __attribute__((warn_unused_result));

/* Write the canonical text of d ("3wd") into buf; buf should hold
 * DURATION_TEXT_MAX bytes. Returns buf. */
char *workcal_duration_format(Duration d, char *buf, size_t len);

/*
 * Parse one year's calendar body {"holidays": [...], "workdays": [...]}, as
 * PUT /v1/calendar/{year} takes it and as the loader reads it back from the
 * database. An absent list means an empty one. Refuses (422, field named):
 * a year outside WORKCAL_YEAR_MIN..MAX ("year"), an unknown member (its name),
 * a list that is not an array ("holidays"), an element that is not a
 * "YYYY-MM-DD" date of `year` or that repeats ("holidays[3]"), and a date in
 * both lists (its place in "workdays"). A body that is not an object is
 * 400 bad_json. On success fills *out; on failure *out is unspecified.
 */
bool workcal_year_from_json(int year, json_object *body, WorkcalYear *out, ApiError *err) __attribute__((warn_unused_result));

/* The body of GET /v1/calendar/{year}: both lists, each in date order.
 * Returns a new object the caller releases with json_object_put(), or NULL
 * when out of memory. */
json_object *workcal_year_to_json(const WorkcalYear *y);

/* An empty (weekends only) calendar for `year`. */
void workcal_year_init(WorkcalYear *y, int year);

/*
 * Build a calendar from n loaded years (copied; the caller keeps its array).
 * When a year repeats, the later entry wins. Returns NULL when out of memory.
 * Free with workcal_free(). A NULL Workcal is valid everywhere below and
 * means "no year loaded": weekends only.
 */
Workcal *workcal_new(const WorkcalYear *years, size_t n);
void workcal_free(Workcal *cal);

/* The loaded year, or NULL when that year has no calendar. */
const WorkcalYear *workcal_find_year(const Workcal *cal, int year);

/* Whether the date (month 1-12, day 1-31) is a working day. An invalid
 * date is not a working day. */
bool workcal_is_workday(const Workcal *cal, int year, int month, int day);

/*
 * The instant a clock started at `start` ends:
 *  - s/m/h: start plus that many seconds of elapsed time;
 *  - wd:    23:59:59 local time of the Nth working day AFTER the local day of
 *           `start`, whatever that day is (a holiday, a weekend, a make-up
 *           workday). 0wd, which the parser refuses but a caller may build,
 *           ends at 23:59:59 of the start day itself.
 * Returns (time_t)-1 when start cannot be converted to a local date or the
 * amount is negative.
 */
time_t workcal_add(const Workcal *cal, time_t start, Duration d);

/*
 * The number of working days d with local date(after) < d <= local date(until): the
 * days a suspension from `after` to `until` took out of a working-day clock (API.md
 * section 10). 0 when until's date is not after after's; -1 when an instant has no
 * local date.
 */
int workcal_workdays_between(const Workcal *cal, time_t after, time_t until);

#endif
