/*
 * http/reply: every answer the API gives, in one place. Each function sends the reply
 * (unless the client is gone) and frees the Req: call exactly one per request.
 * JSON is sent as "application/json; charset=utf-8".
 */
#ifndef HOTLINE_HTTP_REPLY_H
#define HOTLINE_HTTP_REPLY_H

#include <stddef.h>
#include <json-c/json.h>

#include "core/api_error.h"
#include "http/request.h"

/* Reply with obj serialized; takes ownership of obj (json_object_put). */
void reply_json(Req *req, int status, json_object *obj);
/* Reply with JSON text already serialized (e.g. built by SQL). */
void reply_json_text(Req *req, int status, const char *json, size_t len);
/* The error contract: {"error": {"code", "message", "field"?}}; field may be NULL or "". */
void reply_error(Req *req, int status, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The error as the request's error_writer writes it when it has one, else the contract's JSON. */
void reply_api_error(Req *req, const ApiError *err);
/* 500 internal naming the request id (the caller logs what went wrong under that id). */
void reply_internal(Req *req);
/* 503 unavailable: an allocation failed; the client may retry. */
void reply_out_of_memory(Req *req);
/* text/csv; charset=utf-8 with a UTF-8 BOM so spreadsheets open Chinese text correctly. */
void reply_csv(Req *req, const char *csv, size_t len, const char *filename);
/* Plain text with the given content type (metrics). */
void reply_text(Req *req, int status, const char *content_type, const char *text, size_t len);

#endif
