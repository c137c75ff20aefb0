-- pgbench script for bench/intake.sh: the database work of one POST /v1/cases, exactly as the
-- server does it: the create call of server/api/cases.c (sql_create), one round trip and one
-- transaction, sent with the extended protocol and an unnamed statement (pgbench -M extended,
-- as PQsendQueryParams does). The server authenticates a token it has seen in the last
-- token_cache_seconds from memory (core/token_cache.c), so a steady client's requests cost no
-- authentication query; the first request of a token does, as the query of
-- server/http/server.c (server_authenticate). The server routes the case and computes its
-- deadlines in C; here the deadlines are values of the same shape, and the department and rule
-- vary as routing spreads real cases (one rule for every case would make its counter row a hot
-- spot that the server does not have). Keep the statement in step with those files.
--
-- The last two arguments are 014's clock kinds (0: every clock in hours) and 015's tracking code
-- (six digits; the server draws them at random).
--
-- Variables (pgbench -D): uid, uname (the operator's id and name), hash (unused since the token
-- cache; kept so that intake.sh passes the same variables to every script), k (any number:
-- each client counts its keys up from it, as a client of the API does). Every transaction uses
-- its own Idempotency-Key and case text. pgbench takes any ":name" as a variable, even inside a
-- string literal: hence the space after every colon of the JSON.
\set n random(1, 1000000000000)
\set k :k + 1
SELECT status, body FROM case_create(:uid::bigint, :uname::text, 'operator', NULL, 'pgbench-' || :client_id::text || '-' || :k::text, ('{"channel": "phone", "type": "complaint", "urgent": false, "text": "市民来电反映，风光路与解放路交叉口每天早上有人占道摆摊，影响行人和车辆通行。（编号 pgbench-' || :n::text || '）", "district": "驿城区", "caller": {"name": "张先生", "phone": "13800000000", "confidential": false}}')::jsonb, 'dispatched', (ARRAY['urban_mgmt', 'telecom', 'housing', 'water_supply', 'education', 'market_regulation', 'transport', 'health'])[1 + :n::bigint % 8], 'rule', 1 + :n::bigint % 40, '摆摊', now() + interval '1 day', now() + interval '2 days', now() + interval '14 days', now(), 0::smallint, lpad((:n::bigint % 1000000)::text, 6, '0'));
