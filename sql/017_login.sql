-- Logins, passwords and sessions (API.md section 19).
-- A password is stored only as a yescrypt hash from libxcrypt ("$y$..."), made by the server.
ALTER TABLE users ADD COLUMN login text UNIQUE CHECK (login ~ '^[a-z0-9._-]{3,32}$');
ALTER TABLE users ADD COLUMN password_hash text CHECK (password_hash IS NULL OR login IS NOT NULL);

-- A session token (POST /v1/login) expires; API tokens (POST /v1/users, create-admin) do not.
ALTER TABLE tokens ADD COLUMN expires_at timestamptz;

-- Attempts to log in per login name (known or not), counted BEFORE the password is checked so
-- that parallel guesses cannot slip past the limit: the 6th attempt within 15 minutes of the
-- first locks the login for 15 minutes; a success forgets the row. Kept here, not in a server's
-- memory, so the lock holds across every server of a deployment.
CREATE TABLE login_attempts (
	login        text PRIMARY KEY,
	attempts     int NOT NULL,
	window_start timestamptz NOT NULL,
	locked_until timestamptz
);

CREATE OR REPLACE FUNCTION user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role, 'department', u.department,
				  'login', u.login, 'created_at', rfc3339(u.created_at),
				  'disabled', u.disabled_at IS NOT NULL)
$$;

-- Count one attempt to log in as p_login and say what to do with it: locked (with the seconds
-- left), or the user's id and password hash to check (both NULL for no such active user with a
-- password: the caller checks a dummy hash then, so both refusals take the same time).
CREATE FUNCTION login_attempt(p_login text,
	OUT locked_seconds int, OUT user_id bigint, OUT password_hash text)
LANGUAGE plpgsql AS $$
DECLARE
	a login_attempts;
BEGIN
	-- Forget a few stale rows of other logins on the way (junk logins of a guesser).
	DELETE FROM login_attempts WHERE login IN (
		SELECT login FROM login_attempts
		WHERE window_start < now() - interval '1 hour'
		  AND (locked_until IS NULL OR locked_until < now()) LIMIT 10);
	INSERT INTO login_attempts AS o (login, attempts, window_start) VALUES (p_login, 1, now())
	ON CONFLICT (login) DO UPDATE SET
		attempts = CASE WHEN o.locked_until > now() THEN o.attempts
				WHEN o.window_start < now() - interval '15 minutes' THEN 1
				ELSE o.attempts + 1 END,
		window_start = CASE WHEN o.locked_until > now() THEN o.window_start
				    WHEN o.window_start < now() - interval '15 minutes' THEN now()
				    ELSE o.window_start END,
		locked_until = CASE WHEN o.locked_until > now() THEN o.locked_until
				    WHEN o.window_start >= now() - interval '15 minutes' AND o.attempts >= 5
				    THEN now() + interval '15 minutes' END
	RETURNING * INTO a;
	IF a.locked_until > now() THEN
		locked_seconds := greatest(1, ceil(extract(epoch FROM a.locked_until - now())))::int;
		RETURN;
	END IF;
	SELECT u.id, u.password_hash INTO user_id, password_hash
	FROM users u WHERE u.login = p_login AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL;
END $$;

-- The password matched: open a session of 12 hours and forget the attempts. The token itself
-- never reaches SQL (only its hash): the caller adds it to the body. Answers (status, body).
CREATE FUNCTION login_session(p_login text, p_user bigint, p_hash bytea)
RETURNS TABLE (status int, body text)
LANGUAGE plpgsql AS $$
DECLARE
	u users;
	expires timestamptz := now() + interval '12 hours';
BEGIN
	DELETE FROM login_attempts WHERE login = p_login;
	SELECT * INTO u FROM users WHERE id = p_user AND disabled_at IS NULL;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 401, '{"error": {"code": "unauthorized", "message": "wrong login or password"}}';
		RETURN;
	END IF;
	INSERT INTO tokens (hash, user_id, expires_at) VALUES (p_hash, u.id, expires);
	RETURN QUERY SELECT 200, jsonb_build_object('expires_at', rfc3339(expires), 'user', user_json(u))::text;
END $$;
