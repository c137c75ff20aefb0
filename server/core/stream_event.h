/*
 * stream_event: the events of GET /v1/stream (API.md section 18) as text/event-stream
 * frames, who may read them, and the Last-Event-ID header. Pure.
 */
#ifndef HOTLINE_CORE_STREAM_EVENT_H
#define HOTLINE_CORE_STREAM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/role.h"
#include "core/textbuf.h"

/* One history row as the stream shows it: no caller data, no text. */
typedef struct StreamEvent {
	int64_t event_id;
	int64_t case_id;
	const char *number;
	const char *action;
	const char *state;
	const char *department; /* NULL when the case has none (pending, answered) */
	const char *at;         /* RFC 3339 */
} StreamEvent;

/*
 * Append the frame "id: N\nevent: case\ndata: {json}\n\n" of ev to out. The JSON is one
 * line (a raw newline would end the data field), with event_id, case_id, number, action,
 * state, department and at.
 */
void stream_event_format(TextBuf *out, const StreamEvent *ev);

/* True when a token of role (and department, for that role) may read the event of a case
 * that belongs to case_department now (NULL: none) or that co_departments help handle (its
 * co-handling departments joined by ',', NULL: none; codes never hold a comma). */
bool stream_may_read(Role role, const char *department, const char *case_department, const char *co_departments);

/* Parse a Last-Event-ID header: a decimal event id >= 0 of at most 18 digits. */
bool stream_last_event_id_parse(const char *header, int64_t *out);

#endif
