/*
 * fuzz_form: an Open311 POST body as the server reads it: form_parse, the submission
 * (open311_submission), the create validation of its body (case_input_create, its refusal
 * mapped by open311_input_error), the date-time parser on every value, and the documents
 * written from what was accepted.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * - every decoded name and value is UTF-8 text without NUL;
 * - every refusal is 400 bad_request (404 not_found for the service), with a message and
 *   field that are valid UTF-8;
 * - the JSON and XML documents of an accepted description are well-formed (json-c and
 *   libxml2 read them back).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "core/case_input.h"
#include "core/form.h"
#include "core/open311.h"
#include "core/open311_doc.h"
#include "core/utf8.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_refusal(const ApiError *err, bool service)
{
	FUZZ_ASSERT(err->status == 400 || (service && err->status == 404), "an Open311 refusal is 400 (404: service)");
	FUZZ_ASSERT(err->message[0] != '\0', "refusal has a message");
	FUZZ_ASSERT(utf8_validate(err->message, strlen(err->message), NULL), "message is valid UTF-8");
	FUZZ_ASSERT(utf8_validate(err->field, strlen(err->field), NULL), "field is valid UTF-8");
}

/* The request documents of one record whose description is text: both must read back. */
static void
check_documents(const char *text)
{
	static const Open311Column cols[] = {{"service_request_id", OPEN311_TEXT}, {"description", OPEN311_TEXT}};
	const char *values[2] = {"1", text};
	TextBuf json = {0}, xml = {0};
	json_object *back;
	xmlDocPtr doc;

	FUZZ_ASSERT(open311_render_list(&json, OPEN311_JSON, "service_requests", "request", cols, 2, values, 1),
		    "JSON document written");
	back = json_tokener_parse(json.buf);
	FUZZ_ASSERT(back != NULL, "JSON document reads back");
	json_object_put(back);
	FUZZ_ASSERT(open311_render_list(&xml, OPEN311_XML, "service_requests", "request", cols, 2, values, 1),
		    "XML document written");
	doc = xmlReadMemory(xml.buf, (int)xml.len, NULL, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	FUZZ_ASSERT(doc != NULL, "XML document is well-formed");
	xmlFreeDoc(doc);
	free(json.buf);
	free(xml.buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Form form;
	Open311Submission sub;
	CaseInput in;
	ApiError err, mapped;
	time_t t;

	memset(&err, 0, sizeof(err));
	if (!form_parse((const char *)data, size, &form, &err)) {
		check_refusal(&err, false);
		return 0;
	}
	for (size_t i = 0; i < form.count; i++) {
		const FormField *f = &form.fields[i];

		FUZZ_ASSERT(f->name[0] && utf8_validate(f->name, strlen(f->name), NULL), "name is UTF-8 text");
		FUZZ_ASSERT(utf8_validate(f->value, strlen(f->value), NULL), "value is UTF-8 text");
		(void)open311_datetime_parse(f->value, &t);
	}
	if (!open311_submission(&form, &sub, &err)) {
		check_refusal(&err, false);
	} else {
		if (!case_input_create(sub.body, &in, &err)) {
			open311_input_error(&err, &mapped);
			check_refusal(&mapped, true);
		} else {
			check_documents(in.text);
		}
		open311_submission_free(&sub);
	}
	form_free(&form);
	return 0;
}
