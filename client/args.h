/*
 * args: declarative command-line options for the hotline client.
 *
 * Each command lists its options as OptSpec; the parser accepts
 * "--name VALUE", "--name=VALUE", "-x VALUE", flags, positionals in any
 * order, and "--" to end options. Global options (--url, --json ...) are
 * accepted before or after the command name.
 */
#ifndef HOTLINE_CLIENT_ARGS_H
#define HOTLINE_CLIENT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ARGS_MAX_OPTS 32
#define ARGS_MAX_POS 8

typedef struct OptSpec {
	const char *name;	/* long form without "--"; NULL ends a list */
	char letter;		/* short form, 0 when none */
	const char *value;	/* placeholder of its value, NULL for a flag */
	const char *help;
} OptSpec;

typedef struct Args {
	const OptSpec *spec;
	const char *value[ARGS_MAX_OPTS];	/* NULL when absent, "" for a set flag */
	const char *pos[ARGS_MAX_POS];
	int npos;
} Args;

/* Start an empty Args for the options in spec. */
void args_init(Args *a, const OptSpec *spec);

/* Parse argv[0..argc) into a (its options and positionals), sending the
 * options of global (may be NULL) there. With stop_at_positional, stop
 * before the first positional. Returns the number of arguments consumed,
 * or -1 with a message in err. Values point into argv. */
int args_parse(Args *a, Args *global, int argc, char **argv, bool stop_at_positional, char *err,
	       size_t errlen);

/* The value of option name, or NULL when it was not given. */
const char *args_get(const Args *a, const char *name);

/* Whether option (or flag) name was given. */
bool args_has(const Args *a, const char *name);

/* Print the options of spec, one a line, their help in one column. */
void args_print_options(const OptSpec *spec, FILE *out);

#endif
