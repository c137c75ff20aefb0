/*
 * cli: the shared path of every command: configuration checks, one call
 * to the server, the exit status of its answer, and printing it.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ymd.h"

static void describe_answer(const HttpRequest *req, char *msg, size_t len);
static const char *list_separator_at(const char *s, size_t *len);

/*
 *********************************
 * Public functions
 *********************************
 */

int
cli_usage(const Cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("hotline: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cli && cli->cmd)
		fprintf(stderr, "\nhotline: see 'hotline help %s'\n", cli->cmd->name);
	else
		fputs("\nhotline: see 'hotline help'\n", stderr);
	return HL_USAGE;
}

int
cli_ready(Cli *cli)
{
	char err[256];

	if (cli->http)
		return HL_OK;
	if (cli->url == NULL || cli->url[0] == '\0') {
		fputs("hotline: no server URL: set HOTLINE_URL or pass --url https://HOST:PORT\n",
		      stderr);
		return HL_USAGE;
	}
	if (!cli->anonymous && (cli->token == NULL || cli->token[0] == '\0')) {
		fputs("hotline: no token: set HOTLINE_TOKEN or pass --token TOKEN "
		      "(an admin makes one with 'hotline users add')\n",
		      stderr);
		return HL_USAGE;
	}
	cli->http = http_client_new(cli->url, cli->anonymous ? NULL : cli->token, cli->ca, cli->timeout, err,
				    sizeof(err));
	if (cli->http == NULL) {
		fprintf(stderr, "hotline: %s\n", err);
		return HL_USAGE;
	}
	return HL_OK;
}

HttpRequest *
cli_request(enum evhttp_cmd_type method, const char *target, json_object *body)
{
	const char *text = NULL;
	size_t len = 0;

	if (body)
		text = json_object_to_json_string_length(
		    body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	return http_request_new(method, target, text, len);
}

int
cli_send(Cli *cli, HttpRequest *req)
{
	char msg[1024];
	int rc = cli_ready(cli);

	if (rc != HL_OK)
		return rc;
	http_client_perform(cli->http, req);
	rc = cli_failure(req, msg, sizeof(msg));
	if (rc == HL_OK)
		return rc;
	fprintf(stderr, "hotline: %s\n", msg);
	/* Scripts get the error document too, as the server wrote it. */
	if (cli->json && req->outcome == HTTP_ANSWERED && req->content_type &&
	    strstr(req->content_type, "json"))
		cli_output(cli, req, NULL);
	return rc;
}

int
cli_failure(const HttpRequest *req, char *msg, size_t len)
{
	const char *tries = req->attempts > 1 ? " attempts" : " attempt";

	switch (req->outcome) {
	case HTTP_NOT_SENT:
		snprintf(msg, len,
			 "%s (%d%s); is the server running? check --url or HOTLINE_URL", req->error,
			 req->attempts, tries);
		return HL_UNREACHABLE;
	case HTTP_UNTRUSTED:
		snprintf(msg, len,
			 "%s; nothing was sent: if the server's certificate comes from a private "
			 "CA, set HOTLINE_CA or pass --ca FILE with that CA's certificate",
			 req->error);
		return HL_UNREACHABLE;
	case HTTP_LOST:
		snprintf(msg, len, "no answer from the server: %s (%d%s)%s", req->error,
			 req->attempts, tries,
			 req->replayable ? ""
					 : "; the change may or may not have been made: "
					   "look before repeating it");
		return HL_UNREACHABLE;
	case HTTP_ANSWERED:
		break;
	}
	if (req->status >= 200 && req->status < 300) {
		msg[0] = '\0';
		return HL_OK;
	}
	describe_answer(req, msg, len);
	if (req->status == 503 || req->status == 429) {
		size_t used = strlen(msg);

		snprintf(msg + used, len - used, " (%d%s); nothing was changed: try again later",
			 req->attempts, tries);
		return req->status == 503 ? HL_UNREACHABLE : HL_REFUSED;
	}
	if (req->status == 401) {
		size_t used = strlen(msg);

		snprintf(msg + used, len - used, "; check --token or HOTLINE_TOKEN");
	}
	return req->status >= 400 && req->status < 500 ? HL_REFUSED : HL_FAILED;
}

json_object *
cli_parse(const HttpRequest *req)
{
	json_tokener *tok;
	json_object *doc;

	if (req->response == NULL || req->response_len == 0)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	doc = json_tokener_parse_ex(tok, req->response, (int)req->response_len);
	if (doc != NULL && json_tokener_get_parse_end(tok) != req->response_len) {
		/* Only white space may follow the document. */
		for (size_t i = json_tokener_get_parse_end(tok); i < req->response_len; i++) {
			if (!isspace((unsigned char)req->response[i])) {
				json_object_put(doc);
				doc = NULL;
				break;
			}
		}
	}
	json_tokener_free(tok);
	return doc;
}

int
cli_output(const Cli *cli, const HttpRequest *req, RenderFn render)
{
	json_object *doc;
	int rc;

	if (cli->json) {
		fwrite(req->response ? req->response : "", 1, req->response_len, stdout);
		/* Byte for byte for scripts; a terminal also gets its newline. */
		if (isatty(STDOUT_FILENO) && req->response_len > 0 &&
		    req->response[req->response_len - 1] != '\n')
			fputc('\n', stdout);
		return HL_OK;
	}
	doc = cli_parse(req);
	if (doc == NULL && req->response_len > 0) {
		fprintf(stderr, "hotline: the server's answer (%d) is not JSON\n", req->status);
		return HL_FAILED;
	}
	rc = render(doc);
	json_object_put(doc);
	return rc;
}

int
cli_call(Cli *cli, enum evhttp_cmd_type method, const char *target, json_object *body,
	 RenderFn render)
{
	HttpRequest *req = cli_request(method, target, body);
	int rc;

	if (req == NULL) {
		fputs("hotline: out of memory\n", stderr);
		return HL_FAILED;
	}
	rc = cli_send(cli, req);
	if (rc == HL_OK)
		rc = cli_output(cli, req, render);
	http_request_free(req);
	return rc;
}

char *
cli_read_input(const char *path, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	size_t cap = 65536, used = 0;
	char *buf = NULL;

	if (f == NULL) {
		fprintf(stderr, "hotline: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		char *bigger = realloc(buf, cap + 1);

		if (bigger == NULL) {
			fprintf(stderr, "hotline: %s is too large to read\n", path);
			goto fail;
		}
		buf = bigger;
		used += fread(buf + used, 1, cap - used, f);
		if (used < cap)
			break;
		cap *= 2;
	}
	if (ferror(f)) {
		fprintf(stderr, "hotline: cannot read %s: %s\n", is_stdin ? "standard input" : path,
			strerror(errno));
		goto fail;
	}
	/* A byte order mark (Windows editors write one) is not content. */
	if (used >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		used -= 3;
		memmove(buf, buf + 3, used);
	}
	buf[used] = '\0';
	*len = used;
	if (!is_stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (!is_stdin)
		fclose(f);
	return NULL;
}

bool
cli_id(const Cli *cli, const char *text, long long *id)
{
	char *end;

	errno = 0;
	*id = strtoll(text, &end, 10);
	if (text[0] >= '0' && text[0] <= '9' && *end == '\0' && errno == 0 && *id > 0)
		return true;
	cli_usage(cli, "an ID is a positive whole number, not '%s'", text);
	return false;
}

bool
cli_int(const Cli *cli, const char *name, const char *text, long long min, long long max,
	long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (text[0] == '\0' || isspace((unsigned char)text[0]) || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		cli_usage(cli, "%s must be a whole number from %lld to %lld, not '%s'", name, min,
			  max, text);
		return false;
	}
	*out = v;
	return true;
}

bool
cli_one_of(const Cli *cli, const char *name, const char *value, const char *const *allowed)
{
	char list[256] = "";

	for (size_t i = 0; allowed[i]; i++) {
		if (strcmp(value, allowed[i]) == 0)
			return true;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 allowed[i]);
	}
	cli_usage(cli, "--%s must be one of %s, not '%s'", name, list, value);
	return false;
}

bool
cli_date(const Cli *cli, const char *name, const char *text)
{
	if (ymd_parse(text, NULL))
		return true;
	cli_usage(cli, "--%s must be a date written YYYY-MM-DD, not '%s'", name, text);
	return false;
}

bool
cli_query(struct evbuffer *target, const char *name, const char *value)
{
	struct evbuffer_ptr p;
	char *encoded;
	int rc;

	if (value == NULL)
		return true;
	p = evbuffer_search(target, "?", 1, NULL);
	encoded = evhttp_uriencode(value, -1, 0);
	if (encoded == NULL)
		return false;
	rc = evbuffer_add_printf(target, "%c%s=%s", p.pos < 0 ? '?' : '&', name, encoded);
	free(encoded);
	return rc >= 0;
}

const char *
cli_buffer_text(struct evbuffer *b)
{
	evbuffer_add(b, "", 1);
	return (const char *)evbuffer_pullup(b, -1);
}

const char *
cli_need(const Cli *cli, const Args *a, const char *name)
{
	const char *v = args_get(a, name);

	if (v == NULL)
		cli_usage(cli, "%s needs --%s", cli->cmd ? cli->cmd->name : "this command", name);
	return v;
}

/* "摆摊,占道" as ["摆摊", "占道"]: split on ASCII or Chinese commas (，、),
 * blanks around each word dropped, empty words skipped. */
json_object *
cli_list_value(const char *text)
{
	json_object *list = json_object_new_array();

	while (text && *text) {
		size_t sep_len = 0;
		const char *sep = list_separator_at(text, &sep_len);
		const char *start = text, *end = sep ? sep : text + strlen(text);

		while (start < end && *start == ' ')
			start++;
		while (end > start && end[-1] == ' ')
			end--;
		if (end > start)
			json_object_array_add(list, json_object_new_string_len(start, (int)(end - start)));
		text = sep ? sep + sep_len : NULL;
	}
	return list;
}

/* The first separator in s and its length in bytes, or NULL. */
static const char *
list_separator_at(const char *s, size_t *len)
{
	static const char *const seps[] = {",", "\xef\xbc\x8c", "\xe3\x80\x81"};	/* , ， 、 */

	for (; *s; s++) {
		for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
			if (strncmp(s, seps[i], strlen(seps[i])) == 0) {
				*len = strlen(seps[i]);
				return s;
			}
		}
	}
	return NULL;
}

char *
cli_text_value(const char *value)
{
	size_t len;
	char *text;

	if (strcmp(value, "-") != 0) {
		text = strdup(value);
		if (text == NULL)
			fputs("hotline: out of memory\n", stderr);
		return text;
	}
	text = cli_read_input("-", &len);
	while (text && len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	return text;
}

/*
 *********************************
 * Helpers
 *********************************
 */


/* "409 illegal_transition: message (field: f)" from an error answer, or
 * the status and the start of the body when it is not our error JSON. */
static void
describe_answer(const HttpRequest *req, char *msg, size_t len)
{
	json_object *doc = cli_parse(req);
	json_object *err = NULL, *code = NULL, *message = NULL, *field = NULL;

	if (doc && json_object_object_get_ex(doc, "error", &err) &&
	    json_object_object_get_ex(err, "code", &code)) {
		json_object_object_get_ex(err, "message", &message);
		json_object_object_get_ex(err, "field", &field);
		snprintf(msg, len, "%d %s: %s", req->status, json_object_get_string(code),
			 message ? json_object_get_string(message) : "");
		if (field && json_object_get_string_len(field) > 0) {
			size_t used = strlen(msg);

			snprintf(msg + used, len - used, " (field: %s)", json_object_get_string(field));
		}
	} else {
		char *clean = NULL;
		int n = req->response_len > 200 ? 200 : (int)req->response_len;

		if (req->response)
			clean = strndup(req->response, (size_t)n);
		for (char *p = clean; p && *p; p++) {
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		}
		snprintf(msg, len, "%d, not an answer of the hotline API (is --url right?)%s%s",
			 req->status, clean && *clean ? ": " : "", clean ? clean : "");
		free(clean);
	}
	json_object_put(doc);
}

bool
cli_add_string(json_object *obj, const char *key, const char *value)
{
	if (value == NULL)
		return true;
	return json_object_object_add(obj, key, json_object_new_string(value)) == 0;
}
