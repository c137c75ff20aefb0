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
	size_t i = (size_t)((uint64_t)t % LOCAL_TIME_MEMO_SLOTS);

	if (len < LOCAL_TIME_TEXT)
		return false;
	if (m->slot[i].set && m->slot[i].t == t) {
		memcpy(buf, m->slot[i].text, sizeof(m->slot[i].text));
		return true;
	}
	if (!local_time_text(t, buf, len))
		return false;
	m->slot[i].set = true;
	m->slot[i].t = t;
	memcpy(m->slot[i].text, buf, sizeof(m->slot[i].text));
	return true;
}
