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

#endif
