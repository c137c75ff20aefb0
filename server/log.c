/* log: leveled, line-buffered log output on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static LogLevel log_min_level = LOG_INFO;
static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(LogLevel level)
{
	log_min_level = level;
}

void
log_write(LogLevel level, const char *fmt, ...)
{
	char stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (level < log_min_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s ", stamp, (long)(tv.tv_usec / 1000), log_level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
