/* local_time: see local_time.h. */
#include "core/local_time.h"

#include <stdio.h>

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
