/*
 * http_client: requests through libcurl's multi interface, a fixed
 * number of slots each carrying one request at a time, with deadlines
 * and retries. libcurl speaks HTTP and TLS (certificate verification
 * against the system store or HOTLINE_CA) and keeps connections open
 * between requests; this file decides what an attempt's end means and
 * whether to send it again.
 */
#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define BACKOFF_FIRST 0.25	/* seconds before the first retry */
#define BACKOFF_MAX 4.0		/* longest pause between two attempts */
#define RETRY_AFTER_MAX 10.0	/* longest Retry-After we honour */
#define REFUSED_ATTEMPTS 5	/* a refused connection is tried this often (~3 s) */
#define MIN_ATTEMPT_TIME 0.2	/* an attempt gets at least this long */
#define POLL_MAX 1.0		/* longest wait in curl_multi_poll, seconds */

struct HttpClient {
	CURLM *multi;		/* also the cache of open connections */
	char *base;		/* scheme://host:port and the URL's path, no trailing '/' */
	char *where;		/* host:port, for messages */
	char *auth;		/* the Authorization header line, or NULL */
	char *ca;		/* CA certificate file, or NULL for the system's */
	double timeout;
	HttpFeed feed;
	HttpDone done;
	void *arg;
	bool stopped;		/* done said stop: feed no more */
	unsigned busy;		/* slots with a request */
};

typedef enum SlotState {
	SLOT_IDLE,
	SLOT_WAITING,		/* the attempt is in libcurl's hands */
	SLOT_SETTLING,		/* the attempt ended without starting: decide next turn */
	SLOT_BACKING_OFF,	/* to be sent again at resume_at */
} SlotState;

typedef struct Slot {
	HttpClient *client;
	CURL *easy;		/* the attempt under way, or NULL */
	struct curl_slist *headers;	/* its request headers */
	SlotState state;
	HttpRequest *req;
	size_t response_cap;	/* allocated size of req->response */
	double deadline;	/* monotonic seconds */
	double resume_at;	/* BACKING_OFF: when to send again */
	double retry_after;	/* from the last answer, 0 when none */
	char curl_error[CURL_ERROR_SIZE];
} Slot;

static void slot_next(Slot *s);
static void slot_send(Slot *s);
static CURL *attempt_new(Slot *s, double seconds);
static bool attempt_headers(Slot *s);
static size_t on_body(char *data, size_t size, size_t n, void *arg);
static void drive(HttpClient *c, Slot *slots, unsigned n);
static void attempt_done(Slot *s, CURLcode rc);
static void record_answer(Slot *s);
static void record_failure(Slot *s, CURLcode rc);
static bool tls_refused(CURLcode rc);
static void attempt_free(Slot *s);
static void slot_settle(Slot *s);
static bool slot_retry_delay(Slot *s, double *delay);
static double backoff(int attempts);
static const char *method_name(enum evhttp_cmd_type method);
static char *parse_base(const char *url, char **where, char *err, size_t errlen);
static HttpRequest *single_feed(void *arg);
static bool single_done(void *arg, HttpRequest *req);

/*
 *********************************
 * Public functions
 *********************************
 */

HttpClient *
http_client_new(const char *url, const char *token, const char *ca, double timeout, char *err,
		size_t errlen)
{
	HttpClient *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl did not initialise");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		curl_global_cleanup();
		return NULL;
	}
	c->timeout = timeout;
	c->base = parse_base(url, &c->where, err, errlen);
	if (c->base == NULL) {
		http_client_free(c);
		return NULL;
	}
	if (token && asprintf(&c->auth, "Authorization: Bearer %s", token) < 0)
		c->auth = NULL;
	c->ca = ca && ca[0] ? strdup(ca) : NULL;
	c->multi = curl_multi_init();
	if ((token && c->auth == NULL) || (ca && ca[0] && c->ca == NULL) || c->multi == NULL) {
		snprintf(err, errlen, "out of memory");
		http_client_free(c);
		return NULL;
	}
	return c;
}

void
http_client_free(HttpClient *c)
{
	if (c == NULL)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->base);
	free(c->where);
	free(c->auth);
	free(c->ca);
	free(c);
	curl_global_cleanup();
}

void
http_client_run(HttpClient *c, unsigned parallel, HttpFeed feed, HttpDone done, void *arg)
{
	Slot *slots = calloc(parallel, sizeof(Slot));

	if (slots == NULL)
		return;
	c->feed = feed;
	c->done = done;
	c->arg = arg;
	c->stopped = false;
	c->busy = 0;
	/* HTTP/1.1 carries one request per connection at a time: at most
	 * `parallel` connections, and as many may stay open for reuse. */
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)parallel);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)parallel);
	for (unsigned i = 0; i < parallel; i++) {
		slots[i].client = c;
		slot_next(&slots[i]);
	}
	drive(c, slots, parallel);
	for (unsigned i = 0; i < parallel; i++)
		attempt_free(&slots[i]);
	free(slots);
}

void
http_client_perform(HttpClient *c, HttpRequest *req)
{
	/* One request is a feed of one; the caller keeps it afterwards. */
	HttpRequest *pending = req;

	http_client_run(c, 1, single_feed, single_done, &pending);
}

HttpRequest *
http_request_new(enum evhttp_cmd_type method, const char *target, const char *body,
		 size_t body_len)
{
	HttpRequest *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->method = method;
	req->target = strdup(target);
	if (body) {
		req->body = malloc(body_len + 1);
		if (req->body) {
			memcpy(req->body, body, body_len);
			req->body[body_len] = '\0';
		}
		req->body_len = body_len;
	}
	if (req->target == NULL || (body && req->body == NULL)) {
		http_request_free(req);
		return NULL;
	}
	req->replayable = method == EVHTTP_REQ_GET;
	return req;
}

void
http_request_free(HttpRequest *req)
{
	if (req == NULL)
		return;
	free(req->target);
	free(req->body);
	free(req->response);
	free(req->content_type);
	free(req);
}

double
http_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
http_uuid4(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return false;
	b[6] = (b[6] & 0x0F) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3F) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	return true;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static HttpRequest *
single_feed(void *arg)
{
	HttpRequest **pending = arg;
	HttpRequest *req = *pending;

	*pending = NULL;
	return req;
}

static bool
single_done(void *arg, HttpRequest *req)
{
	(void)arg;
	(void)req;
	return true;
}

/* The URL's scheme, host, port and path as the prefix of every request
 * ("https://gw:8443/hotline"), and "host:port" in *where for messages.
 * NULL with a message in err when the URL is not http(s)://HOST[:PORT]. */
static char *
parse_base(const char *url, char **where, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *base = NULL;
	size_t len;

	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(err, errlen, "cannot parse URL '%s': write it as https://HOST:PORT", url);
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(err, errlen, "URL '%s' must start with https:// or http://", url);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		snprintf(err, errlen, "cannot parse URL '%s': write it as https://HOST:PORT", url);
		goto done;
	}
	/* The target always begins with '/', after the URL's own path. */
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		path[--len] = '\0';
	if (asprintf(&base, "%s://%s:%s%s", scheme, host, port, path) < 0 ||
	    asprintf(where, "%s:%s", host, port) < 0) {
		free(base);
		base = NULL;
		*where = NULL;
		snprintf(err, errlen, "out of memory");
	}
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return base;
}

/* Take the next request from the feed, or go idle. */
static void
slot_next(Slot *s)
{
	HttpClient *c = s->client;
	HttpRequest *req = c->stopped ? NULL : c->feed(c->arg);

	if (req == NULL) {
		if (s->state != SLOT_IDLE)
			c->busy--;
		s->state = SLOT_IDLE;
		return;
	}
	if (s->state == SLOT_IDLE)
		c->busy++;
	s->req = req;
	req->attempts = 0;
	req->error[0] = '\0';
	s->deadline = http_clock() + c->timeout;
	slot_send(s);
}

/* Start an attempt of the slot's request; when it cannot even start, it
 * is settled as not sent on the next turn of drive(). */
static void
slot_send(Slot *s)
{
	HttpRequest *req = s->req;
	double left = fmax(s->deadline - http_clock(), MIN_ATTEMPT_TIME);

	req->attempts++;
	req->error[0] = '\0';
	req->response_len = 0;	/* the answer is the last attempt's alone */
	s->retry_after = 0;
	s->curl_error[0] = '\0';
	s->easy = attempt_new(s, left);
	if (s->easy && curl_multi_add_handle(s->client->multi, s->easy) == CURLM_OK) {
		s->state = SLOT_WAITING;
		return;
	}
	attempt_free(s);
	snprintf(req->error, sizeof(req->error), "could not start the request");
	req->outcome = HTTP_NOT_SENT;
	s->state = SLOT_SETTLING;
}

/* An easy handle for one attempt of the slot's request, given seconds. */
static CURL *
attempt_new(Slot *s, double seconds)
{
	HttpClient *c = s->client;
	HttpRequest *req = s->req;
	CURL *e = curl_easy_init();
	char *url = NULL;
	CURLcode rc = CURLE_OK;

	if (e == NULL || asprintf(&url, "%s%s", c->base, req->target) < 0 || !attempt_headers(s)) {
		if (e)
			curl_easy_cleanup(e);
		free(url);
		return NULL;
	}
	rc |= curl_easy_setopt(e, CURLOPT_URL, url);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(seconds * 1000));
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "hotline-cli/1");
	rc |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_error);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	if (req->method != EVHTTP_REQ_GET)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_name(req->method));
	if (req->body || req->method == EVHTTP_REQ_POST) {
		/* libcurl sends the body from our buffer, which outlives the attempt. */
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	free(url);	/* libcurl keeps its own copy of every string option */
	if (rc != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

/* The slot's request headers (s->headers, replacing the last attempt's). */
static bool
attempt_headers(Slot *s)
{
	HttpClient *c = s->client;
	HttpRequest *req = s->req;
	struct curl_slist *h = NULL, *next;
	char line[300];
	bool ok = true;

#define ADD(text) ok = ok && (next = curl_slist_append(h, (text))) != NULL && (h = next, true)
	snprintf(line, sizeof(line), "Accept: %s", req->accept ? req->accept : "application/json");
	ADD(line);
	if (c->auth)
		ADD(c->auth);
	/* No body, no Content-Type (not libcurl's form type for a bare POST). */
	ADD(req->body ? "Content-Type: application/json; charset=utf-8" : "Content-Type:");
	ADD("Expect:");	/* the body goes at once, not after a 100 Continue */
	if (req->idempotency_key[0]) {
		snprintf(line, sizeof(line), "Idempotency-Key: %s", req->idempotency_key);
		ADD(line);
	}
	if (req->if_match[0]) {
		snprintf(line, sizeof(line), "If-Match: %s", req->if_match);
		ADD(line);
	}
#undef ADD
	curl_slist_free_all(s->headers);
	s->headers = h;
	if (!ok) {
		curl_slist_free_all(h);
		s->headers = NULL;
	}
	return ok;
}

/* libcurl's write callback: append to the request's response buffer. */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	Slot *s = arg;
	HttpRequest *req = s->req;
	size_t len = size * n;

	if (req->response_len + len + 1 > s->response_cap) {
		size_t cap = (req->response_len + len + 1) * 2;
		char *grown = realloc(req->response, cap);

		if (grown == NULL)
			return 0;	/* libcurl then fails the attempt */
		req->response = grown;
		s->response_cap = cap;
	}
	memcpy(req->response + req->response_len, data, len);
	req->response_len += len;
	req->response[req->response_len] = '\0';
	return len;
}

/* Run every slot's attempts until no slot has a request left. */
static void
drive(HttpClient *c, Slot *slots, unsigned n)
{
	while (c->busy > 0) {
		double now = http_clock(), wait = POLL_MAX;
		int running;
		CURLMsg *msg;

		for (unsigned i = 0; i < n; i++) {
			Slot *s = &slots[i];

			if (s->state == SLOT_SETTLING)
				slot_settle(s);
			else if (s->state == SLOT_BACKING_OFF && s->resume_at <= now)
				slot_send(s);
			if (s->state == SLOT_SETTLING)
				wait = 0;
			else if (s->state == SLOT_BACKING_OFF)
				wait = fmin(wait, s->resume_at - now);
		}
		if (c->busy == 0)
			break;
		curl_multi_poll(c->multi, NULL, 0, (int)(fmax(wait, 0) * 1000) + 1, NULL);
		curl_multi_perform(c->multi, &running);
		while ((msg = curl_multi_info_read(c->multi, &running)) != NULL) {
			Slot *s = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			attempt_done(s, msg->data.result);
		}
	}
}

/* An attempt ended: record what it means, free it, decide what next. */
static void
attempt_done(Slot *s, CURLcode rc)
{
	if (rc == CURLE_OK)
		record_answer(s);
	else
		record_failure(s, rc);
	attempt_free(s);
	slot_settle(s);
}

static void
record_answer(Slot *s)
{
	HttpRequest *req = s->req;
	long status = 0;
	char *type = NULL;
	curl_off_t retry = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &type);
	curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry);
	req->outcome = HTTP_ANSWERED;
	req->status = (int)status;
	free(req->content_type);
	req->content_type = type ? strdup(type) : NULL;
	s->retry_after = (double)retry;
}

/* No complete answer. A request that never left (no connection, or a TLS
 * handshake that failed) changed nothing; one that did may have. */
static void
record_failure(Slot *s, CURLcode rc)
{
	HttpRequest *req = s->req;
	long sent = 0, os_errno = 0;
	const char *why = s->curl_error[0] ? s->curl_error : curl_easy_strerror(rc);

	curl_easy_getinfo(s->easy, CURLINFO_REQUEST_SIZE, &sent);
	curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
	/* A partial answer of an earlier attempt is not this one's. */
	req->response_len = 0;
	if (req->response)
		req->response[0] = '\0';
	if (tls_refused(rc)) {
		req->outcome = HTTP_UNTRUSTED;
		snprintf(req->error, sizeof(req->error), "TLS with %s failed: %s",
			 s->client->where, why);
	} else if (sent == 0) {
		req->outcome = HTTP_NOT_SENT;
		snprintf(req->error, sizeof(req->error), "cannot connect to %s: %s",
			 s->client->where,
			 rc == CURLE_OPERATION_TIMEDOUT ? "connection timed out"
			 : os_errno			? strerror((int)os_errno)
							: why);
	} else {
		req->outcome = HTTP_LOST;
		snprintf(req->error, sizeof(req->error), "%s",
			 rc == CURLE_OPERATION_TIMEDOUT ? "timed out"
			 : rc == CURLE_GOT_NOTHING	? "the connection closed before the answer"
							: why);
	}
}

/* Failures of trust or of TLS configuration: sending again cannot help. */
static bool
tls_refused(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static void
attempt_free(Slot *s)
{
	if (s->easy) {
		curl_multi_remove_handle(s->client->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->headers);
	s->headers = NULL;
}

/* Decide whether the attempt is final: back off and send again, or hand
 * the request to done and take the next one. */
static void
slot_settle(Slot *s)
{
	HttpRequest *req = s->req;
	double delay;

	if (slot_retry_delay(s, &delay) && http_clock() + delay < s->deadline) {
		s->state = SLOT_BACKING_OFF;
		s->resume_at = http_clock() + delay;
		return;
	}
	if (req->outcome == HTTP_LOST && strcmp(req->error, "timed out") == 0)
		snprintf(req->error, sizeof(req->error), "no answer within %g s", s->client->timeout);
	s->req = NULL;
	s->response_cap = 0;
	if (!s->client->done(s->client->arg, req))
		s->client->stopped = true;
	slot_next(s);
}

/* Whether the attempt may be repeated, and after how long. */
static bool
slot_retry_delay(Slot *s, double *delay)
{
	HttpRequest *req = s->req;

	*delay = backoff(req->attempts);
	switch (req->outcome) {
	case HTTP_NOT_SENT:
		return req->attempts < REFUSED_ATTEMPTS;
	case HTTP_UNTRUSTED:
		return false;
	case HTTP_LOST:
		return req->replayable;
	case HTTP_ANSWERED:
		if (!req->replayable || (req->status != 503 && req->status != 429))
			return false;
		if (s->retry_after > 0)
			*delay = fmin(s->retry_after, RETRY_AFTER_MAX);
		return true;
	}
	return false;
}

/* Exponential back-off with jitter: attempt n waits between half and all
 * of BACKOFF_FIRST * 2^(n-1), at most BACKOFF_MAX, so that many clients
 * retrying after one outage do not arrive in step. */
static double
backoff(int attempts)
{
	double full = fmin(BACKOFF_FIRST * pow(2.0, attempts - 1), BACKOFF_MAX);
	unsigned short r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = 32768;
	return full / 2 + full / 2 * ((double)r / 65535.0);
}

static const char *
method_name(enum evhttp_cmd_type method)
{
	switch (method) {
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "GET";
	}
}
