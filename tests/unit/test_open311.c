/*
 * Unit tests for core/open311 and core/open311_doc: a POST form becomes the create body and
 * the history extras (attributes as text or lists, names joined, phone cleaned), every bad
 * argument is a 400 naming it; case_input refusals map to Open311 (unknown service 404);
 * GET filters and their 90-day window; ISO 8601 date-times with zones; the documents in
 * JSON and XML (escaping, nulls, booleans, numbers, characters XML cannot carry).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "core/open311.h"
#include "core/open311_doc.h"

#define DAY 86400

static bool
submit(const char *body, Open311Submission *sub, ApiError *err)
{
	Form f;
	bool ok;

	assert_true(form_parse(body, strlen(body), &f, err));
	ok = open311_submission(&f, sub, err);
	form_free(&f);
	return ok;
}

static const char *
get_text(json_object *obj, const char *path)
{
	json_object *v = obj;
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(v, k, &v))
			return NULL;
	}
	return json_object_get_string(v);
}

static void
test_submission_maps_arguments(void **state)
{
	Open311Submission sub;
	ApiError err;

	(void)state;
	assert_true(submit("api_key=k&service_code=urban_mgmt.01&lat=32.5&long=-114.25&address_string=%E8%A7%A3%E6%94%BE%E8%B7%AF"
			   "&description=a+b&first_name=Jane&last_name=Doe&phone=%28138%29+0000.0000&email=j%40x.org"
			   "&device_id=d1&account_id=&media_url=http%3A%2F%2Fx%2Fy.jpg&address_id=A7&jurisdiction_id=city"
			   "&attribute[size][]=big&attribute[size][]=small&attribute[color]=red&attribute[color]=blue"
			   "&attribute[empty]=&attributes=ignored",
			   &sub, &err));
	assert_string_equal(get_text(sub.body, "channel"), "open311");
	assert_string_equal(get_text(sub.body, "category"), "urban_mgmt.01");
	assert_string_equal(get_text(sub.body, "text"), "a b");
	assert_string_equal(get_text(sub.body, "address"), "解放路");
	assert_string_equal(get_text(sub.body, "lat"), "32.5");
	assert_string_equal(get_text(sub.body, "lon"), "-114.25");
	assert_string_equal(get_text(sub.body, "caller.name"), "Jane Doe");
	assert_string_equal(get_text(sub.body, "caller.phone"), "13800000000");
	assert_string_equal(json_object_to_json_string_ext(sub.extras, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			    "{\"address_id\":\"A7\",\"email\":\"j@x.org\",\"device_id\":\"d1\",\"media_url\":\"http://x/y.jpg\","
			    "\"attributes\":{\"size\":[\"big\",\"small\"],\"color\":[\"red\",\"blue\"]}}");
	assert_null(get_text(sub.body, "jurisdiction_id"));
	open311_submission_free(&sub);

	/* the least a request needs; no caller at all */
	assert_true(submit("service_code=x.01&address_id=9&description=d&first_name=&phone=", &sub, &err));
	assert_null(get_text(sub.body, "caller"));
	assert_null(get_text(sub.body, "lat"));
	open311_submission_free(&sub);
	assert_true(submit("service_code=x.01&address_string=s&description=d&last_name=%E5%BC%A0", &sub, &err));
	assert_string_equal(get_text(sub.body, "caller.name"), "张");
	open311_submission_free(&sub);
}

static void
test_submission_refusals(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} bad[] = {
		{"address_string=s&description=d", "service_code"},
		{"service_code=&address_string=s&description=d", "service_code"},
		{"service_code=x.01&description=d", "address_string"},
		{"service_code=x.01&lat=1&description=d", "long"},
		{"service_code=x.01&long=1&description=d", "lat"},
		{"service_code=x.01&lat=1e5&long=2&description=d", "lat"},
		{"service_code=x.01&lat=nan&long=2&description=d", "lat"},
		{"service_code=x.01&lat=1&long=0x10&description=d", "long"},
		{"service_code=x.01&address_string=s", "description"},
		{"service_code=x.01&address_string=s&description=", "description"},
		{"service_code=x.01&address_string=s&description=a&description=b", "description"},
		{"service_code=x.01&address_string=s&description=d&attribute=1", "attribute"},
		{"service_code=x.01&address_string=s&description=d&attribute[]=1", "attribute"},
		{"service_code=x.01&address_string=s&description=d&attribute[a]x=1", "attribute"},
		{"service_code=x.01&address_string=s&description=d&attribute[a[b]=1", "attribute"},
		{"service_code=x.01&address_string=s&description=d&first_name=0123456789012345678901234&"
		 "last_name=0123456789012345678901234", "first_name"},
	};
	Open311Submission sub;
	ApiError err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_false(submit(bad[i].body, &sub, &err));
		assert_int_equal(err.status, 400);
		assert_string_equal(err.field, bad[i].field);
		assert_null(sub.body);
		assert_null(sub.extras);
	}
}

static void
test_description_limit_in_characters(void **state)
{
	char *body = malloc(64 + 4001 * 9);
	size_t off;
	Open311Submission sub;
	ApiError err;

	(void)state;
	off = (size_t)sprintf(body, "service_code=x.01&address_string=s&description=");
	for (int i = 0; i < 4000; i++)
		off += (size_t)sprintf(body + off, "%%E4%%B8%%AD"); /* 中 */
	assert_true(submit(body, &sub, &err));
	open311_submission_free(&sub);
	strcpy(body + off, "x");
	assert_false(submit(body, &sub, &err));
	assert_string_equal(err.field, "description");
	free(body);
}

static void
test_input_errors_map(void **state)
{
	ApiError in, out;

	(void)state;
	api_error_set(&in, 422, "invalid_field", "category", "unknown category x");
	open311_input_error(&in, &out);
	assert_int_equal(out.status, 404);
	api_error_set(&in, 422, "invalid_field", "caller.phone", "bad phone");
	open311_input_error(&in, &out);
	assert_int_equal(out.status, 400);
	assert_string_equal(out.field, "phone");
	api_error_set(&in, 422, "invalid_field", "lon", "out of range");
	open311_input_error(&in, &out);
	assert_string_equal(out.field, "long");
	api_error_set(&in, 503, "unavailable", NULL, "later");
	open311_input_error(&in, &out);
	assert_int_equal(out.status, 503);
}

static void
test_datetime_parse(void **state)
{
	time_t t;

	(void)state;
	assert_true(open311_datetime_parse("1994-11-05T13:15:30Z", &t));
	assert_int_equal(t, 784041330);
	assert_true(open311_datetime_parse("1994-11-05T08:15:30-05:00", &t));
	assert_int_equal(t, 784041330);
	assert_true(open311_datetime_parse("1994-11-05T21:15:30+0800", &t));
	assert_int_equal(t, 784041330);
	assert_true(open311_datetime_parse("1994-11-05T21:15:30 08:00", &t)); /* '+' read as a space */
	assert_int_equal(t, 784041330);
	assert_true(open311_datetime_parse("1994-11-05T21:15:30.123+08", &t));
	assert_int_equal(t, 784041330);
	assert_true(open311_datetime_parse("2024-02-29T00:00+00:00", &t));
	assert_int_equal(t, 1709164800);
	assert_false(open311_datetime_parse("1994-11-05T13:15:30", &t));      /* no zone */
	assert_false(open311_datetime_parse("1994-11-05", &t));               /* no time */
	assert_false(open311_datetime_parse("2023-02-29T00:00:00Z", &t));     /* no such day */
	assert_false(open311_datetime_parse("1994-11-05T24:00:00Z", &t));
	assert_false(open311_datetime_parse("1994-11-05T13:15:30Zx", &t));
	assert_false(open311_datetime_parse("1994-11-05T13:15:30+8:00", &t));
	assert_false(open311_datetime_parse("1994-11-05 13:15:30Z", &t));
}

static void
test_filter_window(void **state)
{
	time_t now = 1800000000;
	Open311Filter f;
	ApiError err;

	(void)state;
	assert_true(open311_filter(NULL, NULL, NULL, NULL, NULL, now, &f, &err));
	assert_int_equal(f.to, now);
	assert_int_equal(f.from, now - 90 * DAY);
	assert_null(f.ids);
	assert_null(f.status);
	open311_filter_free(&f);
	assert_true(open311_filter("", "", "2026-01-01T00:00:00Z", "", "open", now, &f, &err));
	assert_int_equal(f.to - f.from, 90 * DAY);
	assert_string_equal(f.status, "open");
	open311_filter_free(&f);
	assert_true(open311_filter(NULL, NULL, "2026-01-01T00:00:00Z", "2026-03-31T23:59:59Z", "closed,open", now, &f,
				   &err));
	assert_null(f.status);
	open311_filter_free(&f);
	assert_false(open311_filter(NULL, NULL, "2026-01-01T00:00:00Z", "2026-04-01T00:00:01Z", NULL, now, &f, &err));
	assert_string_equal(err.field, "end_date");
	assert_false(open311_filter(NULL, NULL, "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", NULL, now, &f, &err));
	assert_false(open311_filter(NULL, NULL, "2026-01-01", NULL, NULL, now, &f, &err));
	assert_string_equal(err.field, "start_date");
	assert_false(open311_filter(NULL, NULL, NULL, NULL, "pending", now, &f, &err));
	assert_string_equal(err.field, "status");
}

static void
test_filter_lists(void **state)
{
	Open311Filter f;
	ApiError err;

	(void)state;
	assert_true(open311_filter(" 20261128-000042 ,,20261128-000043", "urban_mgmt.01,housing.02", NULL, NULL, NULL, 0,
				   &f, &err));
	assert_string_equal(f.ids, "{\"20261128-000042\",\"20261128-000043\"}");
	assert_string_equal(f.codes, "{\"urban_mgmt.01\",\"housing.02\"}");
	open311_filter_free(&f);
	assert_false(open311_filter("1,x\"y", NULL, NULL, NULL, NULL, 0, &f, &err));
	assert_string_equal(err.field, "service_request_id");
	assert_null(f.ids);
}

static void
test_status_and_notice(void **state)
{
	(void)state;
	assert_string_equal(open311_status("closed"), "closed");
	assert_string_equal(open311_status("merged"), "closed");
	assert_string_equal(open311_status("declined"), "closed");
	assert_string_equal(open311_status("replied"), "open");
	assert_string_equal(open311_status("pending"), "open");
	assert_string_equal(open311_status("suspended"), "open");
	assert_string_equal(open311_status("reviewing"), "open");
	assert_true(strlen(open311_notice("dispatched")) > 0);
	assert_string_not_equal(open311_notice("suspended"), open311_notice("no such state"));
	assert_string_not_equal(open311_notice("reviewing"), open311_notice("no such state"));
	assert_true(strlen(open311_notice("no such state")) > 0);
}

static const Open311Column cols[] = {
	{"id", OPEN311_TEXT}, {"lat", OPEN311_NUMBER}, {"metadata", OPEN311_BOOL}, {"code", OPEN311_INT},
};

static void
test_render_json(void **state)
{
	const char *values[] = {"a\"<&>中", "32.98", "f", "403", NULL, "NaN", "t", NULL};
	TextBuf out = {0};

	(void)state;
	assert_true(open311_render_list(&out, OPEN311_JSON, "list", "item", cols, 4, values, 2));
	assert_string_equal(out.buf, "[{\"id\":\"a\\\"<&>中\",\"lat\":32.98,\"metadata\":false,\"code\":403},"
				     "{\"id\":null,\"lat\":\"NaN\",\"metadata\":true,\"code\":null}]");
	free(out.buf);
	memset(&out, 0, sizeof(out));
	assert_true(open311_render_list(&out, OPEN311_JSON, "list", "item", cols, 4, values, 0));
	assert_string_equal(out.buf, "[]");
	free(out.buf);
}

static void
test_render_xml(void **state)
{
	const char *values[] = {"a\"<&>中\x01\xEF\xBF\xBF", "32.98", "f", "403"};
	TextBuf out = {0};

	(void)state;
	assert_true(open311_render_list(&out, OPEN311_XML, "list", "item", cols, 4, values, 1));
	assert_string_equal(out.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				     "<list><item><id>a&quot;&lt;&amp;&gt;中\xEF\xBF\xBD\xEF\xBF\xBD</id><lat>32.98</lat>"
				     "<metadata>false</metadata><code>403</code></item></list>\n");
	free(out.buf);
}

static void
test_render_errors_definition_discovery(void **state)
{
	Open311Discovery d = {"2026-12-05T00:00:00+08:00", "c", "k", "http://h/open311/v2"};
	TextBuf out = {0};

	(void)state;
	assert_true(open311_render_error(&out, OPEN311_JSON, 403, "no key"));
	assert_string_equal(out.buf, "[{\"code\":403,\"description\":\"no key\"}]");
	free(out.buf);
	memset(&out, 0, sizeof(out));
	assert_true(open311_render_error(&out, OPEN311_XML, 400, "bad"));
	assert_string_equal(out.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				     "<errors><error><code>400</code><description>bad</description></error></errors>\n");
	free(out.buf);
	memset(&out, 0, sizeof(out));
	assert_true(open311_render_definition(&out, OPEN311_JSON, "x.01"));
	assert_string_equal(out.buf, "{\"service_code\":\"x.01\",\"attributes\":[]}");
	free(out.buf);
	memset(&out, 0, sizeof(out));
	assert_true(open311_render_discovery(&out, OPEN311_JSON, &d));
	assert_string_equal(out.buf, "{\"changeset\":\"2026-12-05T00:00:00+08:00\",\"contact\":\"c\",\"key_service\":\"k\","
				     "\"endpoints\":[{\"specification\":\"http://wiki.open311.org/GeoReport_v2\","
				     "\"url\":\"http://h/open311/v2\",\"changeset\":\"2026-12-05T00:00:00+08:00\","
				     "\"type\":\"production\",\"formats\":[\"text/xml\",\"application/json\"]}]}");
	free(out.buf);
	memset(&out, 0, sizeof(out));
	assert_true(open311_render_discovery(&out, OPEN311_XML, &d));
	assert_non_null(strstr(out.buf, "<formats><format>text/xml</format><format>application/json</format></formats>"
					"</endpoint></endpoints></discovery>"));
	free(out.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submission_maps_arguments),
		cmocka_unit_test(test_submission_refusals),
		cmocka_unit_test(test_description_limit_in_characters),
		cmocka_unit_test(test_input_errors_map),
		cmocka_unit_test(test_datetime_parse),
		cmocka_unit_test(test_filter_window),
		cmocka_unit_test(test_filter_lists),
		cmocka_unit_test(test_status_and_notice),
		cmocka_unit_test(test_render_json),
		cmocka_unit_test(test_render_xml),
		cmocka_unit_test(test_render_errors_definition_discovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
