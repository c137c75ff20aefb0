/*
 * fuzz_http: raw request bytes as a client sends them -> evhttp's parser -> the server's
 * pipeline (http/server.c: route match, limits, authentication, role check, rate limit,
 * content type, strict JSON body) -> the handlers of api/, with no network and no database.
 *
 * The server accepts on a Unix socket of the abstract namespace (http_server_accept_fd: no
 * file, no port). Each input is sent on a new connection to it, which is then shut for
 * writing, so evhttp sees the end of the input, and the loop turns until the server closes
 * the connection. The pool's conninfo names no reachable server, so every query and create is
 * answered 503 at once; four users, one per role, are in the token cache (their tokens are
 * in tests/fuzz/http.dict), so inputs carrying them pass authentication and reach the
 * handlers' checks of paths, query parameters, headers and bodies.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * - the server closes the connection within a bounded number of loop turns once the client
 *   has sent everything (no request is left hanging without an answer);
 * - what the server writes is a sequence of HTTP responses, each with a 3-digit status
 *   of 100-599, and a body labelled application/json is one strict JSON text (RFC 8259, no
 *   key twice: json_strict_check) of valid UTF-8.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "api/api.h"
#include "api/cases.h"
#include "api/open311.h"
#include "app.h"
#include "config.h"
#include "core/json_strict.h"
#include "core/user_slots.h"
#include "core/utf8.h"
#include "fuzz_check.h"
#include "db/listen.h"
#include "http/server.h"
#include "http/static.h"
#include "log.h"
#include "stream_hub.h"
#include "token.h"
#include "worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOOP_TURNS_MAX 2000
#define OUTPUT_MAX (4 << 20)

/* One user per role; the tokens are in http.dict so the fuzzer can find them. */
static const struct {
	const char *token;
	Role role;
	const char *department;
} users[] = {
	{"hl_000000000000000000000000000000000000000000000001", ROLE_OPERATOR, ""},
	{"hl_000000000000000000000000000000000000000000000002", ROLE_DEPARTMENT, "urban_mgmt"},
	{"hl_000000000000000000000000000000000000000000000003", ROLE_MANAGER, ""},
	{"hl_000000000000000000000000000000000000000000000004", ROLE_ADMIN, ""},
};

static Config config;
static App app;
static HttpServer *server;
static struct sockaddr_un address; /* the server's socket */
static socklen_t address_len;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* (Again) trust the four tokens: the cache forgets them after token_cache_seconds. */
static void
users_cache(void)
{
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		char hash[TOKEN_HASH_HEX + 3];
		User u = {(int64_t)i + 1, "模糊测试用户", users[i].role, ""};

		snprintf(u.department, sizeof(u.department), "%s", users[i].department);
		token_hash_literal(users[i].token, hash);
		token_cache_put(app.tokens, hash + 2, &u, now_seconds(), token_cache_generation(app.tokens));
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const RouteTable *tables[API_ROUTE_TABLES_MAX];
	DbPoolConfig pc, rc;
	int fd, ntables;

	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	config_defaults(&config);
	/* no server listens there: every connection attempt fails at once */
	snprintf(config.db, sizeof(config.db), "host=/nonexistent/hotline-fuzz port=1 connect_timeout=1");
	config.port = 0; /* bind nothing: connections come in through http_server_accept_fd */
	config.rate_limit = 1000000;
	config.token_cache_seconds = 3600;
	/* as main.c's cmd_serve wires it */
	pc = (DbPoolConfig){"main", config.db, config.timezone, 1, config.queue_max, config.statement_timeout_ms,
			    NULL};
	rc = (DbPoolConfig){"read", config.db, config.timezone, 1, config.queue_max, config.statement_timeout_ms,
			    NULL};
	app.config = &config;
	app.base = event_base_new();
	app.pool = app.base ? db_pool_new(app.base, &pc) : NULL;
	app.reads = app.base ? db_pool_new(app.base, &rc) : NULL;
	app.read_slots = user_slots_new(64, config.read_per_user);
	app.intake_pool = app.base ? db_pool_new(app.base, &pc) : NULL;
	app.intakes = app.intake_pool ? cases_intake_batch_new(app.base, app.intake_pool, &config) : NULL;
	app.tokens = token_cache_new(64, config.token_cache_seconds);
	app.hasher = app.base ? worker_new(app.base, 16) : NULL;
	app.listener = app.base ? db_listener_new(app.base, config.db) : NULL;
	app.streams = app.pool && app.listener ? stream_hub_new(&app) : NULL;
	app.web = static_files_load(config.web_dir);
	ntables = api_route_tables(tables);
	server = app.reads && app.read_slots && app.intakes && app.tokens && app.hasher && app.streams && app.web
			 ? http_server_start(&app, tables, ntables)
			 : NULL;
	FUZZ_ASSERT(server != NULL, "the server started without a network");
	http_server_error_writer(server, OPEN311_PATH_PREFIX, open311_reply_error);
	address.sun_family = AF_UNIX;
	/* abstract namespace: sun_path[0] is NUL, the name follows */
	address_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  (size_t)snprintf(address.sun_path + 1, sizeof(address.sun_path) - 1,
						   "hotline-fuzz-http-%d", (int)getpid()));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	FUZZ_ASSERT(fd >= 0 && evutil_make_socket_nonblocking(fd) == 0 &&
			    bind(fd, (struct sockaddr *)&address, address_len) == 0 && listen(fd, 16) == 0,
		    "the server's Unix socket listens");
	FUZZ_ASSERT(http_server_accept_fd(server, fd), "evhttp accepts on it");
	return 0;
}

/* The value of header name (lower case) in the head [head, end), or NULL; *len its length. */
static const char *
header_value(const char *head, const char *end, const char *name, size_t *len)
{
	size_t n = strlen(name);

	for (const char *line = head; line < end;) {
		const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);

		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > n + 1 && strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;

			while (v < eol && *v == ' ')
				v++;
			*len = (size_t)(eol - v);
			return v;
		}
		line = eol + 2;
	}
	return NULL;
}

/* Every response of out: a status line, a head, and Content-Length bytes of body, none when
 * it answers a HEAD (heads: the input has one; then a body is assumed absent when the next
 * response or the end follows the head). */
static void
check_responses(const char *out, size_t len, bool heads)
{
	const char *p = out, *end = out + len;

	while (p < end) {
		const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4), *v;
		size_t vlen = 0, body_len = 0;
		int status;

		FUZZ_ASSERT(head_end != NULL, "a response head ends with an empty line");
		/* evhttp answers in the request's version as it parsed it: HTTP/1.-727379968 after
		 * an overflowing minor number (libevent's quirk, harmless): only the prefix counts */
		FUZZ_ASSERT(end - p > 12 && memcmp(p, "HTTP/", 5) == 0, "a response starts with a status line");
		p = memchr(p, ' ', (size_t)(head_end - p));
		FUZZ_ASSERT(p != NULL, "a status after the version");
		status = atoi(p + 1);
		FUZZ_ASSERT(status >= 100 && status <= 599, "a 3-digit status");
		v = header_value(p, head_end, "content-length", &vlen);
		if (v)
			body_len = (size_t)strtoul(v, NULL, 10);
		else
			body_len = (size_t)(end - head_end - 4); /* read until the close */
		if (heads && (body_len > (size_t)(end - head_end - 4) ||
			      (end - head_end - 4 >= 5 && memcmp(head_end + 4, "HTTP/", 5) == 0)))
			body_len = 0;
		FUZZ_ASSERT(body_len <= (size_t)(end - head_end - 4), "the body is as long as announced");
		v = header_value(p, head_end, "content-type", &vlen);
		if (v && vlen >= 16 && strncmp(v, "application/json", 16) == 0 && body_len > 0) {
			const char *why = NULL;

			/* any JSON value: Open311's errors are arrays */
			FUZZ_ASSERT(json_strict_check(head_end + 4, body_len, 64, &why) &&
					    utf8_validate(head_end + 4, body_len, NULL),
				    "a JSON body is one strict JSON text of valid UTF-8");
		}
		p = head_end + 4 + body_len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[OUTPUT_MAX];
	size_t got = 0;
	bool closed = false;
	int client;

	users_cache();
	client = socket(AF_UNIX, SOCK_STREAM, 0);
	FUZZ_ASSERT(client >= 0 && connect(client, (struct sockaddr *)&address, address_len) == 0 &&
			    evutil_make_socket_nonblocking(client) == 0,
		    "connected to the server");
	for (size_t sent = 0; sent < size;) {
		ssize_t n = write(client, data + sent, size - sent);

		if (n > 0)
			sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
		event_base_loop(app.base, EVLOOP_NONBLOCK);
	}
	shutdown(client, SHUT_WR);
	for (int turn = 0; turn < LOOP_TURNS_MAX && !closed; turn++) {
		char chunk[65536];
		ssize_t n;

		event_base_loop(app.base, EVLOOP_NONBLOCK);
		while ((n = read(client, chunk, sizeof(chunk))) > 0) {
			size_t keep = (size_t)n < OUTPUT_MAX - got ? (size_t)n : OUTPUT_MAX - got;

			memcpy(out + got, chunk, keep);
			got += keep;
		}
		closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
	}
	FUZZ_ASSERT(closed, "the server closes the connection after the client's end of input");
	close(client);
	if (getenv("FUZZ_HTTP_DUMP")) /* replaying one input: show what the server wrote */
		fwrite(out, 1, got, stderr);
	if (got < OUTPUT_MAX)
		check_responses(out, got, memmem(data, size, "HEAD", 4) != NULL);
	return 0;
}
