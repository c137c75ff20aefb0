/*
 * open311_doc: the documents of Open311 GeoReport v2 (API.md section 7) in its two formats,
 * from plain text values: JSON written with json-c, XML with libxml2's xmlTextWriter (which
 * escapes every value; characters XML 1.0 cannot carry, C0 controls other than tab, newline
 * and carriage return and the noncharacters U+FFFE and U+FFFF, are written as U+FFFD).
 *
 * Most documents are a list of records: JSON [{"name": value, ...}, ...], XML
 * <list><item><name>value</name>...</item>...</list> after an XML declaration. A record's
 * values are text as PostgreSQL prints them; NULL is JSON null and an empty XML element.
 * Kinds say how JSON writes a value: a string, a number (copied as printed), a boolean
 * ("t"/"true" or "f"/"false") or an integer.
 */
#ifndef HOTLINE_CORE_OPEN311_DOC_H
#define HOTLINE_CORE_OPEN311_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/textbuf.h"

typedef enum Open311Format {
	OPEN311_JSON,
	OPEN311_XML
} Open311Format;

typedef enum Open311Kind {
	OPEN311_TEXT,
	OPEN311_NUMBER,
	OPEN311_BOOL,
	OPEN311_INT
} Open311Kind;

typedef struct Open311Column {
	const char *name;
	Open311Kind kind;
} Open311Column;

/* The discovery document's values (its endpoint list has the one GeoReport v2 endpoint). */
typedef struct Open311Discovery {
	const char *changeset; /* ISO 8601 */
	const char *contact;
	const char *key_service;
	const char *url;       /* the endpoint's base, ".../open311/v2" */
} Open311Discovery;

/* The content type of a format: "application/json; charset=utf-8", "text/xml; charset=utf-8". */
const char *open311_content_type(Open311Format fmt);

/*
 * Append the list document of nrows records to out. values holds nrows * ncols texts, row
 * after row, in the order of cols. False when memory ran out (out is then incomplete).
 */
bool open311_render_list(TextBuf *out, Open311Format fmt, const char *list, const char *item,
			 const Open311Column *cols, size_t ncols, const char *const *values, size_t nrows)
	__attribute__((warn_unused_result));

/* The errors document of one error: [{"code": status, "description": ...}] / <errors><error>. */
bool open311_render_error(TextBuf *out, Open311Format fmt, int status, const char *description)
	__attribute__((warn_unused_result));

/* A service definition without attributes: {"service_code", "attributes": []} / <service_definition>. */
bool open311_render_definition(TextBuf *out, Open311Format fmt, const char *service_code)
	__attribute__((warn_unused_result));

/* The discovery document: changeset, contact, key_service, endpoints (GeoReport v2, production,
 * formats text/xml and application/json). */
bool open311_render_discovery(TextBuf *out, Open311Format fmt, const Open311Discovery *d)
	__attribute__((warn_unused_result));

#endif
