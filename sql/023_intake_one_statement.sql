-- Intake at the limit, third step (issue #19): the group commit's function is one statement.
--
-- Measured in one session (bench/RESULTS.md, session 7), backend CPU of a call: 022's function
-- 1,470 us for 8 cases and 800 us for one; this one 1,360 and 710. Two things went:
--   - the refusal checks ran three times for every case: `i` was inlined into each place that
--     reads `refusal` (the window's FILTER, its CASE, the id's CASE), with its three EXISTS
--     subplans copied each time (nine subplans to set up, each building a hash of its table).
--     `i` is MATERIALIZED now: each check once per case;
--   - the statement's answer went through four arrays (aggregated in order, then unnested by
--     a second statement) so that a third statement could look up keys claimed before the
--     batch. Now the statement answers each case's row itself, the case's columns straight
--     from the INSERT's RETURNING (never read back from the table: see 022's generic-plan
--     hazard).
-- A key claimed before the batch (a retry of a request that committed, or a race with another
-- transaction claiming the same key) is answered with a NULL status and no case: its answer
-- depends on a commit this statement's snapshot may not see. The server sends such a call
-- again alone (server/db/batch.c), through case_create, which replays or refuses it from the
-- key as committed then, as 022's second statement did. Everything else is 022's: the same
-- checks, locks in the same order, rows written and answers.

CREATE OR REPLACE FUNCTION case_create_batch(p_user_id bigint[], p_user_name text[], p_role text[], p_dept text[],
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
BEGIN
	-- each case's answer: its status, and its refusal or the columns of its case
	RETURN QUERY
	WITH i AS MATERIALIZED ( -- once: the refusal is read in three places below
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
		RETURNING c AS c, c.*),
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
		ON CONFLICT (rule_id, shard) DO UPDATE SET dispatched = k.dispatched + excluded.dispatched)
	-- the case each one created, or its lead created (none: its key was claimed before, status
	-- NULL); with its lead's hash and tracking code
	SELECT CASE WHEN n.refusal IS NOT NULL THEN 422
	            WHEN x.id IS NULL THEN NULL
	            WHEN n.key IS NULL OR n.lead = n.ord THEN 201
	            WHEN l.hash = n.hash THEN 200
	            ELSE 422 END AS status,
	       CASE WHEN n.refusal IS NOT NULL THEN n.refusal
	            WHEN x.id IS NOT NULL AND n.key IS NOT NULL AND n.lead <> n.ord AND l.hash <> n.hash
	            THEN case_error('idempotency_mismatch', 'this Idempotency-Key was used with a different body') END AS body,
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
	       coalesce(l.track_code, n.track_code), n.ord::integer - 1
	  FROM n
	  LEFT JOIN n AS l ON l.ord = n.lead
	  LEFT JOIN made x ON x.id = coalesce(n.id, l.id);
END $$;
