/* api/stream: checks the Last-Event-ID and hands the request to the stream hub. */
#include "api/stream.h"

#include "app.h"
#include "core/stream_event.h"
#include "http/reply.h"
#include "stream_hub.h"

static void
stream_get(Req *req)
{
	const char *header = req_header(req, "Last-Event-ID");
	int64_t last = 0;

	if (header && !stream_last_event_id_parse(header, &last)) {
		reply_error(req, 400, "bad_request", "Last-Event-ID", "Last-Event-ID must be an event id");
		return;
	}
	stream_hub_open(req->app->streams, req, header != NULL, last);
}

static const Route stream_route_list[] = {
	{"GET", "/v1/stream", ROLES_ANY, BODY_NONE, stream_get},
};

const RouteTable *
stream_routes(void)
{
	static const RouteTable table = {stream_route_list, sizeof(stream_route_list) / sizeof(stream_route_list[0])};

	return &table;
}
