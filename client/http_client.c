/*
 * http_client: requests on evhttp connections, a fixed number of slots
 * each carrying one request at a time, with deadlines and retries.
 *
 * evhttp must not see its connection freed from inside its own callback,
 * so a callback only records what happened and arms the slot's timer;
 * the timer then decides (retry, next request, or stop) outside evhttp.
 */
#include "http_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
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

struct HttpClient {
	struct event_base *base;
	char *host;		/* as written in the URL, for the Host header */
	char *address;		/* numeric address, resolved on first use */
	int port;
	char *prefix;		/* URL path without a trailing '/' */
	char *token;
	double timeout;
	HttpFeed feed;
	HttpDone done;
	void *arg;
	bool stopped;		/* done said stop: feed no more */
	unsigned busy;		/* slots with a request */
};

typedef enum SlotState {
	SLOT_IDLE,
	SLOT_WAITING,		/* request in evhttp's hands */
	SLOT_SETTLING,		/* answer recorded, timer armed to decide */
	SLOT_BACKING_OFF,	/* timer armed to send again */
} SlotState;

typedef struct Slot {
	HttpClient *client;
	struct evhttp_connection *evcon;
	struct event *timer;
	SlotState state;
	HttpRequest *req;
	double deadline;	/* monotonic seconds */
	double retry_after;	/* from the last answer, 0 when none */
	double attempt_start;
	double attempt_time;	/* the attempt's evhttp timeout */
	bool failed_after_connect;
	int failure_errno;
} Slot;

static bool resolve(HttpClient *c);
static void slot_next(Slot *s);
static void slot_send(Slot *s);
static bool slot_start(Slot *s);
static struct timeval *to_timeval(double seconds, struct timeval *tv);
static void slot_reply_cb(struct evhttp_request *r, void *arg);
static void slot_error_cb(enum evhttp_request_error error, void *arg);
static void slot_timer_cb(evutil_socket_t fd, short what, void *arg);
static void slot_settle(Slot *s);
static bool slot_retry_delay(Slot *s, double *delay);
static void slot_arm(Slot *s, SlotState state, double delay);
static void slot_drop_connection(Slot *s);
static bool add_headers(HttpClient *c, struct evhttp_request *r, const HttpRequest *req);
static void record_answer(Slot *s, struct evhttp_request *r);
static double backoff(int attempts);
static HttpRequest *single_feed(void *arg);
static bool single_done(void *arg, HttpRequest *req);
static bool errno_means_not_sent(int err);

/*
 *********************************
 * Public functions
 *********************************
 */

HttpClient *
http_client_new(const char *url, const char *token, double timeout, char *err, size_t errlen)
{
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	HttpClient *c = NULL;
	const char *scheme, *host, *path;

	if (uri == NULL) {
		snprintf(err, errlen, "cannot parse URL '%s': write it as http://HOST:PORT", url);
		goto done;
	}
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	path = evhttp_uri_get_path(uri);
	if (scheme == NULL || strcmp(scheme, "http") != 0) {
		snprintf(err, errlen, "URL '%s' must start with http:// (put TLS in a proxy in front)",
			 url);
		goto done;
	}
	if (host == NULL || host[0] == '\0') {
		snprintf(err, errlen, "URL '%s' has no host: write it as http://HOST:PORT", url);
		goto done;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto done;
	/* An IPv6 literal comes bracketed; the Host header brackets it again. */
	if (host[0] == '[' && host[strlen(host) - 1] == ']')
		c->host = strndup(host + 1, strlen(host) - 2);
	else
		c->host = strdup(host);
	c->prefix = strdup(path ? path : "");
	c->token = token ? strdup(token) : NULL;
	c->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	c->timeout = timeout;
	c->base = event_base_new();
	if (c->host == NULL || c->prefix == NULL || (token && c->token == NULL) || c->base == NULL) {
		snprintf(err, errlen, "out of memory");
		http_client_free(c);
		c = NULL;
		goto done;
	}
	while (c->prefix[0] && c->prefix[strlen(c->prefix) - 1] == '/')
		c->prefix[strlen(c->prefix) - 1] = '\0';
done:
	if (uri)
		evhttp_uri_free(uri);
	return c;
}

void
http_client_free(HttpClient *c)
{
	if (c == NULL)
		return;
	if (c->base)
		event_base_free(c->base);
	free(c->host);
	free(c->address);
	free(c->prefix);
	free(c->token);
	free(c);
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
	for (unsigned i = 0; i < parallel; i++) {
		slots[i].client = c;
		slots[i].timer = evtimer_new(c->base, slot_timer_cb, &slots[i]);
		if (slots[i].timer == NULL)
			c->stopped = true;
	}
	for (unsigned i = 0; i < parallel && slots[i].timer; i++)
		slot_next(&slots[i]);
	if (c->busy > 0)
		event_base_dispatch(c->base);
	for (unsigned i = 0; i < parallel; i++) {
		slot_drop_connection(&slots[i]);
		if (slots[i].timer)
			event_free(slots[i].timer);
	}
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

/* Resolve the host once, before any connection: a name that does not
 * resolve is then plainly "not sent", and evhttp never blocks on DNS
 * in the middle of a batch. */
static bool
resolve(HttpClient *c)
{
	struct evutil_addrinfo hints = {0}, *ai = NULL;
	char text[64];
	const void *addr;

	if (c->address)
		return true;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (evutil_getaddrinfo(c->host, NULL, &hints, &ai) != 0 || ai == NULL)
		return false;
	if (ai->ai_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
	else
		addr = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	if (evutil_inet_ntop(ai->ai_family, addr, text, sizeof(text)) != NULL)
		c->address = strdup(text);
	evutil_freeaddrinfo(ai);
	return c->address != NULL;
}

/* Take the next request from the feed, or go idle. */
static void
slot_next(Slot *s)
{
	HttpClient *c = s->client;
	HttpRequest *req = c->stopped ? NULL : c->feed(c->arg);

	if (req == NULL) {
		if (s->state != SLOT_IDLE && --c->busy == 0)
			event_base_loopexit(c->base, NULL);
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

static void
slot_send(Slot *s)
{
	HttpClient *c = s->client;
	HttpRequest *req = s->req;
	double left = fmax(s->deadline - http_clock(), MIN_ATTEMPT_TIME);
	struct timeval tv;

	req->attempts++;
	s->state = SLOT_WAITING;
	s->failed_after_connect = false;
	s->failure_errno = 0;
	s->retry_after = 0;
	if (!resolve(c)) {
		snprintf(req->error, sizeof(req->error), "cannot resolve host '%s'", c->host);
		goto not_sent;
	}
	if (s->evcon == NULL)
		s->evcon = evhttp_connection_base_new(c->base, NULL, c->address, (unsigned short)c->port);
	if (s->evcon == NULL)
		goto not_sent;
	s->attempt_start = http_clock();
	s->attempt_time = left;
	evhttp_connection_set_timeout_tv(s->evcon, to_timeval(left, &tv));
	if (slot_start(s))
		return;
not_sent:
	if (req->error[0] == '\0')
		snprintf(req->error, sizeof(req->error), "could not start the request");
	req->outcome = HTTP_NOT_SENT;
	slot_arm(s, SLOT_SETTLING, 0);
}

/* Hand the slot's request to evhttp on its connection. */
static bool
slot_start(Slot *s)
{
	HttpClient *c = s->client;
	HttpRequest *req = s->req;
	struct evhttp_request *r = evhttp_request_new(slot_reply_cb, s);
	char *uri = malloc(strlen(c->prefix) + strlen(req->target) + 1);
	int rc;

	if (r == NULL || uri == NULL || !add_headers(c, r, req) ||
	    (req->body && evbuffer_add(evhttp_request_get_output_buffer(r), req->body,
				       req->body_len) != 0)) {
		if (r)
			evhttp_request_free(r);
		free(uri);
		return false;
	}
	evhttp_request_set_error_cb(r, slot_error_cb);
	/* The target always begins with '/', after the URL's own path. */
	strcpy(uri, c->prefix);
	strcat(uri, req->target);
	/* On failure evhttp_make_request frees r itself. */
	rc = evhttp_make_request(s->evcon, r, req->method, uri);
	free(uri);
	return rc == 0;
}

static bool
add_headers(HttpClient *c, struct evhttp_request *r, const HttpRequest *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r);
	char host[300], auth[600], length[32];
	bool v6 = strchr(c->host, ':') != NULL;
	int ok = 0;

	if (c->port == 80)
		snprintf(host, sizeof(host), v6 ? "[%s]" : "%s", c->host);
	else
		snprintf(host, sizeof(host), v6 ? "[%s]:%d" : "%s:%d", c->host, c->port);
	ok |= evhttp_add_header(h, "Host", host);
	ok |= evhttp_add_header(h, "User-Agent", "hotline-cli/1");
	ok |= evhttp_add_header(h, "Accept", req->accept ? req->accept : "application/json");
	if (c->token) {
		snprintf(auth, sizeof(auth), "Bearer %s", c->token);
		ok |= evhttp_add_header(h, "Authorization", auth);
	}
	if (req->body) {
		snprintf(length, sizeof(length), "%zu", req->body_len);
		ok |= evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
		ok |= evhttp_add_header(h, "Content-Length", length);
	}
	if (req->idempotency_key[0])
		ok |= evhttp_add_header(h, "Idempotency-Key", req->idempotency_key);
	if (req->if_match[0])
		ok |= evhttp_add_header(h, "If-Match", req->if_match);
	return ok == 0;
}

/* evhttp calls this before slot_reply_cb(NULL) when a request that was
 * under way failed: after connecting (the request may have arrived), or
 * while connecting with an error other than "refused". */
static void
slot_error_cb(enum evhttp_request_error error, void *arg)
{
	Slot *s = arg;
	static const char *const why[] = {
		[EVREQ_HTTP_TIMEOUT] = "timed out",
		[EVREQ_HTTP_EOF] = "the connection closed before the answer was complete",
		[EVREQ_HTTP_INVALID_HEADER] = "the answer had an invalid header",
		[EVREQ_HTTP_BUFFER_ERROR] = "the connection failed",
		[EVREQ_HTTP_REQUEST_CANCEL] = "the request was cancelled",
		[EVREQ_HTTP_DATA_TOO_LONG] = "the answer was too long",
	};

	/* evhttp restores the socket error before calling us. */
	s->failure_errno = errno;
	s->failed_after_connect = true;
	if ((size_t)error < sizeof(why) / sizeof(why[0]) && why[error])
		snprintf(s->req->error, sizeof(s->req->error), "%s", why[error]);
}

static void
slot_reply_cb(struct evhttp_request *r, void *arg)
{
	Slot *s = arg;
	HttpRequest *req = s->req;

	if (r != NULL && evhttp_request_get_response_code(r) != 0) {
		record_answer(s, r);
	} else if (s->failed_after_connect && !errno_means_not_sent(s->failure_errno)) {
		req->outcome = HTTP_LOST;
		if (req->error[0] == '\0')
			snprintf(req->error, sizeof(req->error), "the connection failed");
	} else {
		/* Refused, or no connection within the time: evhttp calls back
		 * with an empty request and no error callback. Unreachable
		 * networks come through the error callback with their errno. */
		bool timed_out = http_clock() - s->attempt_start >= s->attempt_time - 0.05;
		const char *why = s->failure_errno ? strerror(s->failure_errno)
				  : timed_out      ? "connection timed out"
						   : "connection refused";

		req->outcome = HTTP_NOT_SENT;
		snprintf(req->error, sizeof(req->error), "cannot connect to %s:%d: %s",
			 s->client->host, s->client->port, why);
	}
	slot_arm(s, SLOT_SETTLING, 0);
}

static bool
errno_means_not_sent(int err)
{
	return err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH ||
	       err == EADDRNOTAVAIL || err == ENETDOWN;
}

static void
record_answer(Slot *s, struct evhttp_request *r)
{
	HttpRequest *req = s->req;
	struct evbuffer *in = evhttp_request_get_input_buffer(r);
	struct evkeyvalq *h = evhttp_request_get_input_headers(r);
	const char *type = evhttp_find_header(h, "Content-Type");
	const char *retry = evhttp_find_header(h, "Retry-After");
	size_t len = evbuffer_get_length(in);

	req->outcome = HTTP_ANSWERED;
	req->status = evhttp_request_get_response_code(r);
	free(req->response);
	free(req->content_type);
	req->response = malloc(len + 1);
	req->response_len = 0;
	if (req->response) {
		evbuffer_remove(in, req->response, len);
		req->response[len] = '\0';
		req->response_len = len;
	}
	req->content_type = type ? strdup(type) : NULL;
	if (retry && retry[0] >= '0' && retry[0] <= '9')
		s->retry_after = strtod(retry, NULL);
}

static void
slot_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	Slot *s = arg;

	(void)fd;
	(void)what;
	if (s->state == SLOT_SETTLING)
		slot_settle(s);
	else if (s->state == SLOT_BACKING_OFF)
		slot_send(s);
}

/* Decide, outside evhttp's callbacks, whether the attempt is final. */
static void
slot_settle(Slot *s)
{
	HttpRequest *req = s->req;
	double delay;

	if (req->outcome != HTTP_ANSWERED)
		slot_drop_connection(s);
	if (slot_retry_delay(s, &delay) && http_clock() + delay < s->deadline) {
		slot_arm(s, SLOT_BACKING_OFF, delay);
		return;
	}
	if (req->outcome == HTTP_LOST && strcmp(req->error, "timed out") == 0)
		snprintf(req->error, sizeof(req->error), "no answer within %g s", s->client->timeout);
	s->req = NULL;
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

static void
slot_arm(Slot *s, SlotState state, double delay)
{
	struct timeval tv;

	s->state = state;
	evtimer_add(s->timer, to_timeval(delay, &tv));
}

static struct timeval *
to_timeval(double seconds, struct timeval *tv)
{
	tv->tv_sec = (time_t)seconds;
	tv->tv_usec = (suseconds_t)((seconds - (double)tv->tv_sec) * 1e6);
	return tv;
}

static void
slot_drop_connection(Slot *s)
{
	if (s->evcon)
		evhttp_connection_free(s->evcon);
	s->evcon = NULL;
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
