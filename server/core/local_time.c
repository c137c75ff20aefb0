/* local_time: see local_time.h. */
#include "core/local_time.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

bool
local_time_text(time_t t, char *buf, size_t len)
{
	struct tm tm;
	long offset;
	char sign = '+';
	int n;

	if (len < LOCAL_TIME_TEXT || !localtime_r(&t, &tm))
		return false;
	/* to_char's TZH:TZM: the sign, then hours and minutes of the offset from UTC (its seconds,
	 * which only zones' local mean times before 1900 have, are not written) */
	offset = tm.tm_gmtoff;
	if (offset < 0) {
		sign = '-';
		offset = -offset;
	}
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, offset / 3600, offset % 3600 / 60);
	return n > 0 && (size_t)n < len;
}

bool
local_time_memo_text(LocalTimeMemo *m, time_t t, char *buf, size_t len)
{
	/* Fibonacci hashing: the top bits of the product mix every bit of t */
	size_t first = (size_t)(((uint64_t)t * 0x9E3779B97F4A7C15u) >> 58) & (LOCAL_TIME_MEMO_SLOTS - 1);
	size_t victim = first;

	if (len < LOCAL_TIME_TEXT)
		return false;
	for (size_t w = 0; w < LOCAL_TIME_MEMO_WAYS; w++) {
		size_t i = (first + w) % LOCAL_TIME_MEMO_SLOTS;

		if (m->slot[i].set && m->slot[i].t == t) {
			memcpy(buf, m->slot[i].text, sizeof(m->slot[i].text));
			return true;
		}
		if (m->slot[victim].set && (!m->slot[i].set || m->slot[i].t < m->slot[victim].t))
			victim = i;
	}
	if (!local_time_text(t, buf, len))
		return false;
	m->slot[victim].set = true;
	m->slot[victim].t = t;
	memcpy(m->slot[victim].text, buf, sizeof(m->slot[victim].text));
	return true;
}
