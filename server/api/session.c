/*
 * api/session: login, logout and passwords.
 *
 * A PasswordJob carries one request's password work to the worker thread: check a password
 * against a stored hash (a NULL hash checks a dummy one, so an unknown login costs the same
 * as a wrong password), hash a new one, or both (a change: the new one is hashed only when
 * the old one matched). Its `then` runs on the loop with the outcome. The job owns copies of
 * the passwords and wipes them when freed. The Req owns the job (req->state) and frees it
 * with itself; the Req stays valid while the worker holds the job, since only `then` or a
 * failure before the hand-over replies.
 */
#include "api/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "app.h"
#include "core/user_input.h"
#include "http/reply.h"
#include "log.h"
#include "passwd.h"
#include "worker.h"

typedef struct PasswordJob PasswordJob;
typedef void (*PasswordThen)(PasswordJob *job);

struct PasswordJob {
	Req *req;
	char *check;            /* password to check against stored, or NULL */
	char *stored;           /* the hash to check it against; NULL = the dummy */
	char *to_hash;          /* password to hash (after a matching check), or NULL */
	bool matched;           /* out: check matched stored */
	bool hashed;            /* out: hash holds the hash of to_hash */
	char hash[PASSWD_HASH_MAX];
	char login[USER_LOGIN_MAX + 1]; /* POST /v1/login: the login name checked */
	char user_id[24];       /* the user the work is for, as text for SQL */
	PasswordThen then;
	SessionHashed hashed_then; /* session_hash_then's continuation */
};

static PasswordJob *password_job_new(Req *req);
static void password_job_submit(PasswordJob *job, PasswordThen then);
static void password_job_free(void *arg);

/*
 *********************************
 * POST /v1/login
 *********************************
 */

static void session_login_attempt_cb(Req *req, PGresult *res);
static void session_login_checked(PasswordJob *job);
static void session_opened_cb(Req *req, PGresult *res);

static void
session_login(Req *req)
{
	UserCredentials cred;
	ApiError err;
	PasswordJob *job;
	const char *params[1];

	if (!user_login_parse(req->body, &cred, &err)) {
		reply_api_error(req, &err);
		return;
	}
	job = password_job_new(req);
	if (!job || !(job->check = strdup(cred.password))) {
		reply_out_of_memory(req);
		return;
	}
	/* A login that cannot exist is counted and checked like any other (as ""), so it
	 * gets the same 401 after the same work. */
	snprintf(job->login, sizeof(job->login), "%s", strlen(cred.login) <= USER_LOGIN_MAX ? cred.login : "");
	params[0] = job->login;
	req_query(req, "SELECT locked_seconds, user_id, password_hash FROM login_attempt($1)", 1, params,
		  session_login_attempt_cb);
}

static void
session_login_attempt_cb(Req *req, PGresult *res)
{
	PasswordJob *job = req->state;
	const char *locked, *user, *stored;

	if (PQntuples(res) != 1) {
		reply_internal(req);
		return;
	}
	locked = db_value(res, 0, 0);
	user = db_value(res, 0, 1);
	stored = db_value(res, 0, 2);
	if (locked) {
		if (req->ev)
			evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Retry-After", locked);
		reply_error(req, 429, "rate_limited", NULL, "too many failed logins, try again in %s seconds", locked);
		return;
	}
	snprintf(job->user_id, sizeof(job->user_id), "%s", user ? user : "");
	if (stored && !(job->stored = strdup(stored))) {
		reply_out_of_memory(req);
		return;
	}
	password_job_submit(job, session_login_checked);
}

static void
session_login_checked(PasswordJob *job)
{
	Req *req = job->req;
	char hash[TOKEN_HASH_HEX + 3];
	const char *params[] = {job->login, job->user_id, hash};

	if (!job->matched || !job->user_id[0]) {
		reply_error(req, 401, "unauthorized", NULL, "wrong login or password");
		return;
	}
	if (!token_generate(req->token_made)) {
		reply_error(req, 503, "unavailable", NULL, "no randomness available, try again");
		return;
	}
	token_hash_literal(req->token_made, hash);
	req_query(req, "SELECT status, body FROM login_session($1, $2::bigint, $3::bytea)", 3, params,
		  session_opened_cb);
}

/* The session is open: the answer is the body with the token, which SQL never saw, first. */
static void
session_opened_cb(Req *req, PGresult *res)
{
	json_object *body, *answer;
	int status;

	if (PQntuples(res) != 1 || (status = atoi(PQgetvalue(res, 0, 0))) != 200) {
		req_reply_row(req, res);
		return;
	}
	body = json_tokener_parse(PQgetvalue(res, 0, 1));
	answer = json_object_new_object();
	if (!body || !answer || json_object_object_add(answer, "token", json_object_new_string(req->token_made)) != 0) {
		json_object_put(body);
		json_object_put(answer);
		reply_out_of_memory(req);
		return;
	}
	json_object_object_foreach(body, key, val)
		json_object_object_add(answer, key, json_object_get(val));
	json_object_put(body);
	reply_json(req, 200, answer);
}

/*
 *********************************
 * POST /v1/logout
 *********************************
 */

static void
session_logout_cb(Req *req, PGresult *res)
{
	static const char body[] = "{\"revoked\":true}";

	(void)res;
	token_cache_invalidate(req->app->tokens);
	reply_json_text(req, 200, body, sizeof(body) - 1);
}

/* Revokes the token the request came with (a session's, or an API token if that was sent). */
static void
session_logout(Req *req)
{
	const char *params[] = {req->token_hash};

	token_cache_invalidate(req->app->tokens);
	req_query(req, "UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE hash = $1::bytea", 1,
		  params, session_logout_cb);
}

/*
 *********************************
 * Passwords
 *********************************
 */

static void session_set_password_hashed(Req *req, const char *hash);
static void session_change_stored_cb(Req *req, PGresult *res);
static void session_change_checked(PasswordJob *job);

/* Revoking sessions is a token write: forget the cached tokens, then answer. */
static void
session_revoked_cb(Req *req, PGresult *res)
{
	token_cache_invalidate(req->app->tokens);
	req_reply_row(req, res);
}

/* POST /v1/users/{id}/password (admin): set it, and end the user's sessions. */
static void
session_set_password(Req *req)
{
	const char *password;
	ApiError err;

	if (!user_password_parse(req->body, &password, &err)) {
		reply_api_error(req, &err);
		return;
	}
	session_hash_then(req, password, session_set_password_hashed);
}

static void
session_set_password_hashed(Req *req, const char *hash)
{
	char id[24];
	const char *params[] = {id, hash};

	snprintf(id, sizeof(id), "%lld", (long long)req->path_id);
	token_cache_invalidate(req->app->tokens);
	req_query(req,
		"WITH u AS (SELECT * FROM users WHERE id = $1::bigint AND disabled_at IS NULL), "
		"p AS (UPDATE users SET password_hash = $2 WHERE id = (SELECT id FROM u WHERE login IS NOT NULL) "
		"  RETURNING *), "
		"r AS (UPDATE tokens SET revoked_at = now() WHERE user_id = (SELECT id FROM p) "
		"  AND expires_at IS NOT NULL AND revoked_at IS NULL) "
		"SELECT 200, user_json(p)::text FROM p "
		"UNION ALL SELECT 422, '{\"error\": {\"code\": \"invalid_field\", \"field\": \"password\", "
		"\"message\": \"the user has no login\"}}' WHERE EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM p) "
		"UNION ALL SELECT 404, '{\"error\": {\"code\": \"not_found\", \"message\": \"no such active user\"}}' "
		"WHERE NOT EXISTS (SELECT 1 FROM u)",
		2, params, session_revoked_cb);
}

/* PUT /v1/me/password: the old one must match; the caller's other sessions end. */
static void
session_change_password(Req *req)
{
	UserCredentials cred;
	ApiError err;
	PasswordJob *job;
	const char *params[1];

	if (!user_password_change_parse(req->body, &cred, &err)) {
		reply_api_error(req, &err);
		return;
	}
	job = password_job_new(req);
	if (!job || !(job->check = strdup(cred.password)) || !(job->to_hash = strdup(cred.new_password))) {
		reply_out_of_memory(req);
		return;
	}
	snprintf(job->user_id, sizeof(job->user_id), "%lld", (long long)req->user.id);
	params[0] = job->user_id;
	req_query(req, "SELECT password_hash FROM users WHERE id = $1::bigint", 1, params, session_change_stored_cb);
}

static void
session_change_stored_cb(Req *req, PGresult *res)
{
	PasswordJob *job = req->state;
	const char *stored = PQntuples(res) == 1 ? db_value(res, 0, 0) : NULL;

	if (stored && !(job->stored = strdup(stored))) {
		reply_out_of_memory(req);
		return;
	}
	password_job_submit(job, session_change_checked);
}

static void
session_change_checked(PasswordJob *job)
{
	Req *req = job->req;
	const char *params[] = {job->user_id, job->hash, job->stored, req->token_hash};

	if (!job->matched || !job->stored) {
		reply_error(req, 422, "invalid_field", "old", "the old password is wrong");
		return;
	}
	if (!job->hashed) {
		reply_error(req, 503, "unavailable", NULL, "cannot hash the password now, try again");
		return;
	}
	token_cache_invalidate(req->app->tokens);
	/* Compare-and-set on the old hash: of two racing changes, one wins, the other is refused. */
	req_query(req,
		"WITH p AS (UPDATE users SET password_hash = $2 WHERE id = $1::bigint AND password_hash = $3 "
		"  RETURNING *), "
		"r AS (UPDATE tokens SET revoked_at = now() WHERE user_id = (SELECT id FROM p) "
		"  AND expires_at IS NOT NULL AND revoked_at IS NULL AND hash <> $4::bytea) "
		"SELECT 200, user_json(p)::text FROM p "
		"UNION ALL SELECT 422, '{\"error\": {\"code\": \"invalid_field\", \"field\": \"old\", "
		"\"message\": \"the old password is wrong\"}}' WHERE NOT EXISTS (SELECT 1 FROM p)",
		4, params, session_revoked_cb);
}

/*
 *********************************
 * Hashing for other handlers
 *********************************
 */

static void
session_hashed(PasswordJob *job)
{
	if (!job->hashed)
		reply_error(job->req, 503, "unavailable", NULL, "cannot hash the password now, try again");
	else
		job->hashed_then(job->req, job->hash);
}

void
session_hash_then(Req *req, const char *password, SessionHashed then)
{
	PasswordJob *job = password_job_new(req);

	if (!job || !(job->to_hash = strdup(password))) {
		reply_out_of_memory(req);
		return;
	}
	job->hashed_then = then;
	password_job_submit(job, session_hashed);
}

/*
 *********************************
 * Jobs and the worker side
 *********************************
 */

/* A job owned by req (freed with it), or NULL when out of memory. */
static PasswordJob *
password_job_new(Req *req)
{
	PasswordJob *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->req = req;
	req->state = job;
	req->state_free = password_job_free;
	return job;
}

static void
password_job_work(void *arg)
{
	PasswordJob *job = arg;

	if (job->check)
		job->matched = passwd_verify(job->check, job->stored);
	if (job->to_hash && (!job->check || job->matched))
		job->hashed = passwd_hash(job->to_hash, job->hash);
}

static void
password_job_done(void *arg)
{
	PasswordJob *job = arg;

	job->then(job);
}

/* Hand job to the worker; when it is full, answer 503. Either way `then` or a reply follows. */
static void
password_job_submit(PasswordJob *job, PasswordThen then)
{
	Req *req = job->req;

	job->then = then;
	if (worker_submit(req->app->hasher, password_job_work, password_job_done, job))
		return;
	log_warn("req=%llu: the password worker is full", (unsigned long long)req->id);
	reply_error(req, 503, "unavailable", NULL, "too many password checks at once, try again");
}

static void
password_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
password_job_free(void *arg)
{
	PasswordJob *job = arg;

	password_wipe_free(job->check);
	password_wipe_free(job->to_hash);
	free(job->stored);
	explicit_bzero(job->hash, sizeof(job->hash));
	free(job);
}

#define ADMIN ROLE_BIT(ROLE_ADMIN)

static const Route session_route_list[] = {
	{"POST", "/v1/login", ROLES_NONE, BODY_JSON, session_login},
	{"POST", "/v1/logout", ROLES_ANY, BODY_JSON, session_logout},
	{"PUT", "/v1/me/password", ROLES_ANY, BODY_JSON, session_change_password},
	{"POST", "/v1/users/{id}/password", ADMIN, BODY_JSON, session_set_password},
};

const RouteTable *
session_routes(void)
{
	static const RouteTable table = {session_route_list, sizeof(session_route_list) / sizeof(session_route_list[0])};

	return &table;
}
