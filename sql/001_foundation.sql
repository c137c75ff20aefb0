-- Users and their tokens (API.md section 6). Tokens are stored only as SHA-256 hashes.
CREATE TABLE users (
	id          bigserial PRIMARY KEY,
	name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
	role        text NOT NULL CHECK (role IN ('operator', 'department', 'manager', 'admin')),
	department  text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	disabled_at timestamptz,
	CHECK ((role = 'department') = (department IS NOT NULL))
);

CREATE TABLE tokens (
	hash       bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
	user_id    bigint NOT NULL REFERENCES users(id),
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);
CREATE INDEX tokens_user ON tokens(user_id);

-- RFC 3339 with the offset of the session's TimeZone (the server sets it per connection).
CREATE FUNCTION rfc3339(ts timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
$$;

CREATE FUNCTION user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role, 'department', u.department,
				  'created_at', rfc3339(u.created_at), 'disabled', u.disabled_at IS NOT NULL)
$$;
