/*
 * api/session: logging in and out, and passwords (API.md section 19): POST /v1/login,
 * POST /v1/logout, PUT /v1/me/password, POST /v1/users/{id}/password. Hashes are made and
 * checked on the App's worker thread (passwd.h), never on the loop.
 */
#ifndef HOTLINE_API_SESSION_H
#define HOTLINE_API_SESSION_H

#include "http/routes.h"

const RouteTable *session_routes(void);

/*
 * Hash password on the worker, then call then(req, hash) on the loop (hash lives until then
 * returns). When the worker is busy or the hash cannot be made, the request is answered
 * 503 and then is not called.
 */
typedef void (*SessionHashed)(Req *req, const char *hash);
void session_hash_then(Req *req, const char *password, SessionHashed then);

#endif
