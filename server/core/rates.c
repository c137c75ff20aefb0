/* rates: report formulas, query validation and JSON/CSV rendering (see rates.h). */
#include "core/rates.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/textbuf.h"
#include "core/ymd.h"

/* A column of the rates report: a count (den < 0) or the fraction num / den. */
typedef struct RateColumn {
	const char *name;
	int num;
	int den;
} RateColumn;

/* The fields of a row after "key", in the order of API.md's table; CSV uses the same order. */
static const RateColumn rate_columns[] = {
	{"received", RC_RECEIVED, -1},
	{"answered", RC_ANSWERED, -1},
	{"dispatched", RC_DISPATCHED, -1},
	{"signed_on_time", RC_SIGNED_ON_TIME, -1},
	{"contacted_on_time", RC_CONTACTED_ON_TIME, -1},
	{"response_rate", RC_CONTACTED_ON_TIME, RC_DISPATCHED},
	{"replied", RC_REPLIED, -1},
	{"replied_on_time", RC_REPLIED_ON_TIME, -1},
	{"on_time_rate", RC_REPLIED_ON_TIME, RC_REPLIED},
	{"visited", RC_VISITED, -1},
	{"resolved", RC_RESOLVED, -1},
	{"resolution_rate", RC_RESOLVED, RC_VISITED},
	{"satisfied", RC_SATISFIED, -1},
	{"satisfaction_rate", RC_SATISFIED, RC_VISITED},
	{"avg_score", RC_SCORE_SUM, RC_VISITED},
	{"returned", RC_RETURNED, -1},
	{"return_rate", RC_RETURNED, RC_DISPATCHED},
	{"reopened", RC_REOPENED, -1},
	{"overdue_open", RC_OVERDUE_OPEN, -1},
	{"declined", RC_DECLINED, -1},
	{"suspended", RC_SUSPENDED, -1},
};
#define NCOLUMNS (sizeof(rate_columns) / sizeof(rate_columns[0]))

static const char *const rates_by_names[RATES_BY__COUNT] = {"department", "district", "type", "channel"};
static const char *const hotspot_by_names[HOTSPOT_BY__COUNT] = {"district", "category", "department"};

static bool parse_enum(const char *text, const char *const *names, int n, int *out);
static json_object *fraction_json(int64_t num, int64_t den);

/*
 *********************************
 * Public functions
 *********************************
 */

const char *
rates_by_name(RatesBy by)
{
	return by >= 0 && by < RATES_BY__COUNT ? rates_by_names[by] : "unknown";
}

const char *
hotspot_by_name(HotspotBy by)
{
	return by >= 0 && by < HOTSPOT_BY__COUNT ? hotspot_by_names[by] : "unknown";
}

bool
rates_query_parse(const char *from, const char *to, const char *by, const char *format, const char *accept,
		  RatesQuery *out, ApiError *err)
{
	int v = RATES_BY_DEPARTMENT;

	if (!ymd_parse(from, NULL))
		return api_error_set(err, 400, "bad_request", "from", "from must be a date YYYY-MM-DD");
	if (!ymd_parse(to, NULL))
		return api_error_set(err, 400, "bad_request", "to", "to must be a date YYYY-MM-DD");
	/* Same-length YYYY-MM-DD texts order like the dates they name. */
	if (strcmp(from, to) >= 0)
		return api_error_set(err, 400, "bad_request", "to", "to must be after from (the range is [from, to))");
	if (by && !parse_enum(by, rates_by_names, RATES_BY__COUNT, &v))
		return api_error_set(err, 400, "bad_request", "by", "by must be department, district, type or channel");
	if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
		return api_error_set(err, 400, "bad_request", "format", "format must be json or csv");
	memcpy(out->from, from, sizeof(out->from));
	memcpy(out->to, to, sizeof(out->to));
	out->by = (RatesBy)v;
	out->csv = format ? strcmp(format, "csv") == 0 : (accept && strstr(accept, "text/csv") != NULL);
	return true;
}

bool
hotspot_query_parse(const char *days, const char *by, const char *top, HotspotQuery *out, ApiError *err)
{
	int v = HOTSPOT_BY_DISTRICT;

	out->days = 7;
	out->top = 20;
	if (days && !rates_int_param(days, 1, RATES_HOTSPOT_DAYS_MAX, &out->days))
		return api_error_set(err, 400, "bad_request", "days", "days must be an integer 1 to %d",
				     RATES_HOTSPOT_DAYS_MAX);
	if (top && !rates_int_param(top, 1, RATES_HOTSPOT_TOP_MAX, &out->top))
		return api_error_set(err, 400, "bad_request", "top", "top must be an integer 1 to %d",
				     RATES_HOTSPOT_TOP_MAX);
	if (by && !parse_enum(by, hotspot_by_names, HOTSPOT_BY__COUNT, &v))
		return api_error_set(err, 400, "bad_request", "by", "by must be district, category or department");
	out->by = (HotspotBy)v;
	return true;
}

bool
overdue_query_parse(const char *limit, int *out, ApiError *err)
{
	*out = RATES_OVERDUE_LIMIT_DEFAULT;
	if (limit && !rates_int_param(limit, 1, RATES_OVERDUE_LIMIT_MAX, out))
		return api_error_set(err, 400, "bad_request", "limit", "limit must be an integer 1 to %d",
				     RATES_OVERDUE_LIMIT_MAX);
	return true;
}

bool
rates_counts_parse(const char *const *texts, RateCounts *out)
{
	for (int i = 0; i < RC__COUNT; i++) {
		const char *s = texts[i];
		char *end;
		long long v;

		if (!s || !*s) {
			out->n[i] = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end)
			return false;
		out->n[i] = v;
	}
	return true;
}

void
rates_counts_add(RateCounts *sum, const RateCounts *c)
{
	for (int i = 0; i < RC__COUNT; i++)
		sum->n[i] += c->n[i];
}

bool
rates_fraction(int64_t num, int64_t den, double *out)
{
	if (den == 0)
		return false;
	*out = (double)num / (double)den;
	return true;
}

char *
rates_format_double(double d, char *buf, size_t len)
{
	/* The fewest significant digits that read back as d: 2/3 is 0.6666666666666666, not ...63. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (!strpbrk(buf, ".eEn") && strlen(buf) + 3 <= len)
		strcat(buf, ".0");
	return buf;
}

json_object *
rates_row_json(const char *key, const RateCounts *c)
{
	json_object *row = json_object_new_object();

	if (!row)
		return NULL;
	json_object_object_add(row, "key", key ? json_object_new_string(key) : NULL);
	for (size_t i = 0; i < NCOLUMNS; i++) {
		const RateColumn *col = &rate_columns[i];

		json_object_object_add(row, col->name,
				       col->den < 0 ? json_object_new_int64(c->n[col->num])
						    : fraction_json(c->n[col->num], c->n[col->den]));
	}
	return row;
}

json_object *
rates_report_json(const RatesQuery *q, const RateRow *rows, size_t n)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	RateCounts total = {{0}};

	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(list, rates_row_json(rows[i].key, &rows[i].counts));
		rates_counts_add(&total, &rows[i].counts);
	}
	json_object_object_add(root, "from", json_object_new_string(q->from));
	json_object_object_add(root, "to", json_object_new_string(q->to));
	json_object_object_add(root, "by", json_object_new_string(rates_by_name(q->by)));
	json_object_object_add(root, "rows", list);
	json_object_object_add(root, "total", rates_row_json("total", &total));
	return root;
}

char *
rates_report_csv(const RateRow *rows, size_t n, size_t *len)
{
	TextBuf t = {0};
	char num[32];

	textbuf_add_str(&t, "key");
	for (size_t i = 0; i < NCOLUMNS; i++) {
		textbuf_add_str(&t, ",");
		textbuf_add_str(&t, rate_columns[i].name);
	}
	textbuf_add_str(&t, "\r\n");
	for (size_t r = 0; r < n; r++) {
		const RateCounts *c = &rows[r].counts;

		rates_csv_text(&t, rows[r].key ? rows[r].key : "");
		for (size_t i = 0; i < NCOLUMNS; i++) {
			const RateColumn *col = &rate_columns[i];
			double f;

			textbuf_add_str(&t, ",");
			if (col->den < 0) {
				snprintf(num, sizeof(num), "%lld", (long long)c->n[col->num]);
				textbuf_add_str(&t, num);
			} else if (rates_fraction(c->n[col->num], c->n[col->den], &f)) {
				textbuf_add_str(&t, rates_format_double(f, num, sizeof(num)));
			}
		}
		textbuf_add_str(&t, "\r\n");
	}
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

bool
rates_hotspot_growth(int64_t count, int64_t previous, double *out)
{
	return rates_fraction(count - previous, previous, out);
}

bool
rates_hotspot_rising(int64_t count, int64_t previous)
{
	return count >= RATES_RISING_MIN_COUNT && count >= RATES_RISING_FACTOR * previous;
}

json_object *
rates_hotspots_json(const HotspotQuery *q, const char *from, const char *to, const Hotspot *rows, size_t n)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();

	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_new_object();
		double growth;

		json_object_object_add(row, "key", rows[i].key ? json_object_new_string(rows[i].key) : NULL);
		json_object_object_add(row, "count", json_object_new_int64(rows[i].count));
		json_object_object_add(row, "previous", json_object_new_int64(rows[i].previous));
		json_object_object_add(row, "growth", rates_hotspot_growth(rows[i].count, rows[i].previous, &growth)
							      ? rates_double_json(growth) : NULL);
		json_object_object_add(row, "rising",
				       json_object_new_boolean(rates_hotspot_rising(rows[i].count, rows[i].previous)));
		json_object_array_add(list, row);
	}
	json_object_object_add(root, "days", json_object_new_int(q->days));
	json_object_object_add(root, "by", json_object_new_string(hotspot_by_name(q->by)));
	json_object_object_add(root, "top", json_object_new_int(q->top));
	json_object_object_add(root, "from", json_object_new_string(from));
	json_object_object_add(root, "to", json_object_new_string(to));
	json_object_object_add(root, "rows", list);
	return root;
}

/* Shared with core/assess.c (see rates.h). */

bool
rates_int_param(const char *text, int min, int max, int *out)
{
	long v = 0;
	size_t len = strlen(text);

	if (len == 0 || len > 9 || (text[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (text[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

json_object *
rates_double_json(double d)
{
	char buf[32];

	return json_object_new_double_s(d, rates_format_double(d, buf, sizeof(buf)));
}

void
rates_csv_text(TextBuf *t, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		textbuf_add_str(t, "\"");
	if (*s && strchr("=+-@\t\r", *s))
		textbuf_add_str(t, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			textbuf_add_str(t, "\"");
		textbuf_add(t, p, 1);
	}
	if (quote)
		textbuf_add_str(t, "\"");
}

/*
 *********************************
 * Helpers
 *********************************
 */

static bool
parse_enum(const char *text, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* num / den as a JSON number written in its shortest exact form, or JSON null (NULL) when den is 0. */
static json_object *
fraction_json(int64_t num, int64_t den)
{
	double f;

	return rates_fraction(num, den, &f) ? rates_double_json(f) : NULL;
}

