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
