-- Intake (issue #8): less work per POST /v1/cases, the hot path of a hotline.
--
-- Measured with case_create in a loop (1,000 calls, one session) before this migration, the
-- two row triggers fired by an intake cost about a quarter of it: case_facts_put (AFTER INSERT
-- on cases) and rule_counts_track (AFTER INSERT on case_events, for the 'create' row). A
-- PL/pgSQL row trigger pays its own call, a fresh record for NEW and one more statement, and the
-- create path knows everything those triggers compute. So case_create now writes the case's
-- facts and its rule's count itself, and the triggers fire only where they decide something:
-- case_facts on UPDATE (every action), rule_counts on a 'return' row. An INSERT into cases by
-- anything other than case_create still needs its facts: case_facts_drift() keeps counting any
-- difference, and the tests check it after every scenario.
--
-- The idempotency key is claimed with one statement instead of three: a key whose record
-- expired is taken over by the same INSERT (ON CONFLICT ... WHERE expired) instead of a DELETE
-- before it, and the claim already names the case (its id is drawn from the sequence first)
-- instead of an UPDATE storing the answer after it: the UPDATE rewrote a row with ~1 KB of
-- JSON and checked its foreign key. A replay now answers the case as it is at the replay
-- (same id, same number; a later action shows), rendered for the replaying user; a key
-- stored before this migration still replays its stored answer. The foreign key from the
-- key to its case is checked at commit, since the claim comes before the case row.
--
-- PostgreSQL 15 turns every CHECK constraint of a table back from its stored text into an
-- expression (stringToNode) once per INSERT or UPDATE statement, not once per session: on
-- `cases`, with 19 checks, that was about a tenth of the CPU of an intake under load (perf,
-- 16 connections), and every action's UPDATE pays it again. Fifteen of them only repeat what
-- core/case_input.c (lengths in characters, enums, coordinates, phone) and the action
-- functions (score, extension, routing method) already refuse before any SQL runs, for the
-- one writer these columns have. They go; the ones that keep the case state machine and its
-- department consistent (state, department by state, merged_into) stay.
--
-- Foreign keys from an intake's rows to users, departments and categories went the same way.
-- Each is a query per inserted row that also locks the parent row FOR KEY SHARE; every
-- concurrent intake of one operator, or to one department, locks the same row, and two such
-- lockers make a MultiXact. In pgbench (the intake transaction, 8 clients, A/B on one
-- cluster) dropping them gave 20-30% more intakes a second. What they protected against is
-- a parent row going away, which this product never does (users and departments are disabled,
-- categories too; codes never change): a trigger on each parent now refuses DELETE, TRUNCATE
-- and a change of the key, so the children stay referentially sound without a check per
-- insert. Values still come only from checked places: created_by and actor_id from the
-- authenticated user, department and category from the EXISTS checks of case_create and
-- case_dispatch. The foreign keys between cases, history, keys and marks stay.

ALTER TABLE cases
	DROP CONSTRAINT cases_channel_check, DROP CONSTRAINT cases_type_check,
	DROP CONSTRAINT cases_title_check, DROP CONSTRAINT cases_text_check,
	DROP CONSTRAINT cases_district_check, DROP CONSTRAINT cases_address_check,
	DROP CONSTRAINT cases_lat_check, DROP CONSTRAINT cases_lon_check,
	DROP CONSTRAINT cases_caller_name_check, DROP CONSTRAINT cases_caller_phone_check,
	DROP CONSTRAINT cases_answer_check, DROP CONSTRAINT cases_routing_method_check,
	DROP CONSTRAINT cases_visit_score_check, DROP CONSTRAINT cases_ext_state_check,
	DROP CONSTRAINT cases_ext_workdays_check;

ALTER TABLE cases DROP CONSTRAINT cases_created_by_fkey, DROP CONSTRAINT cases_category_fkey,
	DROP CONSTRAINT cases_department_fkey, DROP CONSTRAINT cases_last_department_fkey;
ALTER TABLE case_events DROP CONSTRAINT case_events_actor_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_user_id_fkey;
ALTER TABLE idempotency_keys ALTER CONSTRAINT idempotency_keys_case_id_fkey DEFERRABLE INITIALLY DEFERRED;

CREATE FUNCTION parent_row_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are disabled, never deleted or re-keyed: % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER users_kept BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER users_key_kept BEFORE UPDATE ON users FOR EACH ROW WHEN (OLD.id <> NEW.id)
	EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER users_kept_whole BEFORE TRUNCATE ON users EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER departments_kept BEFORE DELETE ON departments FOR EACH ROW EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER departments_key_kept BEFORE UPDATE ON departments FOR EACH ROW WHEN (OLD.code <> NEW.code)
	EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER departments_kept_whole BEFORE TRUNCATE ON departments EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER categories_kept BEFORE DELETE ON categories FOR EACH ROW EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER categories_key_kept BEFORE UPDATE ON categories FOR EACH ROW WHEN (OLD.code <> NEW.code)
	EXECUTE FUNCTION parent_row_kept();
CREATE TRIGGER categories_kept_whole BEFORE TRUNCATE ON categories EXECUTE FUNCTION parent_row_kept();

DROP TRIGGER cases_facts ON cases;
CREATE TRIGGER cases_facts AFTER UPDATE ON cases
	FOR EACH ROW EXECUTE FUNCTION case_facts_put();

DROP TRIGGER rule_counts_track ON case_events;
CREATE TRIGGER rule_counts_track AFTER INSERT ON case_events
	FOR EACH ROW WHEN (NEW.action = 'return') EXECUTE FUNCTION rule_counts_track();

CREATE OR REPLACE FUNCTION case_create(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                                       p_key text, p_input jsonb, p_state text,
                                       p_department text, p_method text, p_rule_id bigint, p_rule_name text,
                                       p_sign_by timestamptz, p_contact_by timestamptz, p_finish_by timestamptz,
                                       p_at timestamptz)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_hash text := md5(p_input::text);
	v_category text := p_input->>'category';
	v_id bigint;
	k idempotency_keys;
	c cases;
BEGIN
	-- references first, so that a refused create never holds its key
	IF v_category IS NOT NULL AND NOT EXISTS (SELECT 1 FROM categories WHERE code = v_category AND enabled) THEN
		RETURN QUERY SELECT 422, case_error('invalid_field', format('unknown category %s', v_category), 'category');
		RETURN;
	END IF;
	IF p_department IS NOT NULL AND NOT EXISTS (SELECT 1 FROM departments WHERE code = p_department AND enabled) THEN
		RETURN QUERY SELECT 422, case_error('invalid_field', format('unknown department %s', p_department),
		                                    'department');
		RETURN;
	END IF;

	v_id := nextval(pg_get_serial_sequence('cases', 'id'));
	IF p_key IS NOT NULL THEN
		-- a new key, or one whose record expired (the reaper had not deleted it yet)
		INSERT INTO idempotency_keys AS i (user_id, key, request_hash, response_status, case_id)
		VALUES (p_user_id, p_key, v_hash, 201, v_id)
		ON CONFLICT (user_id, key) DO UPDATE
		   SET request_hash = excluded.request_hash, response_status = 201, response_body = NULL,
		       case_id = excluded.case_id, created_at = excluded.created_at, expires_at = excluded.expires_at
		 WHERE i.expires_at < now();
		IF NOT FOUND THEN
			-- claimed before (a concurrent claimer waited above for its commit): replay or refuse
			SELECT * INTO k FROM idempotency_keys WHERE user_id = p_user_id AND key = p_key;
			IF k.request_hash <> v_hash THEN
				RETURN QUERY SELECT 422, case_error('idempotency_mismatch',
					'this Idempotency-Key was used with a different body');
			ELSE
				SELECT * INTO c FROM cases WHERE id = k.case_id;
				RETURN QUERY SELECT 200, coalesce(k.response_body, case_json(c, p_role, p_dept)::text);
			END IF;
			RETURN;
		END IF;
	END IF;

	INSERT INTO cases (id, created_at, number, created_by, channel, type, urgent, category, title, text, district, address,
	                   lat, lon, caller_name, caller_phone, caller_confidential, answer, state,
	                   department, last_department, routing_method, routing_rule_id, routing_rule_name,
	                   sign_by, contact_by, finish_by, dispatched_at, first_dispatched_at)
	VALUES (v_id, p_at, to_char(p_at, 'YYYYMMDD') || '-' || lpad((v_id % 1000000)::text, 6, '0'), p_user_id,
	        p_input->>'channel', p_input->>'type', coalesce((p_input->>'urgent')::boolean, false), v_category,
	        p_input->>'title', p_input->>'text', p_input->>'district', p_input->>'address',
	        (p_input->>'lat')::double precision, (p_input->>'lon')::double precision,
	        p_input#>>'{caller,name}', p_input#>>'{caller,phone}',
	        coalesce((p_input#>>'{caller,confidential}')::boolean, false), p_input->>'answer', p_state,
	        p_department, p_department, coalesce(p_method, 'none'), p_rule_id, p_rule_name,
	        p_sign_by, p_contact_by, p_finish_by,
	        CASE WHEN p_state = 'dispatched' THEN p_at END, CASE WHEN p_state = 'dispatched' THEN p_at END)
	RETURNING * INTO c;
	INSERT INTO case_facts SELECT (case_facts_of(c)).*;

	INSERT INTO case_events (case_id, actor_id, actor, role, action, from_state, to_state, data)
	VALUES (c.id, p_user_id, p_user_name, p_role, 'create', NULL, c.state,
	        jsonb_strip_nulls(jsonb_build_object('department', c.department, 'routing',
	                jsonb_build_object('method', c.routing_method, 'rule_id', c.routing_rule_id,
	                                   'rule_name', c.routing_rule_name)))
	        || jsonb_build_object('channel', c.channel));
	IF c.routing_method = 'rule' THEN
		PERFORM rule_counts_add(c.routing_rule_id, c.id, 1, 0);
	END IF;

	RETURN QUERY SELECT 201, case_json(c, p_role, p_dept)::text;
END $$;
