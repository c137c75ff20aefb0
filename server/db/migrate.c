/* db/migrate: list, apply and check numbered migrations. */
#include "db/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define MIGRATE_MAX_FILES 1000
/* Serialises concurrent `migrate` runs against one database (any constant will do). */
#define MIGRATE_LOCK_KEY "4711012345"

typedef struct Migration {
	int version;
	char name[256];
} Migration;

static int migrate_list(const char *sql_dir, Migration *out, int max);
static bool migrate_exec(PGconn *pg, const char *sql, const char *what);
static char *migrate_read_file(const char *path);
static int migrate_db_version(PGconn *pg);

bool
migrate_apply(const char *conninfo, const char *sql_dir)
{
	static Migration files[MIGRATE_MAX_FILES];
	PGconn *pg = PQconnectdb(conninfo);
	int n, current, applied = 0;
	bool ok = false;

	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "migrate: cannot connect: %s", PQerrorMessage(pg));
		goto done;
	}
	n = migrate_list(sql_dir, files, MIGRATE_MAX_FILES);
	if (n < 0)
		goto done;
	if (!migrate_exec(pg, "SET client_min_messages = warning; "
			      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
			      "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); "
			      "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "prepare"))
		goto done;
	current = migrate_db_version(pg);
	for (int i = 0; i < n; i++) {
		char path[1400], record[400];
		char *sql;

		if (files[i].version <= current)
			continue;
		snprintf(path, sizeof(path), "%s/%s", sql_dir, files[i].name);
		sql = migrate_read_file(path);
		if (!sql)
			goto done;
		snprintf(record, sizeof(record), "INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')",
			 files[i].version, files[i].name); /* name matched [0-9a-z_.] in migrate_list */
		ok = migrate_exec(pg, "BEGIN", "begin") && migrate_exec(pg, sql, files[i].name) &&
		     migrate_exec(pg, record, "record") && migrate_exec(pg, "COMMIT", "commit");
		free(sql);
		if (!ok) {
			migrate_exec(pg, "ROLLBACK", "rollback");
			goto done;
		}
		fprintf(stderr, "migrate: applied %s\n", files[i].name);
		applied++;
	}
	fprintf(stderr, "migrate: %d applied, schema version %d\n", applied, n ? files[n - 1].version : 0);
	ok = true;
done:
	PQfinish(pg);
	return ok;
}

MigrateState
migrate_check(const char *conninfo, const char *sql_dir, int *db_version, int *known_version)
{
	static Migration files[MIGRATE_MAX_FILES];
	PGconn *pg = PQconnectdb(conninfo);
	MigrateState st = MIGRATE_UNREACHABLE;
	int n;

	*db_version = *known_version = 0;
	n = migrate_list(sql_dir, files, MIGRATE_MAX_FILES);
	if (n > 0)
		*known_version = files[n - 1].version;
	if (PQstatus(pg) == CONNECTION_OK && n >= 0) {
		*db_version = migrate_db_version(pg);
		st = *db_version > *known_version ? MIGRATE_AHEAD
		     : *db_version < *known_version ? MIGRATE_BEHIND : MIGRATE_CURRENT;
	}
	PQfinish(pg);
	return st;
}

static int
migrate_cmp(const void *a, const void *b)
{
	return ((const Migration *)a)->version - ((const Migration *)b)->version;
}

/* Files named NNN_lowercase_name.sql, sorted by number; -1 on error (duplicate numbers too). */
static int
migrate_list(const char *sql_dir, Migration *out, int max)
{
	DIR *d = opendir(sql_dir);
	struct dirent *e;
	int n = 0;

	if (!d) {
		fprintf(stderr, "migrate: cannot open %s: %s\n", sql_dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		bool ok = len > 8 && len < sizeof(out[0].name) && strcmp(e->d_name + len - 4, ".sql") == 0 &&
			  e->d_name[3] == '_';

		for (size_t i = 0; ok && i < len; i++)
			ok = strchr("0123456789abcdefghijklmnopqrstuvwxyz_.", e->d_name[i]) != NULL;
		if (!ok || sscanf(e->d_name, "%3d", &out[n].version) != 1)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", e->d_name);
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof(Migration), migrate_cmp);
	for (int i = 1; i < n; i++) {
		if (out[i].version == out[i - 1].version) {
			fprintf(stderr, "migrate: two migrations numbered %03d\n", out[i].version);
			return -1;
		}
	}
	return n;
}

static bool
migrate_exec(PGconn *pg, const char *sql, const char *what)
{
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "migrate: %s failed: %s", what, PQerrorMessage(pg));
	PQclear(res);
	return ok;
}

static int
migrate_db_version(PGconn *pg)
{
	PGresult *res = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	int v = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		v = atoi(PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) == PGRES_FATAL_ERROR)
		v = 0; /* no schema_migrations table yet: an empty database */
	PQclear(res);
	return v;
}

static char *
migrate_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f) {
		fprintf(stderr, "migrate: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1))) {
		if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		} else {
			buf[size] = '\0';
		}
	}
	fclose(f);
	if (!buf)
		fprintf(stderr, "migrate: cannot read %s\n", path);
	return buf;
}
