/* http/reply: the one place that writes answers, error JSON included, and frees the Req. */
#include "http/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http/server.h"

#define JSON_TYPE "application/json; charset=utf-8"

static const char *reply_reason(int status);
static void reply_send(Req *req, int status, const char *content_type, const char *prefix,
		       const char *body, size_t len);

void
reply_json(Req *req, int status, json_object *obj)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	reply_send(req, status, JSON_TYPE, NULL, text, len);
	json_object_put(obj);
}

void
reply_json_text(Req *req, int status, const char *json, size_t len)
{
	reply_send(req, status, JSON_TYPE, NULL, json, len);
}

void
reply_api_error(Req *req, const ApiError *err)
{
	ReqErrorWriter writer = req->error_writer;

	if (writer) {
		req->error_writer = NULL; /* a writer that fails falls back to the contract's JSON */
		writer(req, err);
		return;
	}
	reply_json(req, err->status, api_error_to_json(err));
}

void
reply_internal(Req *req)
{
	reply_error(req, 500, "internal", NULL, "internal error (request %llu)", (unsigned long long)req->id);
}

void
reply_out_of_memory(Req *req)
{
	reply_error(req, 503, "unavailable", NULL, "server is out of memory, try again");
}

void
reply_error(Req *req, int status, const char *code, const char *field, const char *fmt, ...)
{
	ApiError err;
	va_list ap;

	va_start(ap, fmt);
	api_error_vset(&err, status, code, field, fmt, ap);
	va_end(ap);
	reply_api_error(req, &err);
}

void
reply_csv(Req *req, const char *csv, size_t len, const char *filename)
{
	if (req->ev && filename) {
		char disposition[160];

		snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
		evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Content-Disposition", disposition);
	}
	/* The BOM makes spreadsheet programs read the file as UTF-8 instead of the local code page. */
	reply_send(req, 200, "text/csv; charset=utf-8", "\xEF\xBB\xBF", csv, len);
}

void
reply_text(Req *req, int status, const char *content_type, const char *text, size_t len)
{
	reply_send(req, status, content_type, NULL, text, len);
}

/* Headers every reply carries, then the body; finally account for and free the Req.
 * The accounting comes before the send so that it can hook the end of the write. */
static void
reply_send(Req *req, int status, const char *content_type, const char *prefix, const char *body, size_t len)
{
	struct evhttp_request *ev = req->ev;
	struct evbuffer *buf = NULL;

	if (ev) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
		char id[24];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)req->id);
		evhttp_remove_header(h, "Content-Type");
		evhttp_add_header(h, "Content-Type", content_type);
		evhttp_add_header(h, "X-Request-Id", id);
		if (!evhttp_find_header(h, "Cache-Control"))
			evhttp_add_header(h, "Cache-Control", "no-store");
		if ((status == 503 || status == 429) && !evhttp_find_header(h, "Retry-After"))
			evhttp_add_header(h, "Retry-After", "1");
		if (evhttp_request_get_command(ev) == EVHTTP_REQ_HEAD) {
			/* An answer to HEAD has no content (RFC 9110 9.3.2), but libevent 2.1 writes
			 * the buffer anyway and no Content-Length: a keep-alive client would read the
			 * body as the start of the next answer. Its length, and no buffer. */
			char length[24];

			snprintf(length, sizeof(length), "%zu", (prefix ? strlen(prefix) : 0) + len);
			evhttp_add_header(h, "Content-Length", length);
		} else if ((buf = evbuffer_new())) {
			if (prefix)
				evbuffer_add(buf, prefix, strlen(prefix));
			evbuffer_add(buf, body, len);
		}
	}
	http_server_request_done(req, status);
	if (ev) {
		struct evhttp_connection *evcon = evhttp_request_get_connection(ev);

		evhttp_send_reply(ev, status, reply_reason(status), buf);
		if (buf)
			evbuffer_free(buf);
		/* libevent 2.1 reads while it writes an answer, to notice a client that has gone, and
		 * takes a client's end of input (shutdown after its request) for that: the answer was
		 * dropped half written whenever it outgrew the socket buffer (found by fuzz_http with the
		 * 1.1 MB chart library). A client that has really gone shows as a failed write; reading
		 * resumes when the answer is written, for the next request or the end. */
		if (evcon)
			bufferevent_disable(evhttp_connection_get_bufferevent(evcon), EV_READ);
	}
}

static const char *
reply_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}
