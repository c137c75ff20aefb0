/*
 * open311_doc: one small document builder with two backends. A Doc is a stack of open
 * containers; doc_open starts a list or a record inside the current one (under a name in
 * a JSON object, appended in a JSON array; always a named element in XML), doc_value adds
 * one named value, doc_close ends the innermost container.
 */
#include "core/open311_doc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libxml/xmlwriter.h>

#define DOC_DEPTH_MAX 4
#define REPLACEMENT_CHAR "\xEF\xBF\xBD"

typedef struct Doc {
	Open311Format fmt;
	xmlBufferPtr xml_buf;
	xmlTextWriterPtr xml;
	json_object *stack[DOC_DEPTH_MAX]; /* JSON: the open containers, root first */
	int depth;
	bool failed;
} Doc;

static void doc_begin(Doc *d, Open311Format fmt);
static void doc_open(Doc *d, const char *name, bool is_list);
static void doc_value(Doc *d, const char *name, Open311Kind kind, const char *value);
static void doc_close(Doc *d);
static bool doc_finish(Doc *d, TextBuf *out);
static void doc_json_add(Doc *d, const char *name, json_object *v);
static json_object *json_value(Open311Kind kind, const char *value);
static size_t xml_bad_char(const unsigned char *p);
static void xml_write_text(Doc *d, const char *value);

/*
 *********************************
 * Public functions
 *********************************
 */

const char *
open311_content_type(Open311Format fmt)
{
	return fmt == OPEN311_XML ? "text/xml; charset=utf-8" : "application/json; charset=utf-8";
}

bool
open311_render_list(TextBuf *out, Open311Format fmt, const char *list, const char *item,
		    const Open311Column *cols, size_t ncols, const char *const *values, size_t nrows)
{
	Doc d;

	doc_begin(&d, fmt);
	doc_open(&d, list, true);
	for (size_t r = 0; r < nrows; r++) {
		doc_open(&d, item, false);
		for (size_t c = 0; c < ncols; c++)
			doc_value(&d, cols[c].name, cols[c].kind, values[r * ncols + c]);
		doc_close(&d);
	}
	doc_close(&d);
	return doc_finish(&d, out);
}

bool
open311_render_error(TextBuf *out, Open311Format fmt, int status, const char *description)
{
	static const Open311Column cols[] = {{"code", OPEN311_INT}, {"description", OPEN311_TEXT}};
	char code[16];
	const char *values[2] = {code, description};

	snprintf(code, sizeof(code), "%d", status);
	return open311_render_list(out, fmt, "errors", "error", cols, 2, values, 1);
}

bool
open311_render_definition(TextBuf *out, Open311Format fmt, const char *service_code)
{
	Doc d;

	doc_begin(&d, fmt);
	doc_open(&d, "service_definition", false);
	doc_value(&d, "service_code", OPEN311_TEXT, service_code);
	doc_open(&d, "attributes", true);
	doc_close(&d);
	doc_close(&d);
	return doc_finish(&d, out);
}

bool
open311_render_discovery(TextBuf *out, Open311Format fmt, const Open311Discovery *disc)
{
	Doc d;

	doc_begin(&d, fmt);
	doc_open(&d, "discovery", false);
	doc_value(&d, "changeset", OPEN311_TEXT, disc->changeset);
	doc_value(&d, "contact", OPEN311_TEXT, disc->contact);
	doc_value(&d, "key_service", OPEN311_TEXT, disc->key_service);
	doc_open(&d, "endpoints", true);
	doc_open(&d, "endpoint", false);
	doc_value(&d, "specification", OPEN311_TEXT, "http://wiki.open311.org/GeoReport_v2");
	doc_value(&d, "url", OPEN311_TEXT, disc->url);
	doc_value(&d, "changeset", OPEN311_TEXT, disc->changeset);
	doc_value(&d, "type", OPEN311_TEXT, "production");
	doc_open(&d, "formats", true);
	doc_value(&d, "format", OPEN311_TEXT, "text/xml");
	doc_value(&d, "format", OPEN311_TEXT, "application/json");
	doc_close(&d);
	doc_close(&d);
	doc_close(&d);
	doc_close(&d);
	return doc_finish(&d, out);
}

/*
 *********************************
 * The document builder
 *********************************
 */

static void
doc_begin(Doc *d, Open311Format fmt)
{
	memset(d, 0, sizeof(*d));
	d->fmt = fmt;
	if (fmt != OPEN311_XML)
		return;
	d->xml_buf = xmlBufferCreate();
	d->xml = d->xml_buf ? xmlNewTextWriterMemory(d->xml_buf, 0) : NULL;
	if (!d->xml || xmlTextWriterStartDocument(d->xml, NULL, "UTF-8", NULL) < 0)
		d->failed = true;
}

static void
doc_open(Doc *d, const char *name, bool is_list)
{
	json_object *c;

	if (d->failed)
		return;
	if (d->fmt == OPEN311_XML) {
		d->failed = xmlTextWriterStartElement(d->xml, BAD_CAST name) < 0;
		return;
	}
	if (d->depth == DOC_DEPTH_MAX) {
		d->failed = true;
		return;
	}
	c = is_list ? json_object_new_array() : json_object_new_object();
	if (!c) {
		d->failed = true;
		return;
	}
	if (d->depth > 0)
		doc_json_add(d, name, json_object_get(c));
	d->stack[d->depth++] = c;
}

static void
doc_value(Doc *d, const char *name, Open311Kind kind, const char *value)
{
	if (d->failed)
		return;
	if (d->fmt == OPEN311_JSON) {
		json_object *v = value ? json_value(kind, value) : NULL;

		if (value && !v)
			d->failed = true;
		else
			doc_json_add(d, name, v);
		return;
	}
	if (xmlTextWriterStartElement(d->xml, BAD_CAST name) < 0) {
		d->failed = true;
		return;
	}
	if (value && kind == OPEN311_BOOL)
		xml_write_text(d, (value[0] == 't') ? "true" : "false");
	else if (value)
		xml_write_text(d, value);
	if (!d->failed && xmlTextWriterEndElement(d->xml) < 0)
		d->failed = true;
}

static void
doc_close(Doc *d)
{
	if (d->failed)
		return;
	if (d->fmt == OPEN311_XML) {
		d->failed = xmlTextWriterEndElement(d->xml) < 0;
		return;
	}
	/* The root stays referenced by stack[0] until doc_finish; inner ones by their parent. */
	if (d->depth > 1)
		json_object_put(d->stack[d->depth - 1]);
	d->depth--;
}

/* Append the finished document to out and free the builder; false if anything failed. */
static bool
doc_finish(Doc *d, TextBuf *out)
{
	bool ok = !d->failed;

	if (d->fmt == OPEN311_XML) {
		if (ok && xmlTextWriterEndDocument(d->xml) < 0)
			ok = false;
		xmlFreeTextWriter(d->xml); /* flushes into xml_buf */
		if (ok)
			textbuf_add(out, (const char *)xmlBufferContent(d->xml_buf), (size_t)xmlBufferLength(d->xml_buf));
		xmlBufferFree(d->xml_buf);
	} else {
		size_t len = 0;
		const char *text = ok && d->stack[0] ? json_object_to_json_string_length(
			d->stack[0], JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len) : NULL;

		if (text)
			textbuf_add(out, text, len);
		else
			ok = false;
		/* After a failure, containers still open below the root hold a reference of their own. */
		for (int i = d->depth - 1; i > 0; i--)
			json_object_put(d->stack[i]);
		json_object_put(d->stack[0]);
	}
	return ok && !out->failed;
}

/* Add v (owned) to the innermost JSON container: appended to a list, under name in a record. */
static void
doc_json_add(Doc *d, const char *name, json_object *v)
{
	json_object *parent = d->stack[d->depth - 1];
	int rc = json_object_is_type(parent, json_type_array) ? json_object_array_add(parent, v)
							       : json_object_object_add(parent, name, v);

	if (rc != 0) {
		json_object_put(v);
		d->failed = true;
	}
}

/* The JSON of a non-NULL value of kind; a number PostgreSQL printed that JSON cannot carry
 * ("NaN", "Infinity") becomes a string. NULL when out of memory. */
static json_object *
json_value(Open311Kind kind, const char *value)
{
	char *end;
	double d;

	switch (kind) {
	case OPEN311_BOOL:
		return json_object_new_boolean(value[0] == 't');
	case OPEN311_INT:
		return json_object_new_int64(strtoll(value, NULL, 10));
	case OPEN311_NUMBER:
		d = strtod(value, &end);
		if (*value && !*end && isfinite(d))
			return json_object_new_double_s(d, value);
		return json_object_new_string(value);
	case OPEN311_TEXT:
		break;
	}
	return json_object_new_string(value);
}

/* The length of a character XML 1.0 cannot carry at p (a C0 control other than tab, newline
 * and carriage return, or the noncharacters U+FFFE and U+FFFF), else 0. */
static size_t
xml_bad_char(const unsigned char *p)
{
	if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
		return 1;
	if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
		return 3;
	return 0;
}

/* Write value as element text; characters XML 1.0 cannot carry become U+FFFD. */
static void
xml_write_text(Doc *d, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	TextBuf clean = {0};
	bool bad = false;

	for (const unsigned char *p = s; *p && !bad; p++)
		bad = xml_bad_char(p) > 0;
	if (bad) {
		for (const unsigned char *p = s; *p;) {
			size_t n = xml_bad_char(p);

			if (n) {
				textbuf_add_str(&clean, REPLACEMENT_CHAR);
				p += n;
			} else {
				textbuf_add(&clean, (const char *)p++, 1);
			}
		}
		if (clean.failed) {
			d->failed = true;
			free(clean.buf);
			return;
		}
		value = clean.buf;
	}
	if (xmlTextWriterWriteString(d->xml, BAD_CAST value) < 0)
		d->failed = true;
	free(clean.buf);
}
