/*
 * http_client: the hotline client's HTTP and HTTPS, on libcurl.
 *
 * One request or many at once on one event loop, each bounded by an
 * overall deadline, retried with exponential back-off when that is safe:
 * a request the server never saw (connection refused) is always safe to
 * send again; one that was sent and then lost, or answered 503/429, is
 * sent again only when it is replayable (a GET, or a create carrying an
 * Idempotency-Key).
 */
#ifndef HOTLINE_CLIENT_HTTP_CLIENT_H
#define HOTLINE_CLIENT_HTTP_CLIENT_H

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct HttpClient HttpClient;

typedef enum HttpOutcome {
	HTTP_ANSWERED,		/* a response arrived: see status */
	HTTP_NOT_SENT,		/* never reached the server: nothing happened there */
	HTTP_LOST,		/* sent, then no complete answer: the effect is unknown */
	HTTP_UNTRUSTED,		/* TLS failed (an unknown CA, a bad certificate): not sent, not retried */
} HttpOutcome;

typedef struct HttpRequest {
	/* Set by the caller (http_request_new fills the first four). */
	enum evhttp_cmd_type method;
	char *target;		/* path and query, appended to the URL's path */
	char *body;		/* NULL when none */
	size_t body_len;
	char idempotency_key[256];	/* "" when none */
	char if_match[32];	/* "" when none */
	const char *accept;	/* NULL means application/json */
	bool replayable;	/* safe to send twice: GET, or keyed create */
	void *user;		/* the caller's, untouched */

	/* Set by http_client when the request is settled. */
	HttpOutcome outcome;
	int status;		/* HTTP status when ANSWERED, else 0 */
	char *response;		/* body, NUL-terminated (may hold NULs), or NULL */
	size_t response_len;
	char *content_type;	/* or NULL */
	char error[512];	/* why it was NOT_SENT, UNTRUSTED or LOST */
	int attempts;
} HttpRequest;

/* Called for the next request to send; returns NULL when there is none. */
typedef HttpRequest *(*HttpFeed)(void *arg);

/* Called once per settled request, which it now owns. Returns false to
 * stop asking the feed for more (requests in flight still settle). */
typedef bool (*HttpDone)(void *arg, HttpRequest *req);

/* Parse url (http[s]://host[:port][/prefix]) and prepare a client that
 * sends token as a Bearer token (NULL: none), trusts the certificates
 * signed by the CA in file ca (NULL or "": the system's CAs) and gives each
 * request timeout seconds overall, retries included. Returns NULL with a
 * message in err when the URL is not usable. Free with http_client_free. */
HttpClient *http_client_new(const char *url, const char *token, const char *ca, double timeout,
			    char *err, size_t errlen);

void http_client_free(HttpClient *c);

/* Send the feed's requests with at most parallel in flight, and hand each
 * settled one to done. Returns when the feed is empty (or done said stop)
 * and nothing is in flight. */
void http_client_run(HttpClient *c, unsigned parallel, HttpFeed feed, HttpDone done, void *arg);

/* Send one request and wait until it is settled; the caller keeps req. */
void http_client_perform(HttpClient *c, HttpRequest *req);

/* A request for method and target (copied) with body (copied, may be NULL).
 * Returns NULL when out of memory. Free with http_request_free. */
HttpRequest *http_request_new(enum evhttp_cmd_type method, const char *target,
			      const char *body, size_t body_len);

void http_request_free(HttpRequest *req);

/* Seconds on the monotonic clock, for deadlines and rates. */
double http_clock(void);

/* Write a fresh random UUIDv4 (36 characters and a NUL) into out.
 * Returns false when the system has no randomness to give. */
bool http_uuid4(char out[37]);

#endif
