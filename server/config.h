/*
 * config: the server's settings, from a file (--config), the environment (HOTLINE_<KEY>)
 * and flags (--key=value), in rising precedence, each checked against its bounds.
 */
#ifndef HOTLINE_CONFIG_H
#define HOTLINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct Config {
	char db[1024];            /* libpq conninfo (secret: never logged whole) */
	char db_read[1024];       /* conninfo of a replica for the slow-read lane; "" = db (secret) */
	char listen[64];
	int port;
	char timezone[64];
	char sql_dir[1024];
	char web_dir[1024];       /* the console's files (web/), served at /app/ */
	int pool_size;
	int read_pool_size;       /* connections of the slow-read lane (searches, reports) */
	int read_per_user;        /* slow reads of one user at once (429 beyond) */
	int queue_max;
	int intake_transactions;  /* POST /v1/cases transactions running at once (db/batch) */
	int intake_batch_max;     /* cases in one of them at most; 1 = one case per transaction */
	int intake_batch_min;     /* creates that must wait before a transaction starts beside others */
	int intake_linger_us;     /* with none running, how long a create waits for others to join it */
	int max_body;             /* bytes */
	int max_headers;          /* bytes */
	int max_connections;
	int timeout;              /* seconds: read/write inactivity per connection */
	int sweep_interval;       /* seconds */
	int statement_timeout_ms;
	int queue_timeout_ms;     /* a query or create waiting longer for the database is answered 503 */
	int rate_limit;           /* requests per second per user, 0 = no limit */
	int token_cache_seconds;  /* how long an authenticated token is trusted without a query, 0 = never */
	int stream_max;           /* GET /v1/stream answers open at once (503 beyond) */
	int stream_buffer_max;    /* bytes a stream may have unsent before it is dropped */
	int auth_fail_budget;     /* unknown-token lookups per client address a minute (burst the same), 0 = no limit */
	int routing_retrain;      /* history events (signs, returns, visits) after which a server retrains
	                           * the routing model by itself; 0 = only on POST /v1/routing/model/train */
	char log_level[16];
} Config;

/* Fill cfg with the defaults. */
void config_defaults(Config *cfg);

/*
 * Apply one "key" = "value" setting; origin names where it came from for the error.
 * Returns false and writes a message into err (size errlen) when the key is unknown or
 * the value is out of bounds.
 */
bool config_set(Config *cfg, const char *key, const char *value, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Apply a file of "key = value" lines ('#' comments, blank lines). */
bool config_load_file(Config *cfg, const char *path, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Apply HOTLINE_<KEY> variables from envp (NULL-terminated "NAME=value" strings). */
bool config_load_env(Config *cfg, char *const *envp, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Check what no single setting can: required keys present. */
bool config_check(const Config *cfg, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Write the effective configuration into buf as one line, secrets masked. */
void config_describe(const Config *cfg, char *buf, size_t len);

/* Write the settings section of the usage text to out: every setting of the table with its
 * bounds and default, so the usage never misses one. */
void config_usage(FILE *out);

#endif
