/*
 * config: a declarative table of settings {name, type, place, min, max, default},
 * so parsing, bounds and the effective-config log line come from one source.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum ConfigType { CF_STRING, CF_INT } ConfigType;

typedef struct ConfigEntry {
	const char *name;
	ConfigType type;
	size_t offset;
	size_t size;      /* CF_STRING: capacity */
	long min, max;    /* CF_INT: bounds; CF_STRING: length bounds */
	const char *default_value;
	bool secret;
} ConfigEntry;

#define STR(field, lo, def, secret) \
	{ #field, CF_STRING, offsetof(Config, field), sizeof(((Config *)0)->field), lo, sizeof(((Config *)0)->field) - 1, def, secret }
#define INT(field, lo, hi, def) \
	{ #field, CF_INT, offsetof(Config, field), 0, lo, hi, def, false }

static const ConfigEntry config_table[] = {
	STR(db, 0, "", true),
	STR(db_read, 0, "", true),
	STR(listen, 1, "127.0.0.1", false),
	INT(port, 1, 65535, "8080"),
	STR(timezone, 1, "Asia/Shanghai", false),
	STR(sql_dir, 1, HOTLINE_SQL_DIR, false),
	STR(web_dir, 1, HOTLINE_WEB_DIR, false),
	INT(pool_size, 1, 64, "16"),
	INT(read_pool_size, 1, 64, "4"),
	INT(read_per_user, 1, 64, "2"),
	INT(queue_max, 1, 100000, "1024"),
	INT(intake_transactions, 1, 64, "4"),
	INT(intake_batch_max, 1, 256, "32"),
	INT(intake_batch_min, 1, 256, "8"),
	INT(intake_linger_us, 0, 100000, "500"),
	INT(max_body, 1024, 16 * 1024 * 1024, "65536"),
	INT(max_headers, 1024, 1024 * 1024, "16384"),
	INT(max_connections, 4, 100000, "1024"),
	INT(timeout, 1, 3600, "10"),
	INT(sweep_interval, 1, 86400, "60"),
	INT(statement_timeout_ms, 10, 600000, "5000"),
	INT(queue_timeout_ms, 10, 600000, "3000"),
	INT(rate_limit, 0, 1000000, "0"),
	INT(token_cache_seconds, 0, 3600, "5"),
	INT(stream_max, 0, 100000, "1000"),
	INT(stream_buffer_max, 4096, 64 * 1024 * 1024, "262144"),
	INT(auth_fail_budget, 0, 1000000, "100"),
	INT(routing_retrain, 0, 1000000, "200"),
	STR(log_level, 1, "info", false),
};
#define CONFIG_COUNT (sizeof(config_table) / sizeof(config_table[0]))

static const ConfigEntry *config_find(const char *key);
static bool config_apply(Config *cfg, const ConfigEntry *e, const char *value, char *err, size_t errlen);
static char *config_trim(char *s);

/*
 *********************************
 * Public functions
 *********************************
 */

void
config_defaults(Config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CONFIG_COUNT; i++) {
		bool ok = config_apply(cfg, &config_table[i], config_table[i].default_value, NULL, 0);
		(void)ok; /* defaults are within their bounds by construction, except db="" */
	}
}

bool
config_set(Config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const ConfigEntry *e = config_find(key);

	if (!e) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return false;
	}
	return config_apply(cfg, e, value, err, errlen);
}

bool
config_load_file(Config *cfg, const char *path, char *err, size_t errlen)
{
	char line[2048];
	int lineno = 0;
	FILE *f = fopen(path, "r");
	bool ok = true;

	if (!f) {
		snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof(line), f)) {
		char *s = config_trim(line), *eq;
		char inner[1536];

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			ok = false;
			break;
		}
		*eq = '\0';
		ok = config_set(cfg, config_trim(s), config_trim(eq + 1), inner, sizeof(inner));
		if (!ok)
			snprintf(err, errlen, "%s:%d: %s", path, lineno, inner);
	}
	fclose(f);
	return ok;
}

bool
config_load_env(Config *cfg, char *const *envp, char *err, size_t errlen)
{
	static const char prefix[] = "HOTLINE_";

	for (; envp && *envp; envp++) {
		const char *var = *envp, *eq = strchr(var, '=');
		char key[64];
		size_t n;

		if (strncmp(var, prefix, sizeof(prefix) - 1) != 0 || !eq)
			continue;
		n = (size_t)(eq - var) - (sizeof(prefix) - 1);
		if (n == 0 || n >= sizeof(key))
			continue;
		for (size_t i = 0; i < n; i++)
			key[i] = (char)tolower((unsigned char)var[sizeof(prefix) - 1 + i]);
		key[n] = '\0';
		/* The client's variables share the prefix; only our own keys count. */
		if (!config_find(key))
			continue;
		if (!config_set(cfg, key, eq + 1, err, errlen))
			return false;
	}
	return true;
}

bool
config_check(const Config *cfg, char *err, size_t errlen)
{
	if (cfg->db[0] == '\0') {
		snprintf(err, errlen, "setting 'db' (a libpq connection string) is required: HOTLINE_DB or --db=...");
		return false;
	}
	if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
	    strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error")) {
		snprintf(err, errlen, "setting 'log_level' must be debug, info, warn or error");
		return false;
	}
	return true;
}

void
config_describe(const Config *cfg, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < CONFIG_COUNT && used < len; i++) {
		const ConfigEntry *e = &config_table[i];
		const char *place = (const char *)cfg + e->offset;
		int n;

		if (e->type == CF_INT)
			n = snprintf(buf + used, len - used, "%s%s=%d", i ? " " : "", e->name, *(const int *)place);
		else
			n = snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", e->name,
				     e->secret ? "(set)" : place);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void
config_usage(FILE *out)
{
	fputs("settings (--KEY=VALUE, HOTLINE_<KEY> in the environment, or KEY = VALUE lines in --config):\n", out);
	for (size_t i = 0; i < CONFIG_COUNT; i++) {
		const ConfigEntry *e = &config_table[i];

		if (e->type == CF_INT)
			fprintf(out, "  %-22s %ld..%ld, default %s\n", e->name, e->min, e->max, e->default_value);
		else if (e->secret)
			fprintf(out, "  %-22s text of at most %ld bytes, secret (never logged)\n", e->name, e->max);
		else
			fprintf(out, "  %-22s text of at most %ld bytes, default \"%s\"\n", e->name, e->max,
				e->default_value);
	}
}

/*
 *********************************
 * Helpers
 *********************************
 */

static const ConfigEntry *
config_find(const char *key)
{
	for (size_t i = 0; i < CONFIG_COUNT; i++)
		if (strcmp(config_table[i].name, key) == 0)
			return &config_table[i];
	return NULL;
}

static bool
config_apply(Config *cfg, const ConfigEntry *e, const char *value, char *err, size_t errlen)
{
	char *place = (char *)cfg + e->offset;

	if (e->type == CF_STRING) {
		size_t n = strlen(value);

		if ((long)n < e->min || n >= e->size) {
			if (err)
				snprintf(err, errlen, "setting '%s' must be %ld to %ld characters", e->name, e->min, e->max);
			return false;
		}
		memcpy(place, value, n + 1);
		return true;
	}

	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0' || v < e->min || v > e->max) {
		if (err)
			snprintf(err, errlen, "setting '%s' must be an integer from %ld to %ld, not '%s'",
				 e->name, e->min, e->max, value);
		return false;
	}
	*(int *)place = (int)v;
	return true;
}

static char *
config_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}
