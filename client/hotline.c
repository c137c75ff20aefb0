/*
 * hotline: the command-line client of the 12345 hotline server.
 *
 * main reads the global options, finds the command in the tables of the
 * cmd_*.c files, parses its options and runs it; the exit status says
 * what happened (docs/CLIENT.md).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_TIMEOUT 30.0

static const Command *find_command(int argc, char **argv, int *words);
static bool is_group(const char *word);
static void print_overview(FILE *out);
static void print_command_help(const Command *cmd, bool globals, FILE *out);
static int help(int argc, char **argv, FILE *out);
static int run_command(const Command *cmd, Args *global, int argc, char **argv);
static bool setup(Cli *cli, const Args *global);

static const OptSpec global_opts[] = {
	{"url", 0, "URL", "server address, https://HOST:PORT (default: $HOTLINE_URL)"},
	{"token", 0, "TOKEN", "API token (default: $HOTLINE_TOKEN)"},
	{"ca", 0, "FILE", "trust the server certificates this CA signed (default: $HOTLINE_CA, "
			  "else the system's CAs)"},
	{"json", 0, NULL, "print the server's JSON answer unchanged, for scripts"},
	{"timeout", 0, "SECONDS", "give up on a request after this long, retries included (30)"},
	{"help", 'h', NULL, "show help"},
	{NULL, 0, NULL, NULL},
};

static const Command *const tables[] = {
	cmd_cases_table,
	cmd_import_table,
	cmd_report_table,
	cmd_admin_table,
	cmd_aids_table,
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

int
main(int argc, char **argv)
{
	Args global;
	char err[256];
	const Command *cmd;
	int n, words = 0;

	/* A server that hangs up mid-request must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	args_init(&global, global_opts);
	n = args_parse(&global, NULL, argc - 1, argv + 1, true, err, sizeof(err));
	if (n < 0)
		return cli_usage(NULL, "%s", err);
	argc -= n + 1;
	argv += n + 1;
	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		if (argc == 0 && !args_has(&global, "help")) {
			print_overview(stderr);
			return HL_USAGE;
		}
		return help(argc == 0 ? 0 : argc - 1, argv + 1, stdout);
	}
	cmd = find_command(argc, argv, &words);
	if (cmd == NULL && is_group(argv[0])) {
		if (args_has(&global, "help") ||
		    (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)))
			return help(1, argv, stdout);
		fprintf(stderr, "hotline: '%s' needs one of these subcommands:\n\n", argv[0]);
		help(1, argv, stderr);
		return HL_USAGE;
	}
	if (cmd == NULL)
		return cli_usage(NULL, "unknown command '%s'", argv[0]);
	return run_command(cmd, &global, argc - words, argv + words);
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* The command named by argv[0] (or argv[0] argv[1] for a group), and how
 * many words its name took. */
static const Command *
find_command(int argc, char **argv, int *words)
{
	for (size_t t = 0; t < NTABLES; t++) {
		for (const Command *c = tables[t]; c->name; c++) {
			const char *space = strchr(c->name, ' ');
			size_t len = space ? (size_t)(space - c->name) : strlen(c->name);

			if (strlen(argv[0]) != len || strncmp(argv[0], c->name, len) != 0)
				continue;
			if (space == NULL) {
				*words = 1;
				return c;
			}
			if (argc > 1 && strcmp(argv[1], space + 1) == 0) {
				*words = 2;
				return c;
			}
		}
	}
	return NULL;
}

static bool
is_group(const char *word)
{
	size_t len = strlen(word);

	for (size_t t = 0; t < NTABLES; t++) {
		for (const Command *c = tables[t]; c->name; c++) {
			if (strncmp(c->name, word, len) == 0 && c->name[len] == ' ')
				return true;
		}
	}
	return false;
}

static void
print_overview(FILE *out)
{
	fputs("usage: hotline [--url URL] [--token TOKEN] [--ca FILE] [--json] [--timeout SECONDS] "
	      "COMMAND [ARGS]\n\n"
	      "The command-line client of the 12345 hotline server.\n\ncommands:\n",
	      out);
	for (size_t t = 0; t < NTABLES; t++) {
		for (const Command *c = tables[t]; c->name; c++)
			fprintf(out, "  %-18s %s\n", c->name, c->summary);
	}
	fputs("\nglobal options (before or after the command):\n", out);
	args_print_options(global_opts, out);
	fputs("\n'hotline help COMMAND' (or 'hotline COMMAND --help') tells more.\n"
	      "Exit status: 0 done, 1 usage error, 2 the server refused, "
	      "3 the server could not be reached, 4 anything else.\n",
	      out);
}

static void
print_command_help(const Command *cmd, bool globals, FILE *out)
{
	fprintf(out, "usage: hotline %s%s%s\n\n%s\n", cmd->name, cmd->synopsis[0] ? " " : "",
		cmd->synopsis, cmd->summary);
	if (cmd->opts && cmd->opts[0].name) {
		fputs("\noptions:\n", out);
		args_print_options(cmd->opts, out);
	}
	if (globals) {
		fputs("\nglobal options:\n", out);
		args_print_options(global_opts, out);
	}
}

/* "hotline help [COMMAND [SUBCOMMAND]]": a group name shows all of its
 * commands. */
static int
help(int argc, char **argv, FILE *out)
{
	int words, shown = 0;
	const Command *cmd;

	if (argc == 0) {
		print_overview(out);
		return HL_OK;
	}
	cmd = find_command(argc, argv, &words);
	if (cmd) {
		print_command_help(cmd, true, out);
		return HL_OK;
	}
	for (size_t t = 0; t < NTABLES; t++) {
		for (const Command *c = tables[t]; c->name; c++) {
			size_t len = strlen(argv[0]);

			if (strncmp(c->name, argv[0], len) == 0 && c->name[len] == ' ') {
				fprintf(out, "%s", shown++ ? "\n" : "");
				print_command_help(c, false, out);
			}
		}
	}
	if (shown == 0)
		return cli_usage(NULL, "no command '%s'", argv[0]);
	fputs("\nglobal options:\n", out);
	args_print_options(global_opts, out);
	return HL_OK;
}

static int
run_command(const Command *cmd, Args *global, int argc, char **argv)
{
	Cli cli = {.cmd = cmd};
	Args a;
	char err[256];
	int rc;

	args_init(&a, cmd->opts);
	if (args_parse(&a, global, argc, argv, false, err, sizeof(err)) < 0)
		return cli_usage(&cli, "%s", err);
	if (args_has(global, "help")) {
		print_command_help(cmd, true, stdout);
		return HL_OK;
	}
	if (a.npos < cmd->min_pos)
		return cli_usage(&cli, "%s: missing arguments (usage: hotline %s %s)", cmd->name,
				 cmd->name, cmd->synopsis);
	if (a.npos > cmd->max_pos)
		return cli_usage(&cli, "%s: unexpected argument '%s'", cmd->name,
				 a.pos[cmd->max_pos]);
	if (!setup(&cli, global))
		return HL_USAGE;
	rc = cmd->run(&cli, &a);
	http_client_free(cli.http);
	fflush(stdout);
	return rc;
}

/* Fill the global settings from the options and the environment. */
static bool
setup(Cli *cli, const Args *global)
{
	const char *timeout = args_get(global, "timeout");
	char *end;

	cli->url = args_has(global, "url") ? args_get(global, "url") : getenv("HOTLINE_URL");
	cli->token = args_has(global, "token") ? args_get(global, "token") : getenv("HOTLINE_TOKEN");
	cli->ca = args_has(global, "ca") ? args_get(global, "ca") : getenv("HOTLINE_CA");
	cli->json = args_has(global, "json");
	cli->timeout = DEFAULT_TIMEOUT;
	if (timeout) {
		cli->timeout = strtod(timeout, &end);
		if (*end != '\0' || !(cli->timeout > 0 && cli->timeout <= 3600)) {
			cli_usage(cli, "--timeout must be a number of seconds from 0 to 3600, not '%s'",
				  timeout);
			return false;
		}
	}
	return true;
}
