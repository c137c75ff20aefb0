/*
 * cli: what every hotline command shares: the run context, the command
 * table's shape, exit statuses, and the one way to call the server and
 * print its answer.
 */
#ifndef HOTLINE_CLIENT_CLI_H
#define HOTLINE_CLIENT_CLI_H

#include <event2/buffer.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "args.h"
#include "http_client.h"

/* Exit statuses (docs/CLIENT.md). */
enum {
	HL_OK = 0,
	HL_USAGE = 1,		/* bad command line or missing configuration */
	HL_REFUSED = 2,		/* the server answered 4xx */
	HL_UNREACHABLE = 3,	/* no answer, a TLS failure, or 503 after the retries */
	HL_FAILED = 4,		/* anything else */
};

struct Command;

typedef struct Cli {
	const char *url;
	const char *token;
	const char *ca;		/* CA certificate file for https, or NULL */
	bool json;		/* print the server's document as is */
	double timeout;		/* seconds per request, retries included */
	const struct Command *cmd;	/* the running command */
	bool anonymous;		/* the command calls an endpoint without a token (track) */
	HttpClient *http;	/* made on first use */
} Cli;

typedef struct Command {
	const char *name;	/* "submit", or "rules add" for a group */
	const char *synopsis;	/* what follows the name in the usage line */
	const char *summary;	/* one line of what it does */
	const OptSpec *opts;	/* its own options (may be NULL) */
	int min_pos;		/* positional arguments it takes */
	int max_pos;
	int (*run)(Cli *cli, const Args *a);
} Command;

/* Turns a parsed answer into text on stdout; returns an exit status. */
typedef int (*RenderFn)(json_object *doc);

/* Command tables, each ending with an entry whose name is NULL. */
extern const Command cmd_cases_table[];
extern const Command cmd_import_table[];
extern const Command cmd_admin_table[];
extern const Command cmd_report_table[];
extern const Command cmd_aids_table[];

/* Print "hotline: <message>" and a hint to the command's help on stderr;
 * returns HL_USAGE. */
int cli_usage(const Cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A request with body serialized from json (NULL: no body). GETs are
 * marked replayable. Returns NULL when out of memory. */
HttpRequest *cli_request(enum evhttp_cmd_type method, const char *target, json_object *body);

/* Make cli->http from the configuration, or print what is missing (no
 * URL, no token, a bad URL) and return HL_USAGE. */
int cli_ready(Cli *cli);

/* Send req (made ready by the caller) and wait. Returns HL_OK on a 2xx
 * answer, else prints why on stderr (and with --json the server's error
 * document on stdout) and returns the exit status. */
int cli_send(Cli *cli, HttpRequest *req);

/* Describe a settled request that did not end in 2xx into msg; returns
 * its exit status (HL_OK when it did end in 2xx). */
int cli_failure(const HttpRequest *req, char *msg, size_t len);

/* Parse the JSON answer of req; NULL when it is not JSON. The caller
 * puts the result. */
json_object *cli_parse(const HttpRequest *req);

/* Print the answer of req: as is with --json (render may then be NULL),
 * else through render. */
int cli_output(const Cli *cli, const HttpRequest *req, RenderFn render);

/* Build a request from method/target/body, send it, print it with render.
 * The common path of the simple commands. */
int cli_call(Cli *cli, enum evhttp_cmd_type method, const char *target, json_object *body,
	     RenderFn render);

/* Read the whole of path ("-" is stdin), without a leading byte order
 * mark, into a NUL-terminated buffer the caller frees. NULL with a message
 * on stderr when it cannot. */
char *cli_read_input(const char *path, size_t *len);

/* Parse text as a positive integer id, or print a usage error. */
bool cli_id(const Cli *cli, const char *text, long long *id) __attribute__((warn_unused_result));

/* Parse text as an integer within [min, max] for option name, or print a
 * usage error. */
bool cli_int(const Cli *cli, const char *name, const char *text, long long min, long long max,
	     long long *out) __attribute__((warn_unused_result));

/* Whether value is one of allowed (NULL-terminated), else prints a usage
 * error naming option name and the choices. */
bool cli_one_of(const Cli *cli, const char *name, const char *value, const char *const *allowed) __attribute__((warn_unused_result));

/* Whether text is a YYYY-MM-DD date (else prints a usage error). */
bool cli_date(const Cli *cli, const char *name, const char *text) __attribute__((warn_unused_result));

/* Append "?name=value" or "&name=value" (value URL-encoded) to target;
 * nothing when value is NULL. Returns false when out of memory. */
bool cli_query(struct evbuffer *target, const char *name, const char *value) __attribute__((warn_unused_result));

/* The NUL-terminated text of b, owned by b; append nothing to b after. */
const char *cli_buffer_text(struct evbuffer *b);

/* The value of a required option, or NULL after printing a usage error. */
const char *cli_need(const Cli *cli, const Args *a, const char *name);

/* A malloc'd copy of an option's text; "-" reads standard input instead,
 * without its trailing newlines. NULL after printing why. */
char *cli_text_value(const char *value);
/* "a,b，c、d" as a new JSON array of its words (ASCII or Chinese commas; blanks around
 * words dropped, empty words skipped); the caller puts it. */
json_object *cli_list_value(const char *text);
/* Add key: value to obj when value is given; false when memory ran out. */
bool cli_add_string(json_object *obj, const char *key, const char *value);

#endif
