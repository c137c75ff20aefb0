/* stream_event: SSE frames of history rows; see stream_event.h. */
#include "core/stream_event.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

void
stream_event_format(TextBuf *out, const StreamEvent *ev)
{
	json_object *o = json_object_new_object();
	char head[64];

	if (!o) {
		out->failed = true;
		return;
	}
	json_object_object_add(o, "event_id", json_object_new_int64(ev->event_id));
	json_object_object_add(o, "case_id", json_object_new_int64(ev->case_id));
	json_object_object_add(o, "number", json_object_new_string(ev->number));
	json_object_object_add(o, "action", json_object_new_string(ev->action));
	json_object_object_add(o, "state", json_object_new_string(ev->state));
	json_object_object_add(o, "department", ev->department ? json_object_new_string(ev->department) : NULL);
	json_object_object_add(o, "at", json_object_new_string(ev->at));
	snprintf(head, sizeof(head), "id: %" PRId64 "\nevent: case\ndata: ", ev->event_id);
	textbuf_add_str(out, head);
	/* json-c escapes control characters, so the data is one line. */
	textbuf_add_str(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	textbuf_add_str(out, "\n\n");
	json_object_put(o);
}

bool
stream_may_read(Role role, const char *department, const char *case_department, const char *co_departments)
{
	size_t n;

	if (role != ROLE_DEPARTMENT)
		return true;
	if (!department || !*department)
		return false;
	if (case_department && strcmp(department, case_department) == 0)
		return true;
	n = strlen(department);
	for (const char *p = co_departments; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, department, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

bool
stream_last_event_id_parse(const char *header, int64_t *out)
{
	int64_t v = 0;
	size_t n = strlen(header);

	if (n == 0 || n > 18)
		return false;
	for (const char *p = header; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return true;
}
