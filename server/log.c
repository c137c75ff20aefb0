/* log: leveled log lines on stderr, each formatted whole and written with one write(2). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static LogLevel log_min_level = LOG_INFO;
static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(LogLevel level)
{
	log_min_level = level;
}

/*
 * Copy msg into out (room bytes, no NUL) with control bytes and backslashes written as \xNN,
 * so a request path or a database message cannot forge a line or send a terminal escape.
 * A message too long for out is cut before the character that does not fit. Returns the
 * bytes written.
 */
static size_t
log_escape(const char *msg, char *out, size_t room)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0, boundary = 0;

	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		bool escape = *p < 0x20 || *p == 0x7f || *p == '\\';

		if ((*p & 0xC0) != 0x80)
			boundary = used; /* a character starts here */
		if (used + (escape ? 4 : 1) > room)
			return boundary;
		if (escape) {
			out[used++] = '\\';
			out[used++] = 'x';
			out[used++] = hex[*p >> 4];
			out[used++] = hex[*p & 15];
		} else {
			out[used++] = (char)*p;
		}
	}
	return used;
}

void
log_write(LogLevel level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	size_t len;

	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	len += (size_t)snprintf(line + len, sizeof(line) - len, ".%03ldZ %s ", (long)(tv.tv_usec / 1000),
				log_level_names[level]);
	len += log_escape(msg, line + len, sizeof(line) - len - 1);
	line[len++] = '\n';
	/* One write per line: lines from several processes on one stderr never interleave, and
	 * the event loop makes one system call per line instead of three. */
	for (size_t done = 0; done < len;) {
		ssize_t n = write(STDERR_FILENO, line + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (size_t)n;
	}
}
