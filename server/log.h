/*
 * log: leveled log lines on stderr, one line each (one write(2) each), with a UTC time stamp.
 * Control bytes and backslashes of a message are written as \xNN, so nothing a client sends
 * (a request path) can break a line or reach a terminal as an escape sequence. Lines longer
 * than 4 KiB are cut on a character boundary.
 *
 * Never pass a request body, a caller's name or a phone number: logs are
 * read by operations staff who must not see citizens' personal data.
 */
#ifndef HOTLINE_LOG_H
#define HOTLINE_LOG_H

typedef enum LogLevel { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } LogLevel;

void log_set_level(LogLevel level);
void log_write(LogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
