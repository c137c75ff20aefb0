/*
 * cmd_import: create many cases from a JSON Lines file, several requests
 * in flight on one event loop, safe to run again.
 *
 * Each line gets the Idempotency-Key "import-<h>-<n>": h is the first 32
 * hex digits of the SHA-256 of the line's bytes, n counts the lines with
 * those same bytes so far (1 for the first). Running the same file again,
 * or the file with bad lines fixed or removed, or with lines added, sends
 * the same keys for the lines already imported, and the server answers
 * them with the cases it made the first time: nothing is created twice.
 * (A key from the whole file's hash would change when one line is fixed.)
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/sha256.h"

#define DEFAULT_PARALLEL 8
#define DRAW_INTERVAL 0.1	/* seconds between progress redraws */
#define BAR_WIDTH 30

typedef struct Line {
	size_t number;		/* 1-based, in the file */
	const char *text;	/* into the file's buffer, not NUL-terminated */
	size_t len;
	char hash[65];
	char key[80];
} Line;

typedef struct Import {
	Cli *cli;
	Line *lines;
	size_t nlines;
	size_t next;		/* the next line to send */
	size_t imported, present, refused, failed;
	bool unreachable;	/* stop: the server cannot be reached */
	json_object *errors;	/* [{"line", "message"}] for --json */
	bool tty;		/* draw progress on stderr */
	double started, drawn;
} Import;

static int run_import(Cli *cli, const Args *a);
static bool split_lines(char *data, size_t len, Line **lines, size_t *n);
static bool blank(const char *s, size_t len);
static bool assign_keys(Line *lines, size_t n);
static int by_hash(const void *a, const void *b);
static HttpRequest *feed_line(void *arg);
static bool bad_json(const Line *line, char *why, size_t len);
static bool line_done(void *arg, HttpRequest *req);
static void line_error(Import *im, const Line *line, const char *msg);
static void draw_progress(Import *im, bool force);
static void print_summary(const Import *im);

static const OptSpec import_opts[] = {
	{"parallel", 0, "N", "requests in flight at once, 1 to 64 (8)"},
	{NULL, 0, NULL, NULL},
};

const Command cmd_import_table[] = {
	{"import", "FILE.jsonl|-", "create one case per line; running it again creates nothing new",
	 import_opts, 1, 1, run_import},
	{NULL, NULL, NULL, NULL, 0, 0, NULL},
};

/*
 *********************************
 * Commands
 *********************************
 */

static int
run_import(Cli *cli, const Args *a)
{
	const char *parallel = args_get(a, "parallel");
	long long n = DEFAULT_PARALLEL;
	Import im = {.cli = cli, .tty = isatty(STDERR_FILENO) == 1};
	size_t len;
	char *data;
	int rc;

	if (parallel && !cli_int(cli, "--parallel", parallel, 1, 64, &n))
		return HL_USAGE;
	data = cli_read_input(a->pos[0], &len);
	if (data == NULL)
		return HL_USAGE;
	if (!split_lines(data, len, &im.lines, &im.nlines) || !assign_keys(im.lines, im.nlines)) {
		free(im.lines);
		free(data);
		fputs("hotline: out of memory\n", stderr);
		return HL_FAILED;
	}
	im.errors = json_object_new_array();
	im.started = http_clock();
	/* Configuration errors (no URL, no token) surface before any line. */
	rc = cli_ready(cli);
	if (rc == HL_OK)
		http_client_run(cli->http, (unsigned)n, feed_line, line_done, &im);
	if (rc == HL_OK) {
		draw_progress(&im, true);
		if (im.tty)
			fputs("\r\033[K", stderr);
		print_summary(&im);
		rc = im.unreachable ? HL_UNREACHABLE
		     : im.refused   ? HL_REFUSED
		     : im.failed    ? HL_FAILED
				    : HL_OK;
	}
	json_object_put(im.errors);
	free(im.lines);
	free(data);
	return rc;
}

/*
 *********************************
 * Helpers
 *********************************
 */

/* The non-blank lines of data, numbered as in the file, without their
 * line ends. */
static bool
split_lines(char *data, size_t len, Line **lines, size_t *n)
{
	size_t cap = 0, number = 0;
	Line *out = NULL;

	*n = 0;
	for (size_t start = 0; start < len;) {
		const char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t stop = end;

		number++;
		while (stop > start && data[stop - 1] == '\r')
			stop--;
		if (!blank(data + start, stop - start)) {
			if (*n == cap) {
				Line *bigger = realloc(out, (cap = cap ? cap * 2 : 256) * sizeof(Line));

				if (bigger == NULL) {
					free(out);
					return false;
				}
				out = bigger;
			}
			out[*n] = (Line){.number = number, .text = data + start, .len = stop - start};
			(*n)++;
		}
		start = end + 1;
	}
	*lines = out;
	return true;
}

static bool
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	}
	return true;
}

/* Give each line its key (see the top of this file): hash every line,
 * then count equal hashes in file order. */
static bool
assign_keys(Line *lines, size_t n)
{
	Line **order = malloc((n ? n : 1) * sizeof(Line *));
	size_t seen = 0;

	if (order == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		sha256_hex(lines[i].text, lines[i].len, lines[i].hash);
		order[i] = &lines[i];
	}
	qsort(order, n, sizeof(Line *), by_hash);
	for (size_t i = 0; i < n; i++) {
		seen = i > 0 && strcmp(order[i]->hash, order[i - 1]->hash) == 0 ? seen + 1 : 1;
		snprintf(order[i]->key, sizeof(order[i]->key), "import-%.32s-%zu", order[i]->hash,
			 seen);
	}
	free(order);
	return true;
}

/* Hash, then position in the file: equal lines are numbered in file order. */
static int
by_hash(const void *a, const void *b)
{
	const Line *x = *(const Line *const *)a, *y = *(const Line *const *)b;
	int c = strcmp(x->hash, y->hash);

	if (c != 0)
		return c;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* The next line that is a JSON object, as a keyed create; other lines are
 * reported and skipped. */
static HttpRequest *
feed_line(void *arg)
{
	Import *im = arg;
	char why[256];

	while (im->next < im->nlines && !im->unreachable) {
		Line *line = &im->lines[im->next++];
		HttpRequest *req;

		if (bad_json(line, why, sizeof(why))) {
			im->refused++;
			line_error(im, line, why);
			continue;
		}
		req = http_request_new(EVHTTP_REQ_POST, "/v1/cases", line->text, line->len);
		if (req == NULL) {
			im->failed++;
			line_error(im, line, "out of memory");
			continue;
		}
		snprintf(req->idempotency_key, sizeof(req->idempotency_key), "%s", line->key);
		req->replayable = true;
		req->user = line;
		return req;
	}
	return NULL;
}

static bool
bad_json(const Line *line, char *why, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *doc = tok ? json_tokener_parse_ex(tok, line->text, (int)line->len) : NULL;
	bool bad = true;

	if (doc == NULL)
		snprintf(why, len, "invalid JSON: %s",
			 tok ? json_tokener_error_desc(json_tokener_get_error(tok)) : "out of memory");
	else if (json_tokener_get_parse_end(tok) != line->len &&
		 !blank(line->text + json_tokener_get_parse_end(tok),
			line->len - json_tokener_get_parse_end(tok)))
		snprintf(why, len, "invalid JSON: text after the object");
	else if (!json_object_is_type(doc, json_type_object))
		snprintf(why, len, "invalid JSON: a line must be one case object {...}");
	else
		bad = false;
	json_object_put(doc);
	if (tok)
		json_tokener_free(tok);
	return bad;
}

static bool
line_done(void *arg, HttpRequest *req)
{
	Import *im = arg;
	const Line *line = req->user;
	char msg[1024];
	int rc = cli_failure(req, msg, sizeof(msg));

	if (rc == HL_OK && req->status == 201)
		im->imported++;
	else if (rc == HL_OK)
		im->present++;
	else if (rc == HL_UNREACHABLE)
		im->unreachable = true;
	else if (rc == HL_REFUSED)
		im->refused++;
	else
		im->failed++;
	if (rc == HL_UNREACHABLE) {
		/* Its outcome is unknown: it is counted as not sent, and the
		 * next run sends it again under the same key. */
		im->next = im->nlines;
		line_error(im, line, msg);
	} else if (rc != HL_OK) {
		line_error(im, line, msg);
	}
	http_request_free(req);
	draw_progress(im, false);
	return !im->unreachable;
}

static void
line_error(Import *im, const Line *line, const char *msg)
{
	json_object *e = json_object_new_object();

	if (im->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "hotline: line %zu: %s\n", line->number, msg);
	json_object_object_add(e, "line", json_object_new_int64((int64_t)line->number));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_array_add(im->errors, e);
}

/* "[#####.....] 412/1000 lines  83/s  2 errors" on a terminal only. */
static void
draw_progress(Import *im, bool force)
{
	double now = http_clock(), elapsed = now - im->started;
	size_t done = im->imported + im->present + im->refused + im->failed;
	size_t errors = im->refused + im->failed;
	int filled = im->nlines ? (int)(BAR_WIDTH * done / im->nlines) : BAR_WIDTH;

	if (!im->tty || (!force && now - im->drawn < DRAW_INTERVAL))
		return;
	im->drawn = now;
	fprintf(stderr, "\r\033[K[%.*s%.*s] %zu/%zu lines  %.0f/s  %zu error%s", filled,
		"##############################", BAR_WIDTH - filled,
		"..............................", done, im->nlines,
		elapsed > 0 ? (double)done / elapsed : 0.0, errors, errors == 1 ? "" : "s");
	fflush(stderr);
}

static void
print_summary(const Import *im)
{
	size_t failed = im->refused + im->failed;
	size_t not_sent = im->nlines - im->imported - im->present - failed;
	json_object *doc;

	if (!im->cli->json) {
		printf("imported %zu, already present %zu, failed %zu", im->imported, im->present,
		       failed);
		if (not_sent > 0)
			printf(", not sent %zu (run the same import again to finish)", not_sent);
		putchar('\n');
		return;
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "imported", json_object_new_int64((int64_t)im->imported));
	json_object_object_add(doc, "already_present", json_object_new_int64((int64_t)im->present));
	json_object_object_add(doc, "failed", json_object_new_int64((int64_t)failed));
	json_object_object_add(doc, "not_sent", json_object_new_int64((int64_t)not_sent));
	json_object_object_add(doc, "errors", json_object_get(im->errors));
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}
