/*
 * rates: the formulas and renderings of the manager reports (API.md section 5).
 *
 * SQL counts, this module divides: a report row arrives as a RateCounts (integers
 * only, one per case property, summed over the row's cases) and leaves as JSON or
 * CSV with its rates. A rate is num / den as a fraction 0..1, or null when den is 0;
 * it is never rounded, so a reader recomputing it from the counts gets the same
 * double. The total row is the sum of the rows' counts (every case is in exactly one
 * row), with its rates computed from those sums, not averaged.
 *
 * Hot spots: a group of cases (district, category, department) created in the last
 * `days` days is compared with the `days` before. growth = (count - previous) /
 * previous, null when previous is 0. A group is `rising` when
 *     count >= RATES_RISING_MIN_COUNT  and  count >= RATES_RISING_FACTOR * previous,
 * i.e. at least 5 cases and at least doubled (a group new this period with 5 or
 * more cases rises too): few enough false alarms to be read every morning, early
 * enough to act before the complaints pile up (未诉先办).
 */
#ifndef HOTLINE_CORE_RATES_H
#define HOTLINE_CORE_RATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/textbuf.h"

#define RATES_RISING_MIN_COUNT 5
#define RATES_RISING_FACTOR 2
#define RATES_HOTSPOT_DAYS_MAX 366
#define RATES_HOTSPOT_TOP_MAX 200
#define RATES_OVERDUE_LIMIT_DEFAULT 100
#define RATES_OVERDUE_LIMIT_MAX 1000

/* The counts of one report row, in the order the report query selects them. */
typedef enum RateCount {
	RC_RECEIVED,          /* cases created */
	RC_ANSWERED,          /* answered directly by the hotline */
	RC_DISPATCHED,        /* dispatched to a department at least once */
	RC_SIGNED_ON_TIME,    /* signed by sign_by */
	RC_CONTACTED_ON_TIME, /* first contact by contact_by */
	RC_REPLIED,           /* replied at all */
	RC_REPLIED_ON_TIME,   /* replied by finish_by */
	RC_VISITED,           /* with a satisfaction visit */
	RC_RESOLVED,          /* latest visit says resolved */
	RC_SATISFIED,         /* latest score >= 3 */
	RC_SCORE_SUM,         /* sum of the latest scores (for avg_score; not shown) */
	RC_RETURNED,          /* returned at least once */
	RC_REOPENED,          /* reopened at least once */
	RC_OVERDUE_OPEN,      /* open and past a deadline now */
	RC_DECLINED,          /* declined (不予受理, API.md section 12) */
	RC_SUSPENDED,         /* suspended at least once (section 10) */
	RC__COUNT
} RateCount;

typedef struct RateCounts {
	int64_t n[RC__COUNT];
} RateCounts;

typedef struct RateRow {
	const char *key; /* NULL: cases without one (never dispatched, no district) */
	RateCounts counts;
} RateRow;

/* The grouping of the rates report. */
typedef enum RatesBy {
	RATES_BY_DEPARTMENT,
	RATES_BY_DISTRICT,
	RATES_BY_TYPE,
	RATES_BY_CHANNEL,
	RATES_BY__COUNT
} RatesBy;

/* The grouping of the hot-spot report. */
typedef enum HotspotBy {
	HOTSPOT_BY_DISTRICT,
	HOTSPOT_BY_CATEGORY,
	HOTSPOT_BY_DEPARTMENT,
	HOTSPOT_BY__COUNT
} HotspotBy;

/* A validated GET /v1/reports/rates query. Dates are "YYYY-MM-DD", from < to. */
typedef struct RatesQuery {
	char from[11];
	char to[11];
	RatesBy by;
	bool csv;
} RatesQuery;

typedef struct HotspotQuery {
	int days; /* 1..RATES_HOTSPOT_DAYS_MAX, default 7 */
	int top;  /* 1..RATES_HOTSPOT_TOP_MAX, default 20 */
	HotspotBy by;
} HotspotQuery;

/* One group of the hot-spot report as SQL counts it. */
typedef struct Hotspot {
	const char *key;
	int64_t count;    /* cases in the last `days` days */
	int64_t previous; /* cases in the `days` before */
} Hotspot;

/* "department", ...; "unknown" when out of range. */
const char *rates_by_name(RatesBy by);
const char *hotspot_by_name(HotspotBy by);

/*
 * Validate the rates query parameters (any may be NULL = absent). from and to are
 * required dates with from < to; by defaults to department; format may be absent or
 * "json" or "csv"; accept is the Accept header: text/csv there asks for CSV when no
 * format is given. Returns true and fills *out, or false with err a 400 bad_request
 * naming the parameter.
 */
bool rates_query_parse(const char *from, const char *to, const char *by, const char *format,
		       const char *accept, RatesQuery *out, ApiError *err) __attribute__((warn_unused_result));

/* Validate days, by and top of the hot-spot query (NULL = default); 400 bad_request otherwise. */
bool hotspot_query_parse(const char *days, const char *by, const char *top, HotspotQuery *out,
			 ApiError *err) __attribute__((warn_unused_result));

/* Validate the overdue report's limit (cases listed per department; NULL = default). */
bool overdue_query_parse(const char *limit, int *out, ApiError *err) __attribute__((warn_unused_result));

/*
 * Parse RC__COUNT decimal texts (as libpq gives them; NULL counts as 0) into *out.
 * False when one is not a non-negative integer that fits.
 */
bool rates_counts_parse(const char *const *texts, RateCounts *out) __attribute__((warn_unused_result));

/* sum += c, count by count. */
void rates_counts_add(RateCounts *sum, const RateCounts *c);

/* num / den into *out; false (and *out untouched) when den is 0. */
bool rates_fraction(int64_t num, int64_t den, double *out) __attribute__((warn_unused_result));

/*
 * The shortest decimal text that reads back as exactly d ("0.5", "0.6666666666666666",
 * "1.0"), always with a '.' or an exponent so that it reads as a fraction. buf must
 * hold at least 32 bytes. Returns buf.
 */
char *rates_format_double(double d, char *buf, size_t len);

/* One row as JSON: {"key", received, ..., overdue_open}; the caller puts it. */
json_object *rates_row_json(const char *key, const RateCounts *c);

/*
 * The whole rates report: {"from", "to", "by", "rows": [...], "total": {...}} with
 * "total"'s key "total". The caller puts it; NULL when out of memory.
 */
json_object *rates_report_json(const RatesQuery *q, const RateRow *rows, size_t n);

/*
 * The rows as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma,
 * quote, CR or LF, quotes doubled): a header line with the JSON field names, then
 * one line per row; no total line (the rows are the JSON's rows). A null key or
 * rate is an empty field. A key that starts with = + - @ TAB or CR is prefixed with
 * an apostrophe, so that a spreadsheet shows it instead of running it as a formula.
 * Returns a malloc'd NUL-terminated text the caller frees, its length in *len;
 * NULL when out of memory.
 */
char *rates_report_csv(const RateRow *rows, size_t n, size_t *len);

/* A query parameter that is a plain decimal in [min, max]: no sign, spaces or leading zeros. */
bool rates_int_param(const char *text, int min, int max, int *out);

/* d as a JSON number written in its shortest exact form (rates_format_double); NULL when out of memory. */
json_object *rates_double_json(double d);

/*
 * Append s to t as a CSV field, quoted when RFC 4180 requires it. Text fields are free
 * text (district and department names), so a leading = + - @ TAB or CR gets an
 * apostrophe first (OWASP's advice against CSV injection).
 */
void rates_csv_text(TextBuf *t, const char *s);

/* growth = (count - previous) / previous; false when previous is 0 (null). */
bool rates_hotspot_growth(int64_t count, int64_t previous, double *out) __attribute__((warn_unused_result));
/* The rising rule of the module comment. */
bool rates_hotspot_rising(int64_t count, int64_t previous);

/*
 * The hot-spot report: {"days", "by", "top", "from", "to", "rows": [{"key", "count",
 * "previous", "growth", "rising"}]} with from/to the window's bounds as given (RFC
 * 3339 texts). Rows are kept in the given order. The caller puts it.
 */
json_object *rates_hotspots_json(const HotspotQuery *q, const char *from, const char *to,
				 const Hotspot *rows, size_t n);

#endif
