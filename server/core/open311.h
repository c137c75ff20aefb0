/*
 * open311: the inputs of Open311 GeoReport v2 (API.md section 7), checked without I/O.
 *
 * POST requests: the form's arguments become the body of a POST /v1/cases create (channel
 * open311, category = service_code, description the text, address_string the address,
 * lat/long, first_name + last_name the caller's name, phone the caller's phone) and the
 * extras the case's history keeps (email, device_id, account_id, media_url, address_id,
 * attribute[code] and attribute[code][]). The create body then goes through
 * case_input_create like any other; open311_input_error turns its refusals into Open311's.
 *
 * GET requests: the filters, with the time window decided here (the clock is a parameter).
 *
 * Choices where the specification is silent: a phone may be written with spaces, dots and
 * parentheses (dropped); first_name and last_name are joined with one space; attribute[c]
 * given several times, or attribute[c][], is a list; arguments this server does not know
 * (jurisdiction_id included) are ignored, as GeoReport clients send them freely.
 */
#ifndef HOTLINE_CORE_OPEN311_H
#define HOTLINE_CORE_OPEN311_H

#include <stdbool.h>
#include <time.h>

#include <json-c/json.h>

#include "core/api_error.h"
#include "core/form.h"

#define OPEN311_WINDOW_SECONDS (90 * 86400) /* start_date .. end_date at most, and the default */
#define OPEN311_LIST_MAX 1000               /* requests in one GET */
#define OPEN311_EXTRA_MAX 1000              /* characters of an extra (email, media_url, an attribute ...) */
#define OPEN311_ATTRIBUTE_CODE_MAX 100      /* characters of an attribute's code */
#define OPEN311_ID_MAX 32                   /* bytes of one service_request_id */

/* A POST requests form, decoded. */
typedef struct Open311Submission {
	json_object *body;   /* the create body (a POST /v1/cases JSON object) */
	json_object *extras; /* {"email", "device_id", "account_id", "media_url", "address_id", "attributes": {code: value
			      * or [values]}}, with only what was given */
} Open311Submission;

/* The filters of GET requests. */
typedef struct Open311Filter {
	char *ids;          /* text[] literal of the service_request_id list; NULL: not given (then the others apply) */
	char *codes;        /* text[] literal of the service_code list; NULL: every service */
	time_t from, to;    /* requested_datetime from .. to, inclusive */
	const char *status; /* "open", "closed", or NULL for both */
} Open311Filter;

/*
 * Check the arguments of a POST requests form other than api_key and fill *out (free with
 * open311_submission_free). False with err a 400 bad_request naming the argument (a missing
 * service_code, location or description; a lat without long; a bad number; an over-long
 * extra; a malformed attribute name), or 503 when out of memory.
 */
bool open311_submission(const Form *form, Open311Submission *out, ApiError *err) __attribute__((warn_unused_result));
void open311_submission_free(Open311Submission *s);

/*
 * The Open311 error for a refusal of case_input_create or of case_create on a submission's
 * body: the category (an unknown or malformed service_code) is 404; everything else is
 * 400 naming the Open311 argument instead of the case field (text -> description ...).
 */
void open311_input_error(const ApiError *in, ApiError *out);

/*
 * Check the GET requests filters (each NULL or "" when absent) and fill *out (free with
 * open311_filter_free). service_request_id and service_code are comma-separated lists;
 * status is open, closed or both; start_date and end_date are ISO 8601 date-times with a
 * zone, at most 90 days apart, end not before start. One date alone spans the 90 days
 * after (start) or before (end) it; none, the 90 days up to now. False with err a 400
 * bad_request naming the argument, or 503 when out of memory.
 */
bool open311_filter(const char *ids, const char *codes, const char *start, const char *end, const char *status,
		    time_t now, Open311Filter *out, ApiError *err) __attribute__((warn_unused_result));
void open311_filter_free(Open311Filter *f);

/*
 * Parse an ISO 8601 date-time with its zone: YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z or
 * +HH:MM / -HH:MM (or +HHMM, +HH). A space in place of '+' is taken as '+': an unescaped
 * '+' in a query string arrives as a space. The fraction is dropped. False when it is not
 * such a text (no zone, no time, an impossible date).
 */
bool open311_datetime_parse(const char *text, time_t *out) __attribute__((warn_unused_result));

/* "closed" for a case closed (declined cases are closed too), merged or declined; "open" for
 * any other state. */
const char *open311_status(const char *state);

/* The service_notice of a case in state: what happens next, in the hotline's words. */
const char *open311_notice(const char *state);

#endif
