/* http/static: an in-memory copy of web/, looked up by exact name; see static.h. */
#include "http/static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/http.h>

#include "app.h"
#include "core/sha256.h"
#include "http/reply.h"
#include "log.h"

#define STATIC_TOTAL_MAX (64u * 1024 * 1024)
#define STATIC_DEPTH_MAX 8
#define STATIC_PREFIX "/app/"

/* Scripts only from this server, no inline script or eval; ECharts sets element styles. */
#define STATIC_CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " \
	"form-action 'self'; frame-ancestors 'none'"

typedef struct StaticFile {
	char *name;             /* relative to the directory: "index.html", "js/app.js" */
	char *data;
	size_t len;
	const char *type;
	char etag[20];          /* "\"" + 16 hex digits of the SHA-256 + "\"" */
} StaticFile;

struct StaticFiles {
	StaticFile *files;
	size_t count, cap, total;
};

static bool static_walk(StaticFiles *sf, const char *root, const char *rel, int depth);
static bool static_add(StaticFiles *sf, const char *path, const char *rel);
static const StaticFile *static_find(const StaticFiles *sf, const char *name);
static const char *static_type(const char *name);
static char *static_decode(const char *path);

/*
 *********************************
 * Public functions
 *********************************
 */

StaticFiles *
static_files_load(const char *dir)
{
	StaticFiles *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return NULL;
	if (!static_walk(sf, dir, "", 0)) {
		static_files_free(sf);
		return NULL;
	}
	log_info("web console: %zu files (%zu bytes) from %s", sf->count, sf->total, dir);
	return sf;
}

void
static_files_free(StaticFiles *sf)
{
	if (!sf)
		return;
	for (size_t i = 0; i < sf->count; i++) {
		free(sf->files[i].name);
		free(sf->files[i].data);
	}
	free(sf->files);
	free(sf);
}

bool
static_path(const char *path)
{
	return strcmp(path, "/") == 0 || strcmp(path, "/app") == 0 || strcmp(path, "/favicon.ico") == 0 ||
	       strncmp(path, STATIC_PREFIX, strlen(STATIC_PREFIX)) == 0;
}

void
static_serve(const StaticFiles *sf, Req *req, const char *path)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req->ev);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
	const char *match;
	const StaticFile *f = NULL;
	char *name = NULL;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		reply_error(req, 405, "method_not_allowed", NULL, "only GET and HEAD are allowed here");
		return;
	}
	if (strcmp(path, "/") == 0 || strcmp(path, "/app") == 0) {
		evhttp_add_header(h, "Location", STATIC_PREFIX);
		reply_text(req, 302, "text/plain; charset=utf-8", "", 0);
		return;
	}
	/* Browsers ask every origin for its icon, JSON pages included. */
	name = strcmp(path, "/favicon.ico") == 0 ? strdup("favicon.png") : static_decode(path + strlen(STATIC_PREFIX));
	if (name) {
		size_t n = strlen(name);

		/* A directory's own page, never a listing. */
		if (n == 0 || name[n - 1] == '/') {
			char *index = malloc(n + sizeof("index.html"));

			if (index)
				snprintf(index, n + sizeof("index.html"), "%sindex.html", name);
			free(name);
			name = index;
		}
	}
	f = name ? static_find(sf, name) : NULL;
	free(name);
	if (!f) {
		reply_error(req, 404, "not_found", NULL, "no such file");
		return;
	}
	evhttp_add_header(h, "Content-Security-Policy", STATIC_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "ETag", f->etag);
	match = req_header(req, "If-None-Match");
	if (match && strstr(match, f->etag)) {
		reply_text(req, 304, f->type, "", 0);
		return;
	}
	reply_text(req, 200, f->type, f->data, f->len);
}

/*
 *********************************
 * Loading
 *********************************
 */

/* Add the regular files under root/rel (rel "" or ending in '/'); links are skipped. */
static bool
static_walk(StaticFiles *sf, const char *root, const char *rel, int depth)
{
	char dirpath[2048];
	DIR *d;
	struct dirent *e;
	bool ok = true;

	if (snprintf(dirpath, sizeof(dirpath), "%s/%s", root, rel) >= (int)sizeof(dirpath))
		return true;
	d = opendir(dirpath);
	if (!d) {
		if (depth == 0)
			log_warn("web console: cannot open %s: %s; /app/ answers 404", root, strerror(errno));
		return true;
	}
	while (ok && (e = readdir(d))) {
		char path[2048 + 256], sub[2048];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s%s", dirpath, e->d_name) >= (int)sizeof(path) ||
		    snprintf(sub, sizeof(sub), "%s%s", rel, e->d_name) >= (int)sizeof(sub) - 1 ||
		    lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < STATIC_DEPTH_MAX) {
			strncat(sub, "/", sizeof(sub) - strlen(sub) - 1);
			ok = static_walk(sf, root, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			ok = static_add(sf, path, sub);
		}
	}
	closedir(d);
	return ok;
}

/* Read one file; false only when memory runs out (an unreadable file is skipped). */
static bool
static_add(StaticFiles *sf, const char *path, const char *rel)
{
	StaticFile f = {0};
	struct stat st;
	char hex[65];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) != 0 || sf->total + (size_t)st.st_size > STATIC_TOTAL_MAX) {
		log_warn("web console: skipped %s", rel);
		goto skip;
	}
	f.len = (size_t)st.st_size;
	f.data = malloc(f.len + 1);
	f.name = strdup(rel);
	if (!f.data || !f.name)
		goto oom;
	while (got < f.len) {
		ssize_t n = read(fd, f.data + got, f.len - got);

		if (n <= 0)
			goto skip;
		got += (size_t)n;
	}
	close(fd);
	if (sf->count == sf->cap) {
		size_t cap = sf->cap ? sf->cap * 2 : 64;
		StaticFile *grown = realloc(sf->files, cap * sizeof(*grown));

		if (!grown)
			goto oom_closed;
		sf->files = grown;
		sf->cap = cap;
	}
	sha256_hex(f.data, f.len, hex);
	snprintf(f.etag, sizeof(f.etag), "\"%.16s\"", hex);
	f.type = static_type(rel);
	sf->files[sf->count++] = f;
	sf->total += f.len;
	return true;
skip:
	if (fd >= 0)
		close(fd);
	free(f.data);
	free(f.name);
	return true;
oom:
	close(fd);
oom_closed:
	free(f.data);
	free(f.name);
	return false;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static const StaticFile *
static_find(const StaticFiles *sf, const char *name)
{
	for (size_t i = 0; sf && i < sf->count; i++)
		if (strcmp(sf->files[i].name, name) == 0)
			return &sf->files[i];
	return NULL;
}

static const char *
static_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".json", "application/json; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".txt", "text/plain; charset=utf-8"},
		{".woff2", "font/woff2"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* The %-decoded name, or NULL when it is not one a file of ours can have: a NUL, a
 * backslash, an empty, "." or ".." segment (so nothing can climb out), a leading '/'. */
static char *
static_decode(const char *path)
{
	size_t len = 0;
	char *name = evhttp_uridecode(path, 0, &len);
	const char *seg;

	if (!name)
		return NULL;
	if (strlen(name) != len || strchr(name, '\\') || name[0] == '/')
		goto refuse;
	for (seg = name; *seg; ) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if ((n == 0 && end) || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			goto refuse;
		seg += n + (end ? 1 : 0);
	}
	return name;
refuse:
	free(name);
	return NULL;
}
