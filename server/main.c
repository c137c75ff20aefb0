/*
 * hotline-server: wires configuration -> log -> database pool -> HTTP -> API routes,
 * and the subcommands migrate and create-admin. Only main() exits the process.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "api/api.h"
#include "api/cases.h"
#include "api/open311.h"
#include "app.h"
#include "config.h"
#include "core/user.h"
#include "core/user_input.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "http/server.h"
#include "http/static.h"
#include "janitor.h"
#include "log.h"
#include "passwd.h"
#include "routing_model.h"
#include "routing_state.h"
#include "sla_state.h"
#include "stream_hub.h"
#include "sweeper.h"
#include "token.h"

extern char **environ;

/* Password checks that may wait for the worker thread before new ones get 503. */
#define HASH_QUEUE_MAX 256
/* Users with a slow read in flight at once, at most (beyond: 429 as over read_per_user). */
#define USER_SLOTS_HOLDERS 256

typedef struct Server {
	App app;
	HttpServer *http;
	struct event *sigterm, *sigint, *drain_timer;
	int exit_code;
} Server;

static const char usage[] =
	"usage: hotline-server [--config FILE] [--KEY=VALUE ...] [serve | migrate | create-admin NAME | version]\n"
	"  serve              run the HTTP server (default)\n"
	"  migrate            apply the migrations of sql_dir that the database lacks\n"
	"  create-admin NAME [LOGIN]  create an admin user and print its token; with LOGIN,\n"
	"                     also a login whose password is the first line of stdin\n"
	"  version            print the version\n";

/* The commands, then every setting of the config table (config_usage). */
static void
print_usage(FILE *out)
{
	fputs(usage, out);
	config_usage(out);
}

/* Parse flags and the command; returns the index of the command in argv, or -1. */
static int
parse_args(int argc, char **argv, Config *cfg)
{
	char err[512];
	int i;

	config_defaults(cfg);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			if (!config_load_file(cfg, argv[++i], err, sizeof(err)))
				goto fail;
		} else if (strncmp(argv[i], "--", 2) != 0) {
			break;
		}
	}
	if (!config_load_env(cfg, environ, err, sizeof(err)))
		goto fail;
	for (int j = 1; j < i; j++) {
		char key[64], *eq;

		if (strcmp(argv[j], "--config") == 0) {
			j++;
			continue;
		}
		if (strcmp(argv[j], "--help") == 0) {
			print_usage(stdout);
			exit(0);
		}
		eq = strchr(argv[j], '=');
		if (!eq || (size_t)(eq - argv[j] - 2) >= sizeof(key)) {
			snprintf(err, sizeof(err), "expected --key=value, got '%s'", argv[j]);
			goto fail;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[j] - 2), argv[j] + 2);
		if (!config_set(cfg, key, eq + 1, err, sizeof(err)))
			goto fail;
	}
	return i;
fail:
	fprintf(stderr, "hotline-server: %s\n", err);
	return -1;
}

/* The password of create-admin NAME LOGIN: the first line of stdin, without its newline. */
static bool
read_password_line(char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, (int)len, stdin))
		return false;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return true;
}

/* Validate name, login and password as POST /v1/users does; the password is hashed into hash. */
static bool
create_admin_credentials(const char *name, const char *login, const char *password, char hash[PASSWD_HASH_MAX])
{
	json_object *body = json_object_new_object();
	UserInput in;
	ApiError err;
	bool ok;

	json_object_object_add(body, "name", json_object_new_string(name));
	json_object_object_add(body, "role", json_object_new_string("admin"));
	if (login) {
		json_object_object_add(body, "login", json_object_new_string(login));
		json_object_object_add(body, "password", json_object_new_string(password));
	}
	ok = user_input_parse(body, &in, &err);
	json_object_put(body);
	if (!ok) {
		fprintf(stderr, "hotline-server: %s\n", err.message);
		return false;
	}
	hash[0] = '\0';
	if (login && !passwd_hash(password, hash)) {
		fprintf(stderr, "hotline-server: cannot hash the password\n");
		return false;
	}
	return true;
}

/* create-admin NAME [LOGIN]: an admin and its API token; with LOGIN, also a login whose
 * password is read from the first line of stdin. */
static int
cmd_create_admin(const Config *cfg, const char *name, const char *login)
{
	char token[TOKEN_LEN + 1], hash[TOKEN_HASH_HEX + 3], password[256] = "", pw_hash[PASSWD_HASH_MAX];
	const char *params[] = {name, hash, login, pw_hash};
	PGconn *pg = NULL;
	PGresult *res = NULL;
	int rc = 1;

	if (login && !read_password_line(password, sizeof(password))) {
		fprintf(stderr, "hotline-server: create-admin NAME LOGIN reads the password from stdin\n");
		goto done;
	}
	if (!create_admin_credentials(name, login, password, pw_hash)) {
		rc = 2;
		goto done;
	}
	if (!login)
		params[3] = NULL;
	pg = PQconnectdb(cfg->db);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "hotline-server: cannot connect: %s", PQerrorMessage(pg));
		goto done;
	}
	if (!token_generate(token)) {
		fprintf(stderr, "hotline-server: no randomness available\n");
		goto done;
	}
	token_hash_literal(token, hash);
	res = PQexecParams(pg,
			   "WITH u AS (INSERT INTO users (name, role, login, password_hash) "
			   "  VALUES ($1, 'admin', $3, $4) RETURNING id) "
			   "INSERT INTO tokens (hash, user_id) SELECT $2::bytea, id FROM u",
			   4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "hotline-server: create-admin failed: %s", PQerrorMessage(pg));
		goto done;
	}
	printf("%s\n", token);
	rc = 0;
done:
	explicit_bzero(password, sizeof(password));
	PQclear(res);
	PQfinish(pg);
	return rc;
}

static void
drain_done_cb(void *arg)
{
	Server *s = arg;

	log_info("all requests answered; exiting");
	event_base_loopexit(s->app.base, NULL);
}

static void
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	Server *s = arg;

	(void)fd;
	(void)what;
	log_warn("drain timed out; exiting with requests unanswered");
	event_base_loopexit(s->app.base, NULL);
}

/* SIGTERM/SIGINT: stop accepting, answer what is in flight, then leave the loop. */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	Server *s = arg;
	struct timeval tv = {s->app.config->timeout, 0};

	(void)what;
	if (s->drain_timer)
		return;
	log_info("signal %d: draining", (int)sig);
	s->drain_timer = evtimer_new(s->app.base, drain_timeout_cb, s);
	if (s->drain_timer)
		evtimer_add(s->drain_timer, &tv);
	stream_hub_close_all(s->app.streams);
	http_server_drain(s->http, drain_done_cb, s);
}

/* Shutting down already: a second SIGTERM during cleanup must not turn exit 0 into a kill.
 * Blocking (not ignoring) holds even after event_free restores the default handlers. */
static void
block_stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Allow as many descriptors as the hard limit: each client connection needs one. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open-file limit");
	}
}

static bool
schema_ok(const Config *cfg)
{
	int have, know;

	switch (migrate_check(cfg->db, cfg->sql_dir, &have, &know)) {
	case MIGRATE_AHEAD:
		log_error("the database schema (version %d) is newer than this server knows (%d): "
			  "upgrade hotline-server", have, know);
		return false;
	case MIGRATE_BEHIND:
		log_error("the database schema (version %d) is older than this server (%d): "
			  "run `hotline-server migrate` first", have, know);
		return false;
	case MIGRATE_UNREACHABLE:
		log_warn("database unreachable at start; serving 503 until it answers");
		return true;
	default:
		return true;
	}
}

/* The loop's base with precise timers: by default libevent 2.1 reads a coarse clock (a tick of
 * a few ms) and waits in whole ms, so the intake's 500 us linger (db/batch) lasted 3-4 ms at
 * low load (p90 at 300 cases/s 3.6 -> 6.6 ms); precise timers use CLOCK_MONOTONIC and a
 * timerfd. With epoll's change list: evhttp turns a connection's reading off and its writing
 * on for every request and back for its answer, an epoll_ctl each (5.5% of the server's CPU
 * under intake, bench/RESULTS.md session 10); the list makes of the changes to one fd in one
 * loop turn a single call, or none. The flag is unsafe only for fds made by dup(), which the
 * server never watches. */
static struct event_base *
event_base_precise(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (!ec)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER | EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static int
cmd_serve(const Config *cfg)
{
	static const RouteTable *tables[API_ROUTE_TABLES_MAX];
	Server s = {0};
	DbPoolConfig pc = {"main", cfg->db, cfg->timezone, cfg->pool_size, cfg->queue_max, cfg->statement_timeout_ms,
			   NULL};
	/* the slow-read lane reads from the db_read replica when there is one */
	DbPoolConfig rc = {"read", cfg->db_read[0] ? cfg->db_read : cfg->db, cfg->timezone,
			   cfg->read_pool_size, cfg->queue_max, cfg->statement_timeout_ms, NULL};
	/* the intake's own connections: a create never waits behind other queries for one, and the
	 * batch statement (api/intake_batch.sql) runs the generic plan each session prepares once
	 * (left to choose, PostgreSQL planned it anew for every batch, ~2 ms) */
	DbPoolConfig ic = {"intake", cfg->db, cfg->timezone, cfg->intake_transactions, cfg->queue_max,
			   cfg->statement_timeout_ms, "plan_cache_mode=force_generic_plan"};
	char described[2048];
	int ntables = 0;

	config_describe(cfg, described, sizeof(described));
	log_info("starting: %s", described);
	if (!schema_ok(cfg))
		return 1;
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	s.app.config = cfg;
	s.app.base = event_base_precise();
	s.app.pool = s.app.base ? db_pool_new(s.app.base, &pc) : NULL;
	s.app.reads = s.app.base ? db_pool_new(s.app.base, &rc) : NULL;
	s.app.read_slots = user_slots_new(USER_SLOTS_HOLDERS, cfg->read_per_user);
	s.app.intake_pool = s.app.base ? db_pool_new(s.app.base, &ic) : NULL;
	s.app.intakes = s.app.intake_pool ? cases_intake_batch_new(s.app.base, s.app.intake_pool, cfg) : NULL;
	s.app.tokens = token_cache_new(1024, cfg->token_cache_seconds);
	s.app.hasher = s.app.base ? worker_new(s.app.base, HASH_QUEUE_MAX) : NULL;
	s.app.listener = s.app.base ? db_listener_new(s.app.base, cfg->db) : NULL;
	s.app.streams = s.app.pool && s.app.listener ? stream_hub_new(&s.app) : NULL;
	s.app.web = static_files_load(cfg->web_dir);
	ntables = api_route_tables(tables);
	/* Before listening: a client may send SIGTERM as soon as the port answers, and until the
	 * events are added it would kill the process instead of draining it. The callback runs only
	 * inside the loop below, once everything has started. */
	s.sigterm = s.app.base ? evsignal_new(s.app.base, SIGTERM, signal_cb, &s) : NULL;
	s.sigint = s.app.base ? evsignal_new(s.app.base, SIGINT, signal_cb, &s) : NULL;
	if (!s.sigterm || !s.sigint || evsignal_add(s.sigterm, NULL) != 0 ||
	    evsignal_add(s.sigint, NULL) != 0) {
		s.exit_code = 1;
		goto done;
	}
	s.http = s.app.pool && s.app.reads && s.app.read_slots && s.app.intakes && s.app.tokens &&
		 s.app.hasher && s.app.streams && s.app.web
			 ? http_server_start(&s.app, tables, ntables) : NULL;
	if (s.http)
		http_server_error_writer(s.http, OPEN311_PATH_PREFIX, open311_reply_error);
	if (!s.http || !routing_state_start(&s.app) || !routing_model_start(&s.app) ||
	    !sla_state_start(&s.app) || !sweeper_start(&s.app) ||
	    !janitor_start(&s.app)) {
		s.exit_code = 1;
		goto done;
	}
	event_base_dispatch(s.app.base);
	block_stop_signals();
done:
	janitor_stop();
	sweeper_stop();
	sla_state_stop();
	routing_model_stop();
	routing_state_stop();
	if (s.sigterm)
		event_free(s.sigterm);
	if (s.sigint)
		event_free(s.sigint);
	if (s.drain_timer)
		event_free(s.drain_timer);
	if (s.app.streams)
		stream_hub_close_all(s.app.streams);
	http_server_free(s.http);
	stream_hub_free(s.app.streams);
	db_listener_free(s.app.listener); /* after the reloaders and the hub stopped */
	static_files_free(s.app.web);
	db_batch_free(s.app.intakes);
	db_pool_free(s.app.intake_pool);
	db_pool_free(s.app.pool);
	db_pool_free(s.app.reads);
	user_slots_free(s.app.read_slots);
	token_cache_free(s.app.tokens);
	worker_free(s.app.hasher);
	if (s.app.base)
		event_base_free(s.app.base);
	return s.exit_code;
}

int
main(int argc, char **argv)
{
	static Config cfg;
	char err[512];
	int cmd = parse_args(argc, argv, &cfg);
	const char *name = cmd >= 0 && cmd < argc ? argv[cmd] : "serve";

	if (cmd < 0)
		return 2;
	if (strcmp(name, "version") == 0) {
		puts("hotline-server 0.1");
		return 0;
	}
	if (strcmp(name, "help") == 0) {
		print_usage(stdout);
		return 0;
	}
	if (!config_check(&cfg, err, sizeof(err))) {
		fprintf(stderr, "hotline-server: %s\n", err);
		return 2;
	}
	log_set_level(strcmp(cfg.log_level, "debug") == 0 ? LOG_DEBUG
		      : strcmp(cfg.log_level, "warn") == 0  ? LOG_WARN
		      : strcmp(cfg.log_level, "error") == 0 ? LOG_ERROR : LOG_INFO);
	/* Working-day arithmetic in the core uses local time: make local time the configured zone. */
	setenv("TZ", cfg.timezone, 1);
	tzset();
	if (strcmp(name, "migrate") == 0)
		return migrate_apply(cfg.db, cfg.sql_dir) ? 0 : 1;
	if (strcmp(name, "create-admin") == 0) {
		if (cmd + 1 >= argc) {
			fprintf(stderr, "hotline-server: create-admin needs a NAME\n");
			return 2;
		}
		return cmd_create_admin(&cfg, argv[cmd + 1], cmd + 2 < argc ? argv[cmd + 2] : NULL);
	}
	if (strcmp(name, "serve") == 0)
		return cmd_serve(&cfg);
	fprintf(stderr, "hotline-server: unknown command '%s'\n", name);
	print_usage(stderr);
	return 2;
}
