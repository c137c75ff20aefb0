/*
 * local_time: an instant as the API writes it, in the process's time zone (workcal.h says how
 * the server sets it: the zone of its PostgreSQL sessions too).
 *
 * "YYYY-MM-DDTHH:MM:SS+HH:MM", exactly what sql's case_ts writes, to_char(ts,
 * 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'), for an instant in whole seconds: the intake writes a new
 * case's times itself (api/cases.c) and its answer must equal GET /v1/cases/{id}'s.
 */
#ifndef HOTLINE_CORE_LOCAL_TIME_H
#define HOTLINE_CORE_LOCAL_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* At least this many bytes for local_time_text's buffer. */
#define LOCAL_TIME_TEXT 32

/* Writes t into buf (len >= LOCAL_TIME_TEXT); false when t has no local time or len is short. */
bool local_time_text(time_t t, char *buf, size_t len) __attribute__((warn_unused_result));

/*
 * The texts of the instants written last, for a caller that writes the same few over and over:
 * glibc's localtime_r parses the zone's rule again (sscanf) for every instant after the zone's
 * last transition, ~1.5 us a call, and every create of a type and urgency within one second
 * writes the same four instants (api/cases.c). An instant may sit in any of LOCAL_TIME_MEMO_WAYS
 * slots from its hash's (deadlines at 23:59:59 lie whole days apart, and a day is a multiple
 * of any power of two up to 128 seconds); a new one replaces the earliest instant there. The
 * zone must stay the one the memo was filled in (the server sets it once, at start). Zero it to
 * start.
 */
#define LOCAL_TIME_MEMO_SLOTS 64
#define LOCAL_TIME_MEMO_WAYS 4

typedef struct LocalTimeMemo {
	struct {
		bool set;
		time_t t;
		char text[LOCAL_TIME_TEXT];
	} slot[LOCAL_TIME_MEMO_SLOTS];
} LocalTimeMemo;

/* local_time_text, from the memo when it has t. */
bool local_time_memo_text(LocalTimeMemo *m, time_t t, char *buf, size_t len) __attribute__((warn_unused_result));

#endif
