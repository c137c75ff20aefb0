-- The group commit's statement (server/db/batch.h): several POST /v1/cases in one transaction.
-- Built into the server as the C string intake_batch_sql (server/CMakeLists.txt) and sent on
-- the intake's own connections (server/main.c), which prepare it once and run its generic plan
-- (plan_cache_mode = force_generic_plan on those sessions only: left to choose, PostgreSQL
-- planned this statement anew for every batch, ~2 ms).
--
-- Parameter k is the array of the batch's values of case_create's parameter k (sql/015): user
-- id, name, role, department, Idempotency-Key, the case's input, its state, department, routing
-- method, rule id and name, the three deadlines, the instant the clocks start, the clocks
-- counting working days, the tracking code. No two calls of one statement share a user and
-- key: db/batch keeps them apart (a second one would make the key's INSERT fail, and the batch
-- be re-sent call by call).
--
-- Why a statement and not 023's function case_create_batch, which ran the same statement:
-- PL/pgSQL's call (its arguments, the SET of plan_cache_mode, RETURN QUERY's tuplestore read
-- again by the calling query) cost ~55 us a transaction of ~1,300, and 023's window and self
-- join for keys repeated in one batch ~70 more (bench/RESULTS.md, session 8).
--
-- Each call's answer is one row: status, body, then what PostgreSQL made of the created case or
-- prints its own way (id, number, lat, lon; NULL when refused), its tracking code, and the
-- call's 0-based index last: the server writes the rest of the case from what it sent
-- (api/cases.c, CreatedCase), which spared the statement its 60 columns, ~15 of them timestamps
-- formatted by case_ts (~50 us a transaction; bench/RESULTS.md, session 8). status 422 with
-- the refusal as body; 201 with the case.
--
-- A rule's dispatch is no longer counted here: the sweeper folds the counts in from the create
-- events (sql/025), which spared the statement an upsert (~37 us a transaction; session 9).
-- Everything else is 023's: the same checks, locks taken in the same order, rows written.
WITH i AS MATERIALIZED ( -- once: the refusal is read by n's id and by the answer
	SELECT x.*, md5(x.input::text) AS hash,
	       CASE WHEN x.input->>'category' IS NOT NULL AND NOT EXISTS (
	                 SELECT 1 FROM categories g WHERE g.code = x.input->>'category' AND g.enabled)
	            THEN case_error('invalid_field', format('unknown category %s', x.input->>'category'), 'category')
	            WHEN x.department IS NOT NULL AND x.department <> ALL (ARRAY( -- once a statement,
	                 SELECT d.code FROM departments d WHERE d.enabled)) -- not a probe a case
	            THEN case_error('invalid_field', format('unknown department %s', x.department), 'department')
	            WHEN x.input->>'kb' IS NOT NULL AND NOT EXISTS (
	                 SELECT 1 FROM kb_articles b WHERE b.id = (x.input->>'kb')::bigint AND b.enabled)
	            THEN case_error('invalid_field', format('no enabled knowledge-base article %s', x.input->>'kb'),
	                            'kb')
	       END AS refusal
	  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[],
	              $8::text[], $9::text[], $10::bigint[], $11::text[], $12::timestamptz[], $13::timestamptz[],
	              $14::timestamptz[], $15::timestamptz[], $16::smallint[], $17::text[])
	       WITH ORDINALITY AS x(user_id, user_name, role, dept, key, input, state, department,
	                            method, rule_id, rule_name, sign_by, contact_by, finish_by, at, clock_workdays,
	                            track_code, ord)),
-- each case not refused: its id and number
n AS (
	SELECT ids.*, to_char(ids.at, 'YYYYMMDD') || '-' || lpad((ids.id % 1000000)::text, 6, '0') AS number
	  FROM (SELECT i.*, CASE WHEN i.refusal IS NULL THEN nextval('cases_id_seq'::regclass) END AS id
	          FROM i) AS ids),
-- the keys: a plain INSERT, no ON CONFLICT. A key claimed already (a retry of a request that
-- committed, a record expired that the reaper has not deleted yet, or another transaction that
-- claims it now) makes the statement fail with unique_violation, and db/batch sends each call
-- again alone, through case_create, which replays, refuses or creates it from the key as
-- committed then. That is rare, and ON CONFLICT's check before every insert cost ~28 us a
-- transaction of ~1,100 (bench/RESULTS.md, session 9). In the order of the keys, so that two
-- transactions wait for each other's keys in one order only.
claim AS (
	INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, case_id, track_code)
	SELECT n.user_id, n.key, n.hash, 201, n.id, n.track_code FROM n
	 WHERE n.key IS NOT NULL AND n.id IS NOT NULL
	 ORDER BY n.user_id, n.key),
-- the cases: what the others need straight from RETURNING, never read back from the table (in
-- a generic plan made when the table was small, a join back to it became a scan of the whole
-- table). As columns, not as the row c whole: each field of a whole row read later is found
-- by walking its ~60 columns again (8 fields for the history, 22 for the facts): +2.9% cases/s
-- (bench/RESULTS.md, session 8). The facts' columns are case_facts_of(c) expanded, which
-- PostgreSQL inlines into plain columns of c (a facts row built here and taken apart again by
-- its 22 fields cost ~1% more; session 9); the case's id, department and channel are among
-- them (case_id, and for a new case department = last_department).
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
	 WHERE n.id IS NOT NULL
	 ORDER BY n.id
	RETURNING (case_facts_of(c)).*, c.number, c.lat, c.lon, c.state, c.kb, c.routing_method,
	          c.routing_rule_id, c.routing_rule_name),
facts AS (
	INSERT INTO case_facts
	SELECT case_id, created_at, department, district, category, type, channel, answered, dispatched,
	       signed_on_time, contacted_on_time, replied, replied_on_time, score, resolved, returned,
	       reopened, next_deadline, declined, suspended, bad, rectified_on_time
	  FROM made),
history AS (
	INSERT INTO case_events (case_id, actor_id, actor, role, action, from_state, to_state, data)
	SELECT made.case_id, n.user_id, n.user_name, n.role, 'create', NULL, made.state,
	       -- 015's data: its channel, never NULL, joined here in the object stripped of NULLs
	       -- rather than as an object of its own concatenated after it (the same jsonb)
	       jsonb_strip_nulls(jsonb_build_object('department', made.department, 'kb', made.kb,
	               'channel', made.channel, 'routing',
	               jsonb_build_object('method', made.routing_method, 'rule_id', made.routing_rule_id,
	                                  'rule_name', made.routing_rule_name)))
	       || coalesce(n.input->'history', '{}')
	  FROM made JOIN n ON n.id = made.case_id
	 ORDER BY made.case_id)
SELECT CASE WHEN n.refusal IS NOT NULL THEN 422 ELSE 201 END AS status,
       n.refusal AS body,
       x.case_id, x.number, x.lat, x.lon, n.track_code, n.ord::integer - 1
  FROM n
  LEFT JOIN made x ON x.case_id = n.id
