/*
 * workcal: working-day calendar, durations and the time a clock ends.
 *
 * Days are walked one at a time as civil dates (year, month, day, weekday,
 * day of the year): at most WORKCAL_MAX_WORKDAYS working days are ever
 * added, so a walk is a few hundred steps and needs no day-number algebra.
 */
#include "core/workcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ymd.h"

struct Workcal {
	size_t n;
	WorkcalYear years[]; /* sorted by year, each year once */
};

/* A local civil date with the fields the walk needs. */
typedef struct Date {
	int year;
	int month; /* 1-12 */
	int mday;  /* 1-31 */
	int wday;  /* 0 = Sunday */
	int yday;  /* 0 = January 1 */
} Date;

typedef struct UnitInfo {
	const char *suffix;
	DurationUnit unit;
	int max;
	int seconds; /* length of one unit; 0 for working days */
} UnitInfo;

static const UnitInfo units[] = {
	{"s", DURATION_SECONDS, 31536000, 1},
	{"m", DURATION_MINUTES, 525600, 60},
	{"h", DURATION_HOURS, 8760, 3600},
	{"wd", DURATION_WORKDAYS, WORKCAL_MAX_WORKDAYS, 0},
};

static const UnitInfo *unit_info(DurationUnit unit);
static int weekday_of(int year, int month, int mday);
static bool date_make(int year, int month, int mday, Date *out);
static void date_next(Date *d);
static bool date_works(const Workcal *cal, const Date *d);
static bool date_parse(const char *text, int year, Date *out);
static bool list_from_json(WorkcalYear *y, json_object *body, const char *name, WorkcalDay kind,
			   ApiError *err);
static json_object *list_to_json(const WorkcalYear *y, WorkcalDay kind);
static time_t end_of_workdays(const Workcal *cal, time_t start, int n);
static bool local_date(time_t t, Date *out);

/*
 *********************************
 * Public functions
 *********************************
 */

bool
workcal_duration_parse(const char *text, const char *field, Duration *out, ApiError *err)
{
	const char *p = text;
	long amount = 0;
	size_t i;

	if (!text || *p < '1' || *p > '9')
		goto bad;
	/* Nine digits already exceed every bound, so amount cannot overflow. */
	while (*p >= '0' && *p <= '9' && p - text < 9)
		amount = amount * 10 + (*p++ - '0');
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (amount > units[i].max)
			return api_error_set(err, 422, "invalid_field", field, "%s must be at most %d%s",
					     field, units[i].max, units[i].suffix);
		out->unit = units[i].unit;
		out->amount = (int)amount;
		return true;
	}
bad:
	return api_error_set(err, 422, "invalid_field", field,
			     "%s must be a positive whole number followed by s, m, h or wd, like \"2h\" or \"3wd\"",
			     field);
}

char *
workcal_duration_format(Duration d, char *buf, size_t len)
{
	const UnitInfo *u = unit_info(d.unit);

	snprintf(buf, len, "%d%s", d.amount, u ? u->suffix : "?");
	return buf;
}

void
workcal_year_init(WorkcalYear *y, int year)
{
	y->year = year;
	memset(y->day, WORKCAL_DAY_DEFAULT, sizeof(y->day));
}

bool
workcal_year_from_json(int year, json_object *body, WorkcalYear *out, ApiError *err)
{
	if (!json_object_is_type(body, json_type_object))
		return api_error_set(err, 400, "bad_json", NULL, "the calendar must be a JSON object");
	if (year < WORKCAL_YEAR_MIN || year > WORKCAL_YEAR_MAX)
		return api_error_set(err, 422, "invalid_field", "year", "year must be %d to %d",
				     WORKCAL_YEAR_MIN, WORKCAL_YEAR_MAX);
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "holidays") != 0 && strcmp(key, "workdays") != 0)
			return api_error_set(err, 422, "invalid_field", key,
					     "unknown field; a calendar has only holidays and workdays");
	}
	workcal_year_init(out, year);
	/* Holidays first, so a date in both lists is always reported in workdays. */
	return list_from_json(out, body, "holidays", WORKCAL_DAY_HOLIDAY, err) &&
	       list_from_json(out, body, "workdays", WORKCAL_DAY_WORKDAY, err);
}

json_object *
workcal_year_to_json(const WorkcalYear *y)
{
	json_object *obj = json_object_new_object();
	json_object *holidays = list_to_json(y, WORKCAL_DAY_HOLIDAY);
	json_object *workdays = list_to_json(y, WORKCAL_DAY_WORKDAY);

	if (!obj || !holidays || !workdays)
		goto fail;
	if (json_object_object_add(obj, "holidays", holidays) != 0)
		goto fail;
	holidays = NULL;
	if (json_object_object_add(obj, "workdays", workdays) != 0)
		goto fail;
	return obj;
fail:
	json_object_put(holidays);
	json_object_put(workdays);
	json_object_put(obj);
	return NULL;
}

Workcal *
workcal_new(const WorkcalYear *years, size_t n)
{
	Workcal *cal = malloc(sizeof(*cal) + n * sizeof(cal->years[0]));
	size_t i, at;

	if (!cal)
		return NULL;
	cal->n = 0;
	/* Insertion keeps the array sorted; a repeated year overwrites, so the later wins. */
	for (i = 0; i < n; i++) {
		for (at = 0; at < cal->n && cal->years[at].year < years[i].year; at++)
			;
		if (at == cal->n || cal->years[at].year != years[i].year) {
			memmove(&cal->years[at + 1], &cal->years[at], (cal->n - at) * sizeof(cal->years[0]));
			cal->n++;
		}
		cal->years[at] = years[i];
	}
	return cal;
}

void
workcal_free(Workcal *cal)
{
	free(cal);
}

const WorkcalYear *
workcal_find_year(const Workcal *cal, int year)
{
	size_t lo = 0, hi = cal ? cal->n : 0, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cal->years[mid].year == year)
			return &cal->years[mid];
		if (cal->years[mid].year < year)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool
workcal_is_workday(const Workcal *cal, int year, int month, int day)
{
	Date d;

	return date_make(year, month, day, &d) && date_works(cal, &d);
}

time_t
workcal_add(const Workcal *cal, time_t start, Duration d)
{
	const UnitInfo *u = unit_info(d.unit);

	if (!u || d.amount < 0)
		return (time_t)-1;
	if (d.unit == DURATION_WORKDAYS)
		return end_of_workdays(cal, start, d.amount);
	return start + (time_t)d.amount * u->seconds;
}

int
workcal_workdays_between(const Workcal *cal, time_t after, time_t until)
{
	Date d, end;
	int n = 0;

	if (!local_date(after, &d) || !local_date(until, &end))
		return -1;
	while (d.year < end.year || (d.year == end.year && d.yday < end.yday)) {
		date_next(&d);
		if (date_works(cal, &d))
			n++;
	}
	return n;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static const UnitInfo *
unit_info(DurationUnit unit)
{
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == unit)
			return &units[i];
	return NULL;
}

/* Day of the week, 0 = Sunday, by Sakamoto's method: the month offsets
 * shift a year that starts in March so leap days fall at its end. */
static int
weekday_of(int year, int month, int mday)
{
	static const int offset[12] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};

	if (month < 3)
		year--;
	return (year + year / 4 - year / 100 + year / 400 + offset[month - 1] + mday) % 7;
}

/* Fill *out for a valid Gregorian date (year 1..9999); false otherwise. */
static bool
date_make(int year, int month, int mday, Date *out)
{
	int m;

	if (year < 1 || year > 9999 || month < 1 || month > 12 || mday < 1 ||
	    mday > ymd_days_in_month(year, month))
		return false;
	out->year = year;
	out->month = month;
	out->mday = mday;
	out->wday = weekday_of(year, month, mday);
	out->yday = mday - 1;
	for (m = 1; m < month; m++)
		out->yday += ymd_days_in_month(year, m);
	return true;
}

static void
date_next(Date *d)
{
	d->wday = (d->wday + 1) % 7;
	d->yday++;
	if (++d->mday <= ymd_days_in_month(d->year, d->month))
		return;
	d->mday = 1;
	if (++d->month <= 12)
		return;
	d->month = 1;
	d->year++;
	d->yday = 0;
}

static bool
date_works(const Workcal *cal, const Date *d)
{
	const WorkcalYear *y = workcal_find_year(cal, d->year);

	if (y && y->day[d->yday] == WORKCAL_DAY_HOLIDAY)
		return false;
	if (y && y->day[d->yday] == WORKCAL_DAY_WORKDAY)
		return true;
	return d->wday != 0 && d->wday != 6;
}

/* Parse exactly "YYYY-MM-DD" as a valid date of `year`. */
static bool
date_parse(const char *text, int year, Date *out)
{
	Ymd d;

	return ymd_parse(text, &d) && d.year == year && date_make(d.year, d.month, d.day, out);
}

/* Mark every date of body[name] as `kind` in y. */
static bool
list_from_json(WorkcalYear *y, json_object *body, const char *name, WorkcalDay kind, ApiError *err)
{
	json_object *list, *item;
	char field[64];
	size_t i, n;
	Date d;

	if (!json_object_object_get_ex(body, name, &list))
		return true;
	if (!json_object_is_type(list, json_type_array))
		return api_error_set(err, 422, "invalid_field", name, "%s must be an array of dates", name);
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(list, i);
		snprintf(field, sizeof(field), "%s[%zu]", name, i);
		if (!json_object_is_type(item, json_type_string) ||
		    !date_parse(json_object_get_string(item), y->year, &d))
			return api_error_set(err, 422, "invalid_field", field,
					     "%s must be a date of %d written YYYY-MM-DD", field, y->year);
		if (y->day[d.yday] == kind)
			return api_error_set(err, 422, "invalid_field", field, "%s repeats %s", field,
					     json_object_get_string(item));
		if (y->day[d.yday] != WORKCAL_DAY_DEFAULT)
			return api_error_set(err, 422, "invalid_field", field,
					     "%s is in both holidays and workdays", json_object_get_string(item));
		y->day[d.yday] = (unsigned char)kind;
	}
	return true;
}

/* The dates of y marked `kind`, in order, as a new JSON array of strings. */
static json_object *
list_to_json(const WorkcalYear *y, WorkcalDay kind)
{
	json_object *list = json_object_new_array();
	json_object *s;
	char text[40]; /* room for any int triple: the compiler cannot see the date's bounds */
	Date d;

	if (!list || !date_make(y->year, 1, 1, &d))
		goto fail;
	for (; d.year == y->year; date_next(&d)) {
		if (y->day[d.yday] != kind)
			continue;
		snprintf(text, sizeof(text), "%04d-%02d-%02d", d.year, d.month, d.mday);
		s = json_object_new_string(text);
		if (!s || json_object_array_add(list, s) != 0) {
			json_object_put(s);
			goto fail;
		}
	}
	return list;
fail:
	json_object_put(list);
	return NULL;
}

/* 23:59:59 local time of the nth working day after start's local day. */
/* The local date of an instant (process time zone). */
static bool
local_date(time_t t, Date *out)
{
	struct tm tm;

	return localtime_r(&t, &tm) && date_make(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, out);
}

static time_t
end_of_workdays(const Workcal *cal, time_t start, int n)
{
	struct tm tm;
	Date d;

	if (!local_date(start, &d))
		return (time_t)-1;
	while (n > 0) {
		date_next(&d);
		if (date_works(cal, &d))
			n--;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.month - 1;
	tm.tm_mday = d.mday;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	tm.tm_isdst = -1; /* let mktime decide whether summer time applies that day */
	return mktime(&tm);
}
