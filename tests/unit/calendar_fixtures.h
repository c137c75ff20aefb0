/*
 * calendar_fixtures: helpers shared by test_workcal.c and test_sla.c. Include after
 * <cmocka.h>. Both read the shipped data from sql/004_calendar_sla.sql, so the tests
 * check what the server really loads.
 */
#ifndef HOTLINE_TESTS_CALENDAR_FIXTURES_H
#define HOTLINE_TESTS_CALENDAR_FIXTURES_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

/* "2026-11-30T23:59:59+08:00" -> time_t, independent of the process zone. */
static inline time_t
at(const char *text)
{
	struct tm tm = {0};
	int oh = 0, om = 0;
	char sign = '+';

	if (sscanf(text, "%d-%d-%dT%d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &sign, &oh, &om) != 9)
		fail_msg("bad test time %s", text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm) - (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
}

/* The JSON literal of the migration line that starts with `prefix`
 * (SELECT calendar_put(2025, '{...}', NULL);), parsed; NULL if absent. */
static inline json_object *
migration_json(const char *prefix)
{
	FILE *f = fopen(HOTLINE_SOURCE_DIR "/sql/004_calendar_sla.sql", "r");
	char line[8192];
	json_object *obj = NULL;
	char *start, *end;

	assert_non_null(f);
	while (!obj && fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		start = strchr(line, '\'');
		end = start ? strrchr(line, '\'') : NULL;
		if (start && end > start) {
			*end = '\0';
			obj = json_tokener_parse(start + 1);
		}
	}
	fclose(f);
	return obj;
}

#endif
