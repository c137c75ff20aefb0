/*
 * http/static: the web console's files (the top-level web/ directory), served at /app/.
 *
 * Every regular file under the directory is read into memory at start, so a request is a
 * lookup of its exact name among them: no path can reach outside the directory (".." and
 * %-escapes of it find nothing), symbolic links are not followed, a directory is never
 * listed ("/app/x/" serves x/index.html when there is one, else 404), and the loop never
 * waits for the disk. Files are answered with their content type, an ETag (304 on
 * If-None-Match), Cache-Control: no-cache (always revalidated: the names carry no version),
 * and a Content-Security-Policy that allows scripts from the server only (no inline ones).
 * GET / redirects to /app/; GET /favicon.ico is the console's favicon.png.
 */
#ifndef HOTLINE_HTTP_STATIC_H
#define HOTLINE_HTTP_STATIC_H

#include <stdbool.h>

#include "http/request.h"

typedef struct StaticFiles StaticFiles;

/* Load every file under dir (at most 64 MiB in all). A missing dir gives an empty set
 * (logged); NULL only when memory runs out. */
StaticFiles *static_files_load(const char *dir);
void static_files_free(StaticFiles *files);

/* True when path (the request's, still %-encoded) is the console's: "/", "/app", "/app/...",
 * "/favicon.ico". */
bool static_path(const char *path);
/* Answer req for such a path (GET or HEAD; 405 otherwise). */
void static_serve(const StaticFiles *files, Req *req, const char *path);

#endif
