/*
 * ymd: calendar dates written YYYY-MM-DD (see ymd.h).
 */
#include "core/ymd.h"

#include <stddef.h>

bool
ymd_parse(const char *text, Ymd *out)
{
	int v[3] = {0, 0, 0}, part = 0;

	if (!text)
		return false;
	for (int i = 0; i < YMD_TEXT_LEN; i++) {
		if (i == 4 || i == 7) {
			if (text[i] != '-')
				return false;
			part++;
		} else if (text[i] >= '0' && text[i] <= '9') {
			v[part] = v[part] * 10 + (text[i] - '0');
		} else {
			return false; /* also the NUL of a text shorter than ten characters */
		}
	}
	if (text[YMD_TEXT_LEN] != '\0' || v[0] < YMD_YEAR_MIN || v[0] > YMD_YEAR_MAX || v[1] < 1 || v[1] > 12 ||
	    v[2] < 1 || v[2] > ymd_days_in_month(v[0], v[1]))
		return false;
	if (out)
		*out = (Ymd){v[0], v[1], v[2]};
	return true;
}

bool
ymd_is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
ymd_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return days[month - 1] + (month == 2 && ymd_is_leap(year));
}
