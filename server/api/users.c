/*
 * api/users: create users (the token is shown once), list them, replace a token,
 * disable a user (its tokens stop working at once: both writes empty this server's token
 * cache before they are sent and again once committed), and /v1/me.
 */
#include "api/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/session.h"
#include "app.h"
#include "core/user_input.h"
#include "http/reply.h"
#include "token.h"

/* A write that revokes tokens has committed: forget the cached ones, then answer. */
static void
users_revoked_cb(Req *req, PGresult *res)
{
	token_cache_invalidate(req->app->tokens);
	req_reply_row(req, res);
}

/* The user row is the answer: add the token made for it, which PostgreSQL never saw (with
 * statement logging on, a parameter would land in its log). */
static void
users_token_reply_cb(Req *req, PGresult *res)
{
	json_object *body;
	int status;

	if (PQntuples(res) != 1 || (status = atoi(PQgetvalue(res, 0, 0))) / 100 != 2) {
		req_reply_row(req, res);
		return;
	}
	body = json_tokener_parse(PQgetvalue(res, 0, 1));
	if (!body || json_object_object_add(body, "token", json_object_new_string(req->token_made)) != 0) {
		json_object_put(body);
		reply_out_of_memory(req);
		return;
	}
	reply_json(req, status, body);
}

static void users_insert(Req *req, const char *password_hash);

static void
users_hashed(Req *req, const char *password_hash)
{
	users_insert(req, password_hash);
}

/* POST /v1/users: a password is hashed on the worker first (api/session.h). */
static void
users_create(Req *req)
{
	UserInput in;
	ApiError err;

	if (!user_input_parse(req->body, &in, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (in.password)
		session_hash_then(req, in.password, users_hashed);
	else
		users_insert(req, NULL);
}

/* The body was valid when users_create parsed it; parse again for the borrowed fields. */
static void
users_insert(Req *req, const char *password_hash)
{
	UserInput in;
	ApiError err;
	char hash[TOKEN_HASH_HEX + 3];

	if (!user_input_parse(req->body, &in, &err)) {
		reply_api_error(req, &err);
		return;
	}
	if (!token_generate(req->token_made)) {
		reply_error(req, 503, "unavailable", NULL, "no randomness available, try again");
		return;
	}
	token_hash_literal(req->token_made, hash);
	const char *params[] = {in.name, role_name(in.role), in.department, hash, in.login, password_hash};

	/* A login taken meanwhile by a racing create is skipped by ON CONFLICT, not an error. */
	req_query(req,
		"WITH u AS (INSERT INTO users (name, role, department, login, password_hash) "
		"  SELECT $1, $2, $3, $5, $6 WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM departments WHERE code = $3) "
		"  ON CONFLICT (login) DO NOTHING RETURNING *), "
		"t AS (INSERT INTO tokens (hash, user_id) SELECT $4::bytea, id FROM u) "
		"SELECT 201, user_json(u)::text FROM u "
		"UNION ALL SELECT 422, CASE WHEN $3::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM departments WHERE code = $3) "
		"  THEN '{\"error\": {\"code\": \"invalid_field\", \"field\": \"department\", \"message\": \"no such department\"}}' "
		"  ELSE '{\"error\": {\"code\": \"invalid_field\", \"field\": \"login\", \"message\": \"the login is taken\"}}' END "
		"WHERE NOT EXISTS (SELECT 1 FROM u)",
		6, params, users_token_reply_cb);
}

/* A new token replaced the old ones: forget the cached ones, then answer with it. */
static void
users_new_token_cb(Req *req, PGresult *res)
{
	token_cache_invalidate(req->app->tokens);
	users_token_reply_cb(req, res);
}

static void
users_list(Req *req)
{
	req_query_reply(req,
		"SELECT 200, jsonb_build_object('items', coalesce(jsonb_agg(user_json(u) ORDER BY u.id), '[]'))::text "
		"FROM users u", 0, NULL);
}

static void
users_new_token(Req *req)
{
	char id[24], hash[TOKEN_HASH_HEX + 3];

	if (!token_generate(req->token_made)) {
		reply_error(req, 503, "unavailable", NULL, "no randomness available, try again");
		return;
	}
	token_hash_literal(req->token_made, hash);
	snprintf(id, sizeof(id), "%lld", (long long)req->path_id);
	const char *params[] = {id, hash};

	token_cache_invalidate(req->app->tokens);
	req_query(req,
		"WITH u AS (SELECT * FROM users WHERE id = $1::bigint AND disabled_at IS NULL), "
		"r AS (UPDATE tokens SET revoked_at = now() WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL), "
		"t AS (INSERT INTO tokens (hash, user_id) SELECT $2::bytea, id FROM u) "
		"SELECT 200, user_json(u)::text FROM u "
		"UNION ALL SELECT 404, '{\"error\": {\"code\": \"not_found\", \"message\": \"no such active user\"}}' "
		"WHERE NOT EXISTS (SELECT 1 FROM u)",
		2, params, users_new_token_cb);
}

static void
users_disable(Req *req)
{
	char id[24];
	const char *params[] = {id};

	snprintf(id, sizeof(id), "%lld", (long long)req->path_id);
	token_cache_invalidate(req->app->tokens);
	req_query(req,
		"WITH d AS (UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1::bigint RETURNING *) "
		"SELECT 200, user_json(d)::text FROM d "
		"UNION ALL SELECT 404, '{\"error\": {\"code\": \"not_found\", \"message\": \"no such user\"}}' "
		"WHERE NOT EXISTS (SELECT 1 FROM d)",
		1, params, users_revoked_cb);
}

static void
users_me(Req *req)
{
	char id[24];
	const char *params[] = {id};

	snprintf(id, sizeof(id), "%lld", (long long)req->user.id);
	req_query_reply(req, "SELECT 200, user_json(u)::text FROM users u WHERE id = $1::bigint", 1, params);
}

#define ADMIN ROLE_BIT(ROLE_ADMIN)

static const Route users_route_list[] = {
	{"POST", "/v1/users", ADMIN, BODY_JSON, users_create},
	{"GET", "/v1/users", ADMIN, BODY_NONE, users_list},
	{"POST", "/v1/users/{id}/token", ADMIN, BODY_JSON, users_new_token},
	{"DELETE", "/v1/users/{id}", ADMIN, BODY_NONE, users_disable},
	{"GET", "/v1/me", ROLES_ANY, BODY_NONE, users_me},
};

const RouteTable *
users_routes(void)
{
	static const RouteTable table = {users_route_list, sizeof(users_route_list) / sizeof(users_route_list[0])};

	return &table;
}
