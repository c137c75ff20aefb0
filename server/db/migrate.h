/*
 * db/migrate: numbered SQL migrations (sql/NNN_name.sql), each applied once in its own
 * transaction and recorded in schema_migrations. Blocking libpq: used only by the
 * command-line subcommands and the start-up check, never inside the event loop.
 */
#ifndef HOTLINE_DB_MIGRATE_H
#define HOTLINE_DB_MIGRATE_H

#include <stdbool.h>

/* Apply every migration of sql_dir not yet applied, in order. Prints progress to stderr. */
bool migrate_apply(const char *conninfo, const char *sql_dir) __attribute__((warn_unused_result));

typedef enum MigrateState {
	MIGRATE_CURRENT,     /* the database has exactly the migrations we know */
	MIGRATE_BEHIND,      /* some of ours are not applied: run `migrate` */
	MIGRATE_AHEAD,       /* the database has migrations newer than this server knows */
	MIGRATE_UNREACHABLE  /* could not ask */
} MigrateState;

/* Compare the database's schema version with the newest migration in sql_dir. */
MigrateState migrate_check(const char *conninfo, const char *sql_dir, int *db_version, int *known_version);

#endif
