-- Set-based group commit of intakes (issue #19): case_create_batch no longer calls case_create
-- once per case inside its transaction; it takes the whole batch in one statement:
--   - every case's category and department checked (the 422s of case_create), every body
--     hashed, the new cases' ids drawn;
--   - one INSERT ... ON CONFLICT claims the Idempotency-Keys of the batch, in key order;
--   - one INSERT per table from the batch's arrays: the cases, their report facts, their
--     `create` history rows, and the rule counts (one row per rule);
--   - every case's answer: 201 (created), 200 (replayed within the batch), 422 (refused).
-- Only when a key was claimed before the batch does a second statement read it, with its
-- case, to answer the replay (200) or refuse it (422). A batch costs one plan, one executor
-- start and one set of locks instead of some twenty statements per case.
--
-- Every case still gets the answer case_create gives it alone, in the batch's order:
--   - a body naming a disabled or unknown category or department: 422 invalid_field, nothing
--     written, its key not claimed;
--   - the same (user, key) twice in one batch: the first case (in the batch's order, of those
--     not refused) claims the key and is created (201); a later one with the same body is its
--     replay (200, the same case), with another body 422 idempotency_mismatch. One statement
--     cannot update a key twice, hence only the first one is claimed;
--   - a key claimed before (committed, or by a concurrent transaction that then commits: the
--     claim waits for it, as case_create's does): replayed or refused from the stored row by the
--     second statement, whose new snapshot sees the other transaction's key and case;
--   - a key whose record expired is taken over, as in case_create.
-- If anything raises, nothing of the batch commits and the server sends each case again alone
-- through case_create (server/db/batch.c). As 015's case_create: the `create` history row takes
-- the body's "history" object (013: what a channel such as Open311 sent that a case has no column
-- for), a dispatched case keeps the kind of its clocks (p_clock_workdays, 014), a body's "kb" must
-- name an enabled article (else 422 kb) and is stored, and the tracking code (p_track_code, 015)
-- is stored hashed, kept with the key, and answered after the case's last key, on replays too.
--
-- Locks, so that two batches (or a batch and a lone case_create) never wait in a circle: the
-- keys are claimed first, all of them (the cases' INSERT reads the claim's whole answer before
-- its first row), in (user_id, key) order; the rule counts last, in rule order (one row per rule:
-- the shard of the connection, as 011 explains); case_create takes at most one of each in the
-- same order (key, then count).
--
-- The function runs with generic plans: custom plans (PostgreSQL's choice for the first five
-- calls, and after, when it cannot tell them apart) planned its statement again on every call,
-- about 0.2 ms of a batch of 8 (measured in one session).

CREATE OR REPLACE FUNCTION case_create_batch(p_user_id bigint[], p_user_name text[], p_role text[], p_dept text[],
                                             p_key text[], p_input jsonb[], p_state text[],
                                             p_department text[], p_method text[], p_rule_id bigint[],
                                             p_rule_name text[], p_sign_by timestamptz[], p_contact_by timestamptz[],
                                             p_finish_by timestamptz[], p_at timestamptz[],
                                             p_clock_workdays smallint[], p_track_code text[])
RETURNS TABLE(status integer, body text, item integer)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	v_seq regclass := pg_get_serial_sequence('cases', 'id');
	v_status integer[]; -- per case, in the batch's order; NULL: a replay of a key claimed before
	v_body text[];
BEGIN
	WITH i AS (
		SELECT x.*, md5(x.input::text) AS hash,
		       CASE WHEN x.input->>'category' IS NOT NULL AND NOT EXISTS (
		                 SELECT 1 FROM categories WHERE code = x.input->>'category' AND enabled)
		            THEN case_error('invalid_field', format('unknown category %s', x.input->>'category'), 'category')
		            WHEN x.department IS NOT NULL AND NOT EXISTS (
		                 SELECT 1 FROM departments WHERE code = x.department AND enabled)
		            THEN case_error('invalid_field', format('unknown department %s', x.department), 'department')
		            WHEN x.input->>'kb' IS NOT NULL AND NOT EXISTS (
		                 SELECT 1 FROM kb_articles WHERE id = (x.input->>'kb')::bigint AND enabled)
		            THEN case_error('invalid_field', format('no enabled knowledge-base article %s', x.input->>'kb'),
		                            'kb')
		       END AS refusal
		  FROM unnest(p_user_id, p_user_name, p_role, p_dept, p_key, p_input, p_state, p_department,
		              p_method, p_rule_id, p_rule_name, p_sign_by, p_contact_by, p_finish_by, p_at, p_clock_workdays,
		              p_track_code)
		       WITH ORDINALITY AS x(user_id, user_name, role, dept, key, input, state, department,
		                            method, rule_id, rule_name, sign_by, contact_by, finish_by, at, clock_workdays,
		                            track_code, ord)),
	-- lead: of the cases not refused with the same user and key, the first
	led AS (
		SELECT i.*, CASE WHEN i.refusal IS NULL AND i.key IS NOT NULL
		                 THEN min(i.ord) FILTER (WHERE i.refusal IS NULL) OVER (PARTITION BY i.user_id, i.key)
		            END AS lead
		  FROM i),
	-- id: the case it creates, if it is not refused and has no key or leads its key
	ids AS (
		SELECT led.*, CASE WHEN led.refusal IS NULL AND coalesce(led.lead = led.ord, true) THEN nextval(v_seq) END AS id
		  FROM led),
	-- and its number
	n AS (
		SELECT ids.*, to_char(ids.at, 'YYYYMMDD') || '-' || lpad((ids.id % 1000000)::text, 6, '0') AS number
		  FROM ids),
	-- new keys, or ones whose record expired (the reaper had not deleted them yet)
	claim AS (
		INSERT INTO idempotency_keys AS k (user_id, key, request_hash, response_status, case_id, track_code)
		SELECT n.user_id, n.key, n.hash, 201, n.id, n.track_code FROM n
		 WHERE n.key IS NOT NULL AND n.id IS NOT NULL
		 ORDER BY n.user_id, n.key
		ON CONFLICT (user_id, key) DO UPDATE
		   SET request_hash = excluded.request_hash, response_status = 201, response_body = NULL,
		       case_id = excluded.case_id, created_at = excluded.created_at, expires_at = excluded.expires_at,
		       track_code = excluded.track_code
		 WHERE k.expires_at < now()
		RETURNING k.case_id),
	made AS (
		INSERT INTO cases AS c (id, created_at, number, created_by, channel, type, urgent, category, title, text,
		                        district, address, lat, lon, caller_name, caller_phone, caller_confidential, answer,
		                        state, department, last_department, routing_method, routing_rule_id,
		                        routing_rule_name, sign_by, contact_by, finish_by, dispatched_at, first_dispatched_at,
		                        clock_workdays, track_hash, kb)
		SELECT n.id, n.at, n.number, n.user_id,
		       n.input->>'channel', n.input->>'type', coalesce((n.input->>'urgent')::boolean, false),
		       n.input->>'category', n.input->>'title', n.input->>'text', n.input->>'district',
		       n.input->>'address', (n.input->>'lat')::double precision, (n.input->>'lon')::double precision,
		       n.input#>>'{caller,name}', n.input#>>'{caller,phone}',
		       coalesce((n.input#>>'{caller,confidential}')::boolean, false), n.input->>'answer', n.state,
		       n.department, n.department, coalesce(n.method, 'none'), n.rule_id, n.rule_name,
		       n.sign_by, n.contact_by, n.finish_by,
		       CASE WHEN n.state = 'dispatched' THEN n.at END, CASE WHEN n.state = 'dispatched' THEN n.at END,
		       CASE WHEN n.state = 'dispatched' THEN n.clock_workdays END,
		       CASE WHEN n.track_code IS NOT NULL THEN case_track_hash(n.number, n.track_code) END,
		       (n.input->>'kb')::bigint
		  FROM n
		 WHERE n.id IS NOT NULL AND (n.key IS NULL OR n.id IN (SELECT claim.case_id FROM claim))
		 ORDER BY n.id
		RETURNING c AS c),
	facts AS (
		INSERT INTO case_facts SELECT (case_facts_of(made.c)).* FROM made),
	history AS (
		INSERT INTO case_events (case_id, actor_id, actor, role, action, from_state, to_state, data)
		SELECT (made.c).id, n.user_id, n.user_name, n.role, 'create', NULL, (made.c).state,
		       jsonb_strip_nulls(jsonb_build_object('department', (made.c).department, 'kb', (made.c).kb, 'routing',
		               jsonb_build_object('method', (made.c).routing_method, 'rule_id', (made.c).routing_rule_id,
		                                  'rule_name', (made.c).routing_rule_name)))
		       || jsonb_build_object('channel', (made.c).channel) || coalesce(n.input->'history', '{}')
		  FROM made JOIN n ON n.id = (made.c).id
		 ORDER BY (made.c).id),
	counts AS (
		INSERT INTO rule_counts AS k (rule_id, shard, dispatched, returned)
		SELECT (made.c).routing_rule_id, pg_backend_pid() % 16, count(*), 0
		  FROM made WHERE (made.c).routing_method = 'rule'
		 GROUP BY (made.c).routing_rule_id ORDER BY (made.c).routing_rule_id
		ON CONFLICT (rule_id, shard) DO UPDATE SET dispatched = k.dispatched + excluded.dispatched),
	rendered AS (
		SELECT (made.c).id, case_with_track_code(case_json(made.c, n.role, n.dept)::text, n.track_code) AS body
		  FROM made JOIN n ON n.id = (made.c).id),
	-- the case each one created, or its lead created; its lead's hash
	a AS (
		SELECT n.ord, n.refusal, n.key, n.lead, n.hash, l.hash AS lead_hash, r.body AS made_body
		  FROM n
		  LEFT JOIN n AS l ON l.ord = n.lead
		  LEFT JOIN rendered r ON r.id = coalesce(n.id, l.id))
	SELECT array_agg(CASE WHEN a.refusal IS NOT NULL THEN 422
	                      WHEN a.made_body IS NULL THEN NULL
	                      WHEN a.key IS NULL OR a.lead = a.ord THEN 201
	                      WHEN a.lead_hash = a.hash THEN 200
	                      ELSE 422 END ORDER BY a.ord),
	       array_agg(CASE WHEN a.refusal IS NOT NULL THEN a.refusal
	                      WHEN a.made_body IS NULL THEN NULL
	                      WHEN a.key IS NULL OR a.lead = a.ord OR a.lead_hash = a.hash THEN a.made_body
	                      ELSE case_error('idempotency_mismatch', 'this Idempotency-Key was used with a different body')
	                 END ORDER BY a.ord)
	  INTO v_status, v_body
	  FROM a;

	IF array_position(v_status, NULL) IS NULL THEN
		RETURN QUERY SELECT x.status, x.body, x.ord::integer - 1
		               FROM unnest(v_status, v_body) WITH ORDINALITY AS x(status, body, ord);
		RETURN;
	END IF;
	-- keys claimed before this batch: replay or refuse, from the key and its case as committed now
	RETURN QUERY
	SELECT coalesce(x.status, CASE WHEN k.user_id IS NULL THEN 500
	                               WHEN k.request_hash = md5(y.input::text) THEN 200 ELSE 422 END),
	       coalesce(x.body, CASE WHEN k.user_id IS NULL
	                             THEN case_error('internal', 'the Idempotency-Key vanished during its replay')
	                             WHEN k.request_hash = md5(y.input::text)
	                             THEN coalesce(k.response_body, case_with_track_code(case_json(kc, y.role, y.dept)::text, k.track_code))
	                             ELSE case_error('idempotency_mismatch',
	                                             'this Idempotency-Key was used with a different body') END),
	       x.ord::integer - 1
	  FROM unnest(v_status, v_body) WITH ORDINALITY AS x(status, body, ord)
	  JOIN unnest(p_user_id, p_role, p_dept, p_key, p_input) WITH ORDINALITY AS y(user_id, role, dept, key, input, ord)
	    ON y.ord = x.ord
	  LEFT JOIN idempotency_keys k ON x.status IS NULL AND k.user_id = y.user_id AND k.key = y.key
	  LEFT JOIN cases kc ON kc.id = k.case_id;
END $$;
