-- Intake at the limit, second step (issue #19): the group commit's statement does less per case.
--
-- Measured in one session (pg_stat_statements, batches of 8, bench/RESULTS.md): 020's statement
-- took 1.23 ms a batch where a bare INSERT of the same 8 case rows takes 0.37 ms. Of the
-- difference, ~0.32 ms was the answer, a JSON object per case built by case_json and
-- case_with_track_code, SQL functions that PostgreSQL parses and plans again on every
-- statement (they are not inlined) and whose json_build_object calls are slow; ~0.23 ms the
-- other rows (keys, facts, history, rule counts), which stay; the rest the statement's
-- machinery. Now:
--   - case_create_batch answers a created case (and its replays within the batch) with the
--     case's columns, as case_inbox_page does, and the server writes the JSON object from them
--     (server/core/case_render.c, the inbox's writer): body is NULL on those rows. A refusal
--     still has its error as body, and a key claimed before the batch its stored answer
--     (response_body) when it has one, else NULL and the columns of its case;
--   - the first statement gathers each case's status, its refusal and the row of the case it
--     shows (an array of cases, from the INSERT's RETURNING: the answer reads no table); only
--     when a key was claimed before the batch does a second statement read it and its case, as
--     020's did (a new snapshot sees the other transaction's key). A statement that read the new
--     cases back from the table would run with the generic plan made when the table was empty:
--     a hash join over every case, measured at 136 cases a second;
--   - case_track_hash is STABLE: convert_to is, and an IMMUTABLE SQL function calling a
--     STABLE one is never inlined, so it ran as a function of its own, planned per statement.
-- Everything else is 020's: the same checks, locks in the same order, the same rows written, the
-- same answers in the same cases (its header explains them).
--
-- The columns after (status, body) are case_inbox_page's up to `version` (case_json's key
-- order), then the tracking code to add to the object: the case's own for a created one, its
-- lead's for a replay within the batch, the stored key's for a replay of a key claimed before.

CREATE OR REPLACE FUNCTION case_track_hash(p_number text, p_code text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT sha256(convert_to(p_number || ':' || coalesce(p_code, ''), 'UTF8'))
$$;

DROP FUNCTION case_create_batch(bigint[], text[], text[], text[], text[], jsonb[], text[], text[], text[],
                                bigint[], text[], timestamptz[], timestamptz[], timestamptz[], timestamptz[],
                                smallint[], text[]);

CREATE FUNCTION case_create_batch(p_user_id bigint[], p_user_name text[], p_role text[], p_dept text[],
                                  p_key text[], p_input jsonb[], p_state text[],
                                  p_department text[], p_method text[], p_rule_id bigint[],
                                  p_rule_name text[], p_sign_by timestamptz[], p_contact_by timestamptz[],
                                  p_finish_by timestamptz[], p_at timestamptz[],
                                  p_clock_workdays smallint[], p_track_code text[])
RETURNS TABLE(status integer, body text,
              id bigint, number text, created_at text, channel text, type text, urgent boolean,
              category text, title text, text text, district text, address text,
              lat double precision, lon double precision,
              caller_name text, caller_phone text, caller_confidential boolean,
              department text, routing_method text, routing_rule_id bigint, routing_rule_name text,
              state text, sign_by text, contact_by text, finish_by text, overdue boolean,
              dispatched_at text, signed_at text, contacted_at text, replied_at text,
              visited_at text, closed_at text, answer text, kb bigint,
              reply_text text, reply_resolved boolean,
              visit_score smallint, visit_resolved boolean, visit_comment text,
              ext_state text, ext_workdays smallint, ext_reason text, ext_requested_at text,
              ext_decided_at text, returns integer, reopened integer, merged_into bigint,
              co text, suspended_since text, suspended_reason text, suspended_from text, sent_back integer,
              declined_reason text, declined_note text, version integer,
              track_code text, item integer)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	v_seq regclass := pg_get_serial_sequence('cases', 'id');
	v_status integer[]; -- per case, in the batch's order; NULL: a replay of a key claimed before
	v_body text[];      -- its answer when that is not a case: a refusal (or a key's stored answer)
	v_case cases[];     -- the case its answer shows: created by it, or by its lead (or the key's)
	v_code text[];      -- the tracking code of that case
BEGIN
	WITH i AS (
		SELECT x.*, md5(x.input::text) AS hash,
		       CASE WHEN x.input->>'category' IS NOT NULL AND NOT EXISTS (
		                 SELECT 1 FROM categories g WHERE g.code = x.input->>'category' AND g.enabled)
		            THEN case_error('invalid_field', format('unknown category %s', x.input->>'category'), 'category')
		            WHEN x.department IS NOT NULL AND NOT EXISTS (
		                 SELECT 1 FROM departments d WHERE d.code = x.department AND d.enabled)
		            THEN case_error('invalid_field', format('unknown department %s', x.department), 'department')
		            WHEN x.input->>'kb' IS NOT NULL AND NOT EXISTS (
		                 SELECT 1 FROM kb_articles b WHERE b.id = (x.input->>'kb')::bigint AND b.enabled)
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
	-- the case each one created, or its lead created (NULL: its key was claimed before); its
	-- lead's hash and tracking code
	a AS (
		SELECT n.ord, n.refusal, n.key, n.lead, n.hash, l.hash AS lead_hash,
		       coalesce(l.track_code, n.track_code) AS code, made.c
		  FROM n
		  LEFT JOIN n AS l ON l.ord = n.lead
		  LEFT JOIN made ON (made.c).id = coalesce(n.id, l.id))
	SELECT array_agg(CASE WHEN a.refusal IS NOT NULL THEN 422
	                      WHEN (a.c).id IS NULL THEN NULL
	                      WHEN a.key IS NULL OR a.lead = a.ord THEN 201
	                      WHEN a.lead_hash = a.hash THEN 200
	                      ELSE 422 END ORDER BY a.ord),
	       array_agg(CASE WHEN a.refusal IS NOT NULL THEN a.refusal
	                      WHEN (a.c).id IS NOT NULL AND a.key IS NOT NULL AND a.lead <> a.ord AND a.lead_hash <> a.hash
	                      THEN case_error('idempotency_mismatch', 'this Idempotency-Key was used with a different body')
	                 END ORDER BY a.ord),
	       array_agg(CASE WHEN a.refusal IS NULL AND (a.key IS NULL OR a.lead = a.ord OR a.lead_hash = a.hash)
	                      THEN a.c END ORDER BY a.ord),
	       array_agg(a.code ORDER BY a.ord)
	  INTO v_status, v_body, v_case, v_code
	  FROM a;

	IF array_position(v_status, NULL) IS NOT NULL THEN
		-- keys claimed before this batch: replay or refuse, from the key and its case as committed now
		SELECT array_agg(coalesce(r.status, CASE WHEN k.user_id IS NULL THEN 500
		                                         WHEN k.request_hash = md5(y.input::text) THEN 200 ELSE 422 END)
		                 ORDER BY r.ord),
		       array_agg(CASE WHEN r.status IS NOT NULL THEN r.body
		                      WHEN k.user_id IS NULL
		                      THEN case_error('internal', 'the Idempotency-Key vanished during its replay')
		                      WHEN k.request_hash <> md5(y.input::text)
		                      THEN case_error('idempotency_mismatch', 'this Idempotency-Key was used with a different body')
		                      ELSE k.response_body END ORDER BY r.ord),
		       array_agg(CASE WHEN r.status IS NOT NULL THEN v_case[r.ord]
		                      WHEN k.request_hash = md5(y.input::text) AND k.response_body IS NULL
		                      THEN (SELECT kc FROM cases kc WHERE kc.id = k.case_id) END ORDER BY r.ord),
		       array_agg(CASE WHEN r.status IS NOT NULL THEN r.code ELSE k.track_code END ORDER BY r.ord)
		  INTO v_status, v_body, v_case, v_code
		  FROM unnest(v_status, v_body, v_code) WITH ORDINALITY AS r(status, body, code, ord)
		  JOIN unnest(p_user_id, p_key, p_input) WITH ORDINALITY AS y(user_id, key, input, ord) ON y.ord = r.ord
		  -- one key at a time (LIMIT 1 keeps the subquery a lookup by primary key): joined as a
		  -- table, its generic plan hashed the whole of idempotency_keys
		  LEFT JOIN LATERAL (SELECT * FROM idempotency_keys k
		                      WHERE r.status IS NULL AND k.user_id = y.user_id AND k.key = y.key LIMIT 1) k ON true;
	END IF;

	-- each case's answer: its status, and its body or the columns of its case
	RETURN QUERY
	SELECT r.status, r.body,
	       x.id, x.number, case_ts(x.created_at), x.channel, x.type, x.urgent,
	       x.category, x.title, x.text, x.district, x.address, x.lat, x.lon,
	       x.caller_name, x.caller_phone, x.caller_confidential,
	       x.department, x.routing_method, x.routing_rule_id, x.routing_rule_name,
	       x.state, case_ts(x.sign_by), case_ts(x.contact_by), case_ts(x.finish_by), x.next_deadline < now(),
	       case_ts(x.dispatched_at), case_ts(x.signed_at), case_ts(x.contacted_at), case_ts(x.replied_at),
	       case_ts(x.visited_at), case_ts(x.closed_at), x.answer, x.kb,
	       x.reply_text, x.reply_resolved,
	       x.visit_score, x.visit_resolved, x.visit_comment,
	       x.ext_state, x.ext_workdays, x.ext_reason, case_ts(x.ext_requested_at),
	       case_ts(x.ext_decided_at), x.returns, x.reopened, x.merged_into,
	       CASE WHEN x.co = '[]' THEN '[]' ELSE case_co_json(x.co)::text END,
	       case_ts(x.suspended_since), x.suspended_reason, x.suspended_from, x.sent_back,
	       x.declined_reason, x.declined_note, x.version,
	       r.code, r.ord::integer - 1
	  FROM unnest(v_status, v_body, v_code) WITH ORDINALITY AS r(status, body, code, ord)
	  JOIN unnest(v_case) WITH ORDINALITY AS x ON x.ordinality = r.ord;
END $$;
