-- The handling loop (API.md sections 9-12): co-handling (主办/协办), suspension (挂起), centre
-- review of replies (审核报结), declining (不予受理); and the facts the assessment reads.
--
-- New case columns:
--   co              [{"department", "state": open|done, "text", "at"}] in the dispatch's order;
--                   '[]' when none. "at" is stored as timestamptz text and rendered by case_co_json.
--   clock_workdays  which clocks of the current cycle count working days (bit 1 sign, 2 contact,
--                   4 finish; the others are calendar time): a resume moves each by its kind.
--                   NULL: not recorded (cases from before this migration); the server then
--                   takes the kinds of the policy in force.
--   suspended_*     the current suspension (NULL unless state = 'suspended'); suspensions counts them.
--   review_from     the state a reply under review came from (NULL unless state = 'reviewing').
--   sent_back       replies the centre sent back (退回重办).
--   declined_*      why the case was declined (NULL unless it was).
--   bad_visits      visits scoring 1-2 (差评).
--   rectified_on_time  the first reply after a reopening, by its rectification finish_by
--                   (NULL: no such reply yet).
--
-- Reports (007's case_facts) gain declined, suspended (at least once), bad (at least one bad
-- visit) and rectified_on_time. A reply waiting for review, or sent back, is not a reply there:
-- first_replied_at and replied_on_time are set when a reply counts (at once without review,
-- on approval with it), from replied_at, the department's own time.
--
-- Every action function keeps 005's shape: lock the row, one guarded UPDATE, explain a refusal,
-- record the history row. Functions whose parameters change are dropped and created again.

ALTER TABLE cases
	ADD COLUMN co jsonb NOT NULL DEFAULT '[]',
	ADD COLUMN clock_workdays smallint,
	ADD COLUMN suspended_since timestamptz,
	ADD COLUMN suspended_reason text,
	ADD COLUMN suspended_from text,
	ADD COLUMN suspensions integer NOT NULL DEFAULT 0,
	ADD COLUMN review_from text,
	ADD COLUMN sent_back integer NOT NULL DEFAULT 0,
	ADD COLUMN declined_reason text,
	ADD COLUMN declined_note text,
	ADD COLUMN bad_visits integer NOT NULL DEFAULT 0,
	ADD COLUMN rectified_on_time boolean;

ALTER TABLE cases DROP CONSTRAINT cases_state_check,
	ADD CONSTRAINT cases_state_check CHECK (state IN ('pending', 'dispatched', 'accepted', 'replied', 'reopened',
	                                                 'answered', 'closed', 'merged', 'suspended', 'reviewing')),
	DROP CONSTRAINT cases_check,
	ADD CONSTRAINT cases_check CHECK (state NOT IN ('dispatched', 'accepted', 'replied', 'reopened', 'suspended',
	                                               'reviewing') OR department IS NOT NULL);

-- The inbox holds suspended cases too (last: no clock runs); co-departments find theirs by GIN.
CREATE INDEX cases_inbox_held ON cases (department, next_deadline, id)
	WHERE state IN ('dispatched', 'accepted', 'reopened', 'suspended');
DROP INDEX cases_inbox;
CREATE INDEX cases_co ON cases USING gin (co jsonb_path_ops) WHERE co <> '[]';

-- The co list as the case shows it, in dispatch order.
CREATE FUNCTION case_co_json(p_co jsonb) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT coalesce(json_agg(json_build_object('department', e->>'department', 'state', e->>'state',
	                                           'text', e->>'text', 'at', case_ts((e->>'at')::timestamptz))
	                         ORDER BY t.ord), '[]')
	  FROM jsonb_array_elements(p_co) WITH ORDINALITY AS t(e, ord)
$$;

-- The containment pattern of a department's entry, for `co @> case_co_entry(dept)`.
CREATE FUNCTION case_co_entry(p_dept text, p_state text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_array(CASE WHEN p_state IS NULL THEN jsonb_build_object('department', p_dept)
	                              ELSE jsonb_build_object('department', p_dept, 'state', p_state) END)
$$;

-- 005's case_json plus co, suspended, sent_back and declined (after merged_into).
CREATE OR REPLACE FUNCTION case_json(c cases, p_role text, p_dept text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', c.id,
		'number', c.number,
		'created_at', case_ts(c.created_at),
		'channel', c.channel,
		'type', c.type,
		'urgent', c.urgent,
		'category', c.category,
		'title', c.title,
		'text', c.text,
		'district', c.district,
		'address', c.address,
		'lat', c.lat,
		'lon', c.lon,
		'caller', CASE WHEN p_role = 'department' AND c.caller_confidential
		               THEN json_build_object('confidential', true)
		               ELSE json_build_object('name', c.caller_name, 'phone', c.caller_phone,
		                                      'confidential', c.caller_confidential) END,
		'department', c.department,
		'routing', json_build_object('method', c.routing_method, 'rule_id', c.routing_rule_id,
		                             'rule_name', c.routing_rule_name),
		'state', c.state,
		'deadlines', json_build_object('sign_by', case_ts(c.sign_by), 'contact_by', case_ts(c.contact_by),
		                               'finish_by', case_ts(c.finish_by)),
		'overdue', c.next_deadline < now(),
		'timestamps', json_build_object('dispatched_at', case_ts(c.dispatched_at),
		                                'signed_at', case_ts(c.signed_at),
		                                'contacted_at', case_ts(c.contacted_at),
		                                'replied_at', case_ts(c.replied_at),
		                                'visited_at', case_ts(c.visited_at),
		                                'closed_at', case_ts(c.closed_at)),
		'answer', c.answer,
		'reply', CASE WHEN c.reply_text IS NOT NULL
		              THEN json_build_object('text', c.reply_text, 'resolved', c.reply_resolved) END,
		'satisfaction', CASE WHEN c.visit_score IS NOT NULL
		                     THEN json_build_object('score', c.visit_score, 'resolved', c.visit_resolved,
		                                            'comment', c.visit_comment) END,
		'extension', CASE WHEN c.ext_state IS NOT NULL
		                  THEN json_build_object('state', c.ext_state, 'workdays', c.ext_workdays,
		                                         'reason', c.ext_reason,
		                                         'requested_at', case_ts(c.ext_requested_at),
		                                         'decided_at', case_ts(c.ext_decided_at)) END,
		'returns', c.returns,
		'reopened', c.reopened,
		'merged_into', c.merged_into,
		'co', case_co_json(c.co),
		'suspended', CASE WHEN c.state = 'suspended'
		                  THEN json_build_object('since', case_ts(c.suspended_since), 'reason', c.suspended_reason,
		                                         'from', c.suspended_from) END,
		'sent_back', c.sent_back,
		'declined', CASE WHEN c.declined_reason IS NOT NULL
		                 THEN json_build_object('reason', c.declined_reason, 'note', c.declined_note) END,
		'version', c.version)
$$;

-- ---------------------------------------------------------------------------------------------
-- Reading: a co-department reads the case and its events, and lists it.

CREATE OR REPLACE FUNCTION case_read_refusal(b cases, p_id bigint, p_role text, p_dept text)
RETURNS TABLE(status integer, body text)
LANGUAGE sql STABLE AS $$
	SELECT 404, case_error('not_found', format('no case %s', p_id)) WHERE b.id IS NULL
	UNION ALL
	SELECT 403, case_error('forbidden', format('case %s is not assigned to your department', p_id))
	 WHERE b.id IS NOT NULL AND p_role = 'department' AND b.department IS DISTINCT FROM p_dept
	   AND NOT b.co @> case_co_entry(p_dept)
$$;

-- 012_search_window's case_list (a q of 1-2 characters looks through a window of the newest
-- 5,000 cases), where a department viewer gets the cases it leads and those it co-handles: two
-- index walks newest first (cases_department, cases_co), merged, in place of one.
CREATE OR REPLACE FUNCTION case_list(p_role text, p_dept text, p_state text, p_department text, p_district text,
                                     p_type text, p_channel text, p_urgent boolean, p_overdue boolean,
                                     p_from date, p_to date, p_q text, p_after bigint, p_limit integer)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c_window constant integer := 5000;
	v_short boolean := coalesce(char_length(p_q) < 3, false);
	v_where text := '';
	v_pattern text;
	v_sql text;
	v_rows cases[];
	v_seen bigint;
	v_last bigint;
	v_items json;
	v_next text;
BEGIN
	IF p_state IS NOT NULL THEN v_where := v_where || ' AND x.state = $2'; END IF;
	IF p_department IS NOT NULL THEN v_where := v_where || ' AND x.department = $3'; END IF;
	IF p_district IS NOT NULL THEN v_where := v_where || ' AND x.district = $4'; END IF;
	IF p_type IS NOT NULL THEN v_where := v_where || ' AND x.type = $5'; END IF;
	IF p_channel IS NOT NULL THEN v_where := v_where || ' AND x.channel = $6'; END IF;
	IF p_urgent IS NOT NULL THEN v_where := v_where || ' AND x.urgent = $7'; END IF;
	IF p_overdue THEN v_where := v_where || ' AND x.next_deadline < now()'; END IF;
	IF NOT p_overdue THEN v_where := v_where || ' AND x.next_deadline >= now()'; END IF;
	IF p_from IS NOT NULL THEN v_where := v_where || ' AND x.created_at >= $8::timestamptz'; END IF;
	IF p_to IS NOT NULL THEN v_where := v_where || ' AND x.created_at < $9::timestamptz'; END IF;
	IF p_q IS NOT NULL THEN
		v_pattern := '%' || replace(replace(replace(p_q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
		IF NOT v_short THEN
			v_where := v_where || ' AND (coalesce(x.title, '''') || '' '' || x.text) ILIKE $10';
		END IF;
	END IF;
	IF p_after IS NOT NULL THEN v_where := v_where || ' AND x.id < $11'; END IF;
	-- the cases of the page, newest first, at most $12
	IF p_role = 'department' THEN
		v_sql := 'SELECT u.y FROM ('
		      || '(SELECT x AS y FROM cases x WHERE x.department = $1' || v_where
		      || ' ORDER BY x.id DESC LIMIT $12) UNION ALL '
		      || '(SELECT x AS y FROM cases x WHERE x.co <> ''[]'' AND x.co @> case_co_entry($1)'
		      || ' AND x.department IS DISTINCT FROM $1' || v_where
		      || ' ORDER BY x.id DESC LIMIT $12)) u ORDER BY (u.y).id DESC LIMIT $12';
	ELSE
		v_sql := 'SELECT x FROM cases x WHERE true' || v_where || ' ORDER BY x.id DESC LIMIT $12';
	END IF;
	IF v_short THEN
		EXECUTE 'SELECT array_agg(w.r ORDER BY (w.r).id DESC) FILTER (WHERE (coalesce((w.r).title, '''') '
		     || '|| '' '' || (w.r).text) ILIKE $10), count(*), min((w.r).id) FROM (' || v_sql || ') w(r)'
		   INTO v_rows, v_seen, v_last
		  USING p_dept, p_state, p_department, p_district, p_type, p_channel, p_urgent, p_from, p_to, v_pattern,
		        p_after, c_window;
		v_rows := coalesce(v_rows, '{}');
	ELSE
		EXECUTE 'SELECT array(' || v_sql || ')' INTO v_rows
		  USING p_dept, p_state, p_department, p_district, p_type, p_channel, p_urgent, p_from, p_to, v_pattern,
		        p_after, p_limit + 1;
	END IF;
	IF cardinality(v_rows) > p_limit THEN
		v_rows := v_rows[1:p_limit];
		v_next := (v_rows[p_limit]).id::text;
	ELSIF v_short AND v_seen = c_window THEN
		v_next := v_last::text; -- the window ended before the cases did: search on from there
	END IF;
	SELECT coalesce(json_agg(case_json(v_rows[i], p_role, p_dept) ORDER BY i), '[]')
	  INTO v_items FROM generate_subscripts(v_rows, 1) AS i;
	RETURN QUERY SELECT 200, json_build_object('items', v_items, 'next', v_next)::text;
END $$;

-- 010's inbox page, with the cases the department co-handles ("role": "co", due at the case's
-- finish_by while a clock runs) beside those it leads ("lead", due at next_deadline), and the
-- new case fields: co (JSON text), suspended_*, sent_back, declined_*. Suspended cases come
-- last (no clock runs). Same cursor form: '<due in epoch microseconds or inf>.<id>'.
DROP FUNCTION case_inbox_page(text, text, integer);
CREATE FUNCTION case_inbox_page(p_dept text, p_after text, p_limit integer)
RETURNS TABLE(id bigint, number text, created_at text, channel text, type text, urgent boolean,
              category text, title text, text text, district text, address text,
              lat double precision, lon double precision,
              caller_name text, caller_phone text, caller_confidential boolean,
              department text, routing_method text, routing_rule_id bigint, routing_rule_name text,
              state text, sign_by text, contact_by text, finish_by text, overdue boolean,
              dispatched_at text, signed_at text, contacted_at text, replied_at text,
              visited_at text, closed_at text, answer text,
              reply_text text, reply_resolved boolean,
              visit_score smallint, visit_resolved boolean, visit_comment text,
              ext_state text, ext_workdays smallint, ext_reason text, ext_requested_at text,
              ext_decided_at text, returns integer, reopened integer, merged_into bigint,
              co text, suspended_since text, suspended_reason text, suspended_from text, sent_back integer,
              declined_reason text, declined_note text,
              version integer, due_in_minutes integer, role text, cursor text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	v_after_due timestamptz := '-infinity';
	v_after_id bigint := 0;
BEGIN
	IF p_after IS NOT NULL THEN
		v_after_due := CASE WHEN split_part(p_after, '.', 1) = 'inf' THEN 'infinity'::timestamptz
		                    ELSE to_timestamp(split_part(p_after, '.', 1)::numeric / 1000000) END;
		v_after_id := split_part(p_after, '.', 2)::bigint;
	END IF;
	RETURN QUERY
	SELECT x.id, x.number, case_ts(x.created_at), x.channel, x.type, x.urgent,
	       x.category, x.title, x.text, x.district, x.address, x.lat, x.lon,
	       CASE WHEN NOT x.caller_confidential THEN x.caller_name END,
	       CASE WHEN NOT x.caller_confidential THEN x.caller_phone END, x.caller_confidential,
	       x.department, x.routing_method, x.routing_rule_id, x.routing_rule_name,
	       x.state, case_ts(x.sign_by), case_ts(x.contact_by), case_ts(x.finish_by), x.next_deadline < now(),
	       case_ts(x.dispatched_at), case_ts(x.signed_at), case_ts(x.contacted_at), case_ts(x.replied_at),
	       case_ts(x.visited_at), case_ts(x.closed_at), x.answer,
	       x.reply_text, x.reply_resolved,
	       x.visit_score, x.visit_resolved, x.visit_comment,
	       x.ext_state, x.ext_workdays, x.ext_reason, case_ts(x.ext_requested_at),
	       case_ts(x.ext_decided_at), x.returns, x.reopened, x.merged_into,
	       case_co_json(x.co)::text, case_ts(x.suspended_since), x.suspended_reason, x.suspended_from, x.sent_back,
	       x.declined_reason, x.declined_note,
	       x.version,
	       CASE WHEN isfinite(u.due) THEN floor(extract(epoch FROM u.due - now()) / 60)::integer END,
	       u.role,
	       CASE WHEN isfinite(u.due) THEN (extract(epoch FROM u.due) * 1000000)::bigint::text
	            ELSE 'inf' END || '.' || x.id
	  FROM ((SELECT l.id, 'lead'::text AS role, l.next_deadline AS due
	           FROM cases l
	          WHERE l.department = p_dept AND l.state IN ('dispatched', 'accepted', 'reopened', 'suspended')
	            AND (l.next_deadline, l.id) > (v_after_due, v_after_id)
	          ORDER BY l.next_deadline, l.id
	          LIMIT p_limit + 1)
	        UNION ALL
	        (SELECT k.id, 'co', k.due
	           FROM (SELECT h.id, CASE WHEN h.state IN ('dispatched', 'accepted', 'reopened')
	                                   THEN coalesce(h.finish_by, 'infinity') ELSE 'infinity' END AS due
	                   FROM cases h
	                  WHERE h.co <> '[]' AND h.co @> case_co_entry(p_dept)
	                    AND h.state IN ('dispatched', 'accepted', 'reopened', 'suspended')) k
	          WHERE (k.due, k.id) > (v_after_due, v_after_id))) u
	  JOIN cases x ON x.id = u.id
	 ORDER BY u.due, u.id
	 LIMIT p_limit + 1;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Create and dispatch record the kinds of the clocks they start.

-- 013_open311's case_create (009's, the create event taking p_input->'history'), plus
-- p_clock_workdays (see the header). The old signature goes.
DROP FUNCTION case_create_batch(bigint[], text[], text[], text[], text[], jsonb[], text[], text[], text[], bigint[],
                                text[], timestamptz[], timestamptz[], timestamptz[], timestamptz[]);
DROP FUNCTION case_create(bigint, text, text, text, text, jsonb, text, text, text, bigint, text, timestamptz,
                          timestamptz, timestamptz, timestamptz);
CREATE FUNCTION case_create(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                            p_key text, p_input jsonb, p_state text,
                            p_department text, p_method text, p_rule_id bigint, p_rule_name text,
                            p_sign_by timestamptz, p_contact_by timestamptz, p_finish_by timestamptz,
                            p_at timestamptz, p_clock_workdays smallint)
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
	                   sign_by, contact_by, finish_by, dispatched_at, first_dispatched_at, clock_workdays)
	VALUES (v_id, p_at, to_char(p_at, 'YYYYMMDD') || '-' || lpad((v_id % 1000000)::text, 6, '0'), p_user_id,
	        p_input->>'channel', p_input->>'type', coalesce((p_input->>'urgent')::boolean, false), v_category,
	        p_input->>'title', p_input->>'text', p_input->>'district', p_input->>'address',
	        (p_input->>'lat')::double precision, (p_input->>'lon')::double precision,
	        p_input#>>'{caller,name}', p_input#>>'{caller,phone}',
	        coalesce((p_input#>>'{caller,confidential}')::boolean, false), p_input->>'answer', p_state,
	        p_department, p_department, coalesce(p_method, 'none'), p_rule_id, p_rule_name,
	        p_sign_by, p_contact_by, p_finish_by,
	        CASE WHEN p_state = 'dispatched' THEN p_at END, CASE WHEN p_state = 'dispatched' THEN p_at END,
	        CASE WHEN p_state = 'dispatched' THEN p_clock_workdays END)
	RETURNING * INTO c;
	INSERT INTO case_facts SELECT (case_facts_of(c)).*;

	INSERT INTO case_events (case_id, actor_id, actor, role, action, from_state, to_state, data)
	VALUES (c.id, p_user_id, p_user_name, p_role, 'create', NULL, c.state,
	        jsonb_strip_nulls(jsonb_build_object('department', c.department, 'routing',
	                jsonb_build_object('method', c.routing_method, 'rule_id', c.routing_rule_id,
	                                   'rule_name', c.routing_rule_name)))
	        || jsonb_build_object('channel', c.channel) || coalesce(p_input->'history', '{}'));
	IF c.routing_method = 'rule' THEN
		PERFORM rule_counts_add(c.routing_rule_id, c.id, 1, 0);
	END IF;

	RETURN QUERY SELECT 201, case_json(c, p_role, p_dept)::text;
END $$;

-- 011's batch with the new parameter.
CREATE FUNCTION case_create_batch(p_user_id bigint[], p_user_name text[], p_role text[], p_dept text[],
                                  p_key text[], p_input jsonb[], p_state text[],
                                  p_department text[], p_method text[], p_rule_id bigint[], p_rule_name text[],
                                  p_sign_by timestamptz[], p_contact_by timestamptz[], p_finish_by timestamptz[],
                                  p_at timestamptz[], p_clock_workdays smallint[])
RETURNS TABLE(status integer, body text, item integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM unnest(p_user_id, p_user_name, p_role, p_dept, p_key, p_input, p_state, p_department,
	                              p_method, p_rule_id, p_rule_name, p_sign_by, p_contact_by, p_finish_by, p_at,
	                              p_clock_workdays)
	                       WITH ORDINALITY AS i(user_id, user_name, role, dept, key, input, state, department,
	                                            method, rule_id, rule_name, sign_by, contact_by, finish_by, at,
	                                            clock_workdays, ord)
	          ORDER BY i.rule_id NULLS FIRST, i.ord
	LOOP
		RETURN QUERY SELECT c.status, c.body, r.ord::integer - 1
		  FROM case_create(r.user_id, r.user_name, r.role, r.dept, r.key, r.input, r.state, r.department,
		                   r.method, r.rule_id, r.rule_name, r.sign_by, r.contact_by, r.finish_by, r.at,
		                   r.clock_workdays) c;
	END LOOP;
END $$;

-- 005's dispatch, plus the co-departments (p_co: a JSON array of codes, checked distinct, at
-- most 5 and without the lead by the server; here: known and enabled) and the clock kinds.
DROP FUNCTION case_dispatch(bigint, text, text, text, bigint, integer, text[], text[], text, timestamptz,
                            timestamptz, timestamptz, timestamptz);
CREATE FUNCTION case_dispatch(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                              p_id bigint, p_if_match integer, p_from text[], p_to text[],
                              p_department text, p_sign_by timestamptz, p_contact_by timestamptz,
                              p_finish_by timestamptz, p_at timestamptz, p_co jsonb, p_clock_workdays smallint)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
	v_unknown text;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	IF b.state = ANY (p_from) AND (p_if_match IS NULL OR b.version = p_if_match) THEN
		IF NOT EXISTS (SELECT 1 FROM departments WHERE code = p_department AND enabled) THEN
			RETURN QUERY SELECT 422, case_error('invalid_field', format('unknown department %s', p_department),
			                                    'department');
			RETURN;
		END IF;
		SELECT d INTO v_unknown FROM jsonb_array_elements_text(coalesce(p_co, '[]')) AS d
		 WHERE NOT EXISTS (SELECT 1 FROM departments WHERE code = d AND enabled) LIMIT 1;
		IF v_unknown IS NOT NULL THEN
			RETURN QUERY SELECT 422, case_error('invalid_field', format('unknown department %s', v_unknown), 'co');
			RETURN;
		END IF;
	END IF;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       department = p_department, last_department = p_department,
	       routing_method = 'manual', routing_rule_id = NULL, routing_rule_name = NULL,
	       sign_by = p_sign_by, contact_by = p_contact_by, finish_by = p_finish_by,
	       dispatched_at = p_at, first_dispatched_at = coalesce(first_dispatched_at, p_at),
	       signed_at = NULL, contacted_at = NULL, replied_at = NULL,
	       signed_on_time = NULL, contacted_on_time = NULL, ext_state = NULL,
	       clock_workdays = p_clock_workdays,
	       co = (SELECT coalesce(jsonb_agg(jsonb_build_object('department', d, 'state', 'open', 'text', NULL,
	                                                          'at', NULL) ORDER BY t.ord), '[]')
	               FROM jsonb_array_elements_text(coalesce(p_co, '[]')) WITH ORDINALITY AS t(d, ord))
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'dispatch', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'dispatch',
		jsonb_build_object('department', p_department, 'co', coalesce(p_co, '[]'), 'deadlines', jsonb_build_object(
			'sign_by', case_ts(p_sign_by), 'contact_by', case_ts(p_contact_by), 'finish_by', case_ts(p_finish_by))));
END $$;

-- 005's return: the co list goes with the department.
CREATE OR REPLACE FUNCTION case_return(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                                       p_id bigint, p_if_match integer, p_from text[], p_to text[], p_reason text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       department = NULL, returns = returns + 1, sign_by = NULL, contact_by = NULL, finish_by = NULL,
	       ext_state = CASE WHEN ext_state = 'pending' THEN 'lapsed' ELSE ext_state END,
	       co = '[]', clock_workdays = NULL
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	   AND (p_role <> 'department' OR department = p_dept)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'return', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'return',
		jsonb_build_object('reason', p_reason, 'department', b.department,
		                   'co', CASE WHEN b.co <> '[]' THEN (SELECT jsonb_agg(e->'department') FROM
		                                                     jsonb_array_elements(b.co) AS e) END));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Co-handling (section 9)

-- A co-department's part: its entry becomes done. Only a co-department with an open entry
-- may; any other department gets 403, the lead 409.
CREATE FUNCTION case_assist(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                            p_id bigint, p_if_match integer, p_from text[], p_to text[], p_text text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	IF b.id IS NOT NULL AND b.department IS DISTINCT FROM p_dept AND NOT b.co @> case_co_entry(p_dept) THEN
		RETURN QUERY SELECT 403, case_error('forbidden',
			format('your department neither leads nor co-handles case %s', p_id));
		RETURN;
	END IF;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       co = (SELECT jsonb_agg(CASE WHEN t.e->>'department' = p_dept
	                                   THEN t.e || jsonb_build_object('state', 'done', 'text', p_text, 'at', now())
	                                   ELSE t.e END ORDER BY t.ord)
	               FROM jsonb_array_elements(co) WITH ORDINALITY AS t(e, ord))
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	   AND co @> case_co_entry(p_dept, 'open')
	RETURNING * INTO c;
	IF NOT FOUND THEN
		-- the department-of-the-case check passes: the lead, or a co-department (b.department stands in)
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'assist', p_role, b.department, p_if_match, p_from,
			CASE WHEN b.department = p_dept THEN 'the lead department replies, the co-departments assist'
			     ELSE format('the part of %s is done already', p_dept) END);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'assist',
		jsonb_build_object('department', p_dept, 'text', p_text));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Reply and review (section 11)

-- 005's reply: refused with 409 assists_pending while a co entry is open; p_to says replied or
-- reviewing (the server's policy decides). A reply counts in reports at once only without review.
CREATE OR REPLACE FUNCTION case_reply(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                                      p_id bigint, p_if_match integer, p_from text[], p_to text[],
                                      p_text text, p_resolved boolean)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
	v_to text;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	v_to := case_target(b.state, p_from, p_to);
	IF v_to IS NOT NULL AND (p_if_match IS NULL OR b.version = p_if_match)
	   AND (p_role <> 'department' OR b.department = p_dept) AND b.co @> '[{"state": "open"}]' THEN
		RETURN QUERY SELECT 409, case_error('assists_pending',
			format('case %s waits for its co-departments: %s', p_id,
			       (SELECT string_agg(e->>'department', ', ') FROM jsonb_array_elements(b.co) AS e
			         WHERE e->>'state' = 'open')));
		RETURN;
	END IF;
	UPDATE cases SET state = v_to, version = version + 1,
	       replied_at = now(), reply_text = p_text, reply_resolved = p_resolved,
	       review_from = CASE WHEN v_to = 'reviewing' THEN b.state END,
	       first_replied_at = CASE WHEN v_to = 'replied' THEN coalesce(first_replied_at, now())
	                               ELSE first_replied_at END,
	       replied_on_time = CASE WHEN v_to = 'replied' AND first_replied_at IS NULL
	                              THEN (finish_by IS NULL OR now() <= finish_by) ELSE replied_on_time END,
	       rectified_on_time = CASE WHEN v_to = 'replied' AND b.state = 'reopened' AND rectified_on_time IS NULL
	                                THEN (finish_by IS NULL OR now() <= finish_by) ELSE rectified_on_time END,
	       ext_state = CASE WHEN ext_state = 'pending' THEN 'lapsed' ELSE ext_state END
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	   AND (p_role <> 'department' OR department = p_dept)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'reply', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'reply',
		jsonb_build_object('text', p_text, 'resolved', p_resolved, 'review', v_to = 'reviewing'));
END $$;

-- Approve (p_to: replied) or send back (p_to: the origin the server read, which must still be
-- review_from; else 409 version_conflict). Approval counts the reply at replied_at, the time the
-- department sent it. Sending back clears the reply; finish_by stays and runs on.
CREATE FUNCTION case_review(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                            p_id bigint, p_if_match integer, p_from text[], p_to text[],
                            p_approve boolean, p_reason text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
	v_to text;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	v_to := case_target(b.state, p_from, p_to);
	IF NOT p_approve AND v_to IS NOT NULL AND v_to IS DISTINCT FROM b.review_from
	   AND (p_if_match IS NULL OR b.version = p_if_match) THEN
		RETURN QUERY SELECT 409, case_error('version_conflict', format('case %s changed while reviewing; retry', p_id));
		RETURN;
	END IF;
	UPDATE cases SET state = v_to, version = version + 1, review_from = NULL,
	       first_replied_at = CASE WHEN p_approve THEN coalesce(first_replied_at, replied_at) ELSE first_replied_at END,
	       replied_on_time = CASE WHEN p_approve AND first_replied_at IS NULL
	                              THEN (finish_by IS NULL OR replied_at <= finish_by) ELSE replied_on_time END,
	       rectified_on_time = CASE WHEN p_approve AND b.review_from = 'reopened' AND rectified_on_time IS NULL
	                                THEN (finish_by IS NULL OR replied_at <= finish_by) ELSE rectified_on_time END,
	       replied_at = CASE WHEN p_approve THEN replied_at END,
	       reply_text = CASE WHEN p_approve THEN reply_text END,
	       reply_resolved = CASE WHEN p_approve THEN reply_resolved END,
	       sent_back = sent_back + CASE WHEN p_approve THEN 0 ELSE 1 END
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'review', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'review',
		jsonb_build_object('approve', p_approve, 'reason', p_reason, 'replied_at', case_ts(b.replied_at)));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Suspension (section 10)

CREATE FUNCTION case_suspend(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                             p_id bigint, p_if_match integer, p_from text[], p_to text[], p_reason text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       suspended_since = now(), suspended_reason = p_reason, suspended_from = state,
	       suspensions = suspensions + 1
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	   AND (p_role <> 'department' OR department = p_dept)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'suspend', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'suspend',
		jsonb_build_object('reason', p_reason));
END $$;

-- Back to the state it came from with the deadlines the server moved (core/sla.c
-- sla_resume_deadline) from the suspension it read (p_since); a suspension that changed since
-- (resumed and suspended again meanwhile) is 409 version_conflict: nothing stale is written.
CREATE FUNCTION case_resume(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                            p_id bigint, p_if_match integer, p_from text[], p_to text[],
                            p_since timestamptz, p_sign_by timestamptz, p_contact_by timestamptz,
                            p_finish_by timestamptz)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	IF b.state = ANY (p_from) AND (p_if_match IS NULL OR b.version = p_if_match)
	   AND (p_role <> 'department' OR b.department = p_dept)
	   AND (b.suspended_since IS DISTINCT FROM p_since OR case_target(b.state, p_from, p_to) IS DISTINCT FROM b.suspended_from) THEN
		RETURN QUERY SELECT 409, case_error('version_conflict', format('case %s changed while resuming; retry', p_id));
		RETURN;
	END IF;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       sign_by = p_sign_by, contact_by = p_contact_by, finish_by = p_finish_by,
	       suspended_since = NULL, suspended_reason = NULL, suspended_from = NULL
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	   AND (p_role <> 'department' OR department = p_dept)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'resume', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'resume',
		jsonb_build_object('since', case_ts(b.suspended_since), 'reason', b.suspended_reason,
		                   'seconds', floor(extract(epoch FROM now() - b.suspended_since))::bigint,
		                   'deadlines_before', jsonb_build_object('sign_by', case_ts(b.sign_by),
		                        'contact_by', case_ts(b.contact_by), 'finish_by', case_ts(b.finish_by)),
		                   'deadlines', jsonb_build_object('sign_by', case_ts(c.sign_by),
		                        'contact_by', case_ts(c.contact_by), 'finish_by', case_ts(c.finish_by))));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Declining (section 12); the reason was checked against the list by the server.

CREATE FUNCTION case_decline(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                             p_id bigint, p_if_match integer, p_from text[], p_to text[],
                             p_reason text, p_note text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       declined_reason = p_reason, declined_note = p_note, closed_at = now()
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'decline', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'decline',
		jsonb_build_object('reason', p_reason, 'note', p_note));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Visit and extension: bad visits are counted; the clocks they set record their kind.

DROP FUNCTION case_visit(bigint, text, text, text, bigint, integer, text[], text[], integer, boolean, text,
                         timestamptz, timestamptz);
-- 005's visit, plus p_rectify_workdays: whether the rectification clock counts working days.
CREATE FUNCTION case_visit(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                           p_id bigint, p_if_match integer, p_from text[], p_to text[],
                           p_score integer, p_resolved boolean, p_comment text, p_rectify_finish_by timestamptz,
                           p_at timestamptz, p_rectify_workdays boolean)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
	v_to text;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	v_to := case_target(b.state, p_from, p_to);
	UPDATE cases SET state = v_to, version = version + 1,
	       visited_at = p_at, visit_score = p_score, visit_resolved = p_resolved, visit_comment = p_comment,
	       bad_visits = bad_visits + CASE WHEN p_score <= 2 THEN 1 ELSE 0 END,
	       closed_at = CASE WHEN v_to = 'closed' THEN now() ELSE closed_at END,
	       reopened = reopened + CASE WHEN v_to = 'reopened' THEN 1 ELSE 0 END,
	       finish_by = CASE WHEN v_to = 'reopened' THEN p_rectify_finish_by ELSE finish_by END,
	       clock_workdays = CASE WHEN v_to <> 'reopened' OR clock_workdays IS NULL THEN clock_workdays
	                             WHEN p_rectify_workdays THEN clock_workdays | 4 ELSE clock_workdays & ~4 END,
	       replied_at = CASE WHEN v_to = 'reopened' THEN NULL ELSE replied_at END,
	       ext_state = CASE WHEN v_to = 'reopened' THEN NULL ELSE ext_state END
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'visit', p_role, p_dept, p_if_match, p_from, NULL);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'visit',
		jsonb_build_object('score', p_score, 'resolved', p_resolved, 'comment', p_comment,
		                   'finish_by', CASE WHEN v_to = 'reopened' THEN case_ts(c.finish_by) END));
END $$;

-- 005's approval; an extended finish_by ends at the end of a working day: a working-day clock.
CREATE OR REPLACE FUNCTION case_extension_approve(p_user_id bigint, p_user_name text, p_role text, p_dept text,
                                                  p_id bigint, p_if_match integer, p_from text[], p_to text[],
                                                  p_expected_finish_by timestamptz, p_new_finish_by timestamptz,
                                                  p_note text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	b cases;
	c cases;
BEGIN
	SELECT * INTO b FROM cases WHERE id = p_id FOR UPDATE;
	UPDATE cases SET state = case_target(state, p_from, p_to), version = version + 1,
	       finish_by = p_new_finish_by, ext_state = 'approved', ext_decided_at = now(),
	       clock_workdays = clock_workdays | 4
	 WHERE id = p_id AND state = ANY (p_from) AND (p_if_match IS NULL OR version = p_if_match)
	   AND ext_state = 'pending' AND finish_by IS NOT DISTINCT FROM p_expected_finish_by
	RETURNING * INTO c;
	IF NOT FOUND THEN
		IF b.ext_state = 'pending' AND b.state = ANY (p_from) AND (p_if_match IS NULL OR b.version = p_if_match)
		   AND b.finish_by IS DISTINCT FROM p_expected_finish_by THEN
			RETURN QUERY SELECT 409, case_error('version_conflict',
				format('the finish_by of case %s changed while approving; retry', p_id));
			RETURN;
		END IF;
		RETURN QUERY SELECT * FROM case_refusal(b, p_id, 'approve', p_role, p_dept, p_if_match, p_from,
		                                        'no extension request is pending');
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM case_record(c, b.state, p_user_id, p_user_name, p_role, p_dept, 'approve',
		jsonb_build_object('workdays', b.ext_workdays, 'note', p_note,
		                   'finish_by_before', case_ts(b.finish_by), 'finish_by', case_ts(c.finish_by)));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Report facts and reports

ALTER TABLE case_facts
	ADD COLUMN declined boolean NOT NULL DEFAULT false,
	ADD COLUMN suspended boolean NOT NULL DEFAULT false,
	ADD COLUMN bad boolean NOT NULL DEFAULT false,
	ADD COLUMN rectified_on_time boolean NOT NULL DEFAULT false;

-- bad: at least one visit scoring 1-2. Cases from before this migration have no bad_visits
-- count: a reopening or a latest score of 1-2 says it for them.
CREATE OR REPLACE FUNCTION case_facts_of(c cases) RETURNS case_facts
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ROW(c.id, c.created_at, c.last_department, c.district, c.category, c.type, c.channel,
	           c.answer IS NOT NULL, c.first_dispatched_at IS NOT NULL,
	           coalesce(c.signed_on_time, false), coalesce(c.contacted_on_time, false),
	           c.first_replied_at IS NOT NULL, coalesce(c.replied_on_time, false),
	           c.visit_score, coalesce(c.visit_resolved, false) AND c.visit_score IS NOT NULL,
	           c.returns > 0, c.reopened > 0, c.next_deadline,
	           c.declined_reason IS NOT NULL, c.suspensions > 0,
	           c.bad_visits > 0 OR c.reopened > 0 OR coalesce(c.visit_score <= 2, false),
	           coalesce(c.rectified_on_time, false))::case_facts
$$;

CREATE OR REPLACE FUNCTION case_facts_put() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO case_facts AS f SELECT (case_facts_of(NEW)).*
	ON CONFLICT (case_id) DO UPDATE
	   SET (created_at, department, district, category, type, channel, answered, dispatched,
	        signed_on_time, contacted_on_time, replied, replied_on_time, score, resolved, returned,
	        reopened, next_deadline, declined, suspended, bad, rectified_on_time)
	     = (excluded.created_at, excluded.department, excluded.district, excluded.category, excluded.type,
	        excluded.channel, excluded.answered, excluded.dispatched, excluded.signed_on_time,
	        excluded.contacted_on_time, excluded.replied, excluded.replied_on_time, excluded.score,
	        excluded.resolved, excluded.returned, excluded.reopened, excluded.next_deadline,
	        excluded.declined, excluded.suspended, excluded.bad, excluded.rectified_on_time)
	 WHERE f IS DISTINCT FROM excluded;
	RETURN NULL;
END $$;

-- The facts of the cases that were already bad before this migration.
UPDATE case_facts f SET bad = true
  FROM cases c
 WHERE c.id = f.case_id AND (c.reopened > 0 OR c.visit_score <= 2);

-- 007's report_rates plus declined and suspended (core/rates.h RateCount order).
DROP FUNCTION report_rates(date, date, text);
CREATE FUNCTION report_rates(p_from date, p_to date, p_by text)
RETURNS TABLE(key text, received bigint, answered bigint, dispatched bigint, signed_on_time bigint,
              contacted_on_time bigint, replied bigint, replied_on_time bigint, visited bigint,
              resolved bigint, satisfied bigint, score_sum bigint, returned bigint, reopened bigint,
              overdue_open bigint, declined bigint, suspended bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE p_by WHEN 'department' THEN f.department WHEN 'district' THEN f.district
	                 WHEN 'type' THEN f.type WHEN 'channel' THEN f.channel END AS key,
	       count(*), count(*) FILTER (WHERE f.answered), count(*) FILTER (WHERE f.dispatched),
	       count(*) FILTER (WHERE f.signed_on_time), count(*) FILTER (WHERE f.contacted_on_time),
	       count(*) FILTER (WHERE f.replied), count(*) FILTER (WHERE f.replied_on_time),
	       count(f.score), count(*) FILTER (WHERE f.resolved), count(*) FILTER (WHERE f.score >= 3),
	       coalesce(sum(f.score), 0), count(*) FILTER (WHERE f.returned),
	       count(*) FILTER (WHERE f.reopened), count(*) FILTER (WHERE f.next_deadline < now()),
	       count(*) FILTER (WHERE f.declined), count(*) FILTER (WHERE f.suspended)
	  FROM case_facts f
	 WHERE f.created_at >= p_from::timestamptz AND f.created_at < p_to::timestamptz
	 GROUP BY 1
	 ORDER BY 1 NULLS LAST
$$;

-- ---------------------------------------------------------------------------------------------
-- Assessment (section 17)

-- The scorecard weights: one row, the body as core/assess.c validated and wrote it.
CREATE TABLE scorecard (
	singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	body       jsonb NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by bigint
);
INSERT INTO scorecard (body) VALUES ('{"weights": {"response_rate": 0.2, "on_time_rate": 0.2, '
	'"resolution_rate": 0.3, "satisfaction_rate": 0.3, "dispatch_accuracy": 0.0}, "min_cases": 5}');

-- The weights, then per department (every enabled one, and any other that held a case of the
-- window) the counts of report_rates by department. The first row always exists: with no
-- department at all, its department is NULL. The server computes, filters and ranks.
CREATE FUNCTION report_scorecard(p_from date, p_to date)
RETURNS TABLE(weights text, department text, name text, dispatched bigint, contacted_on_time bigint,
              replied bigint, replied_on_time bigint, visited bigint, resolved bigint, satisfied bigint,
              returned bigint)
LANGUAGE sql STABLE AS $$
	SELECT s.body::text, r.department, r.name, r.dispatched, r.contacted_on_time, r.replied, r.replied_on_time,
	       r.visited, r.resolved, r.satisfied, r.returned
	  FROM scorecard s
	  LEFT JOIN (SELECT d.code AS department, d.name, coalesce(x.dispatched, 0) AS dispatched,
	                    coalesce(x.contacted_on_time, 0) AS contacted_on_time, coalesce(x.replied, 0) AS replied,
	                    coalesce(x.replied_on_time, 0) AS replied_on_time, coalesce(x.visited, 0) AS visited,
	                    coalesce(x.resolved, 0) AS resolved, coalesce(x.satisfied, 0) AS satisfied,
	                    coalesce(x.returned, 0) AS returned
	               FROM departments d
	               LEFT JOIN report_rates(p_from, p_to, 'department') x ON x.key = d.code
	              WHERE d.enabled OR x.key IS NOT NULL) r ON true
	 ORDER BY r.department
$$;

-- Bad reviews (高频差评) among cases created in [p_from, p_to), grouped by p_by (department,
-- category, district; cases without the key left out), groups with a bad case only, most bad
-- first, then by key; the p_top first.
CREATE FUNCTION report_bad_reviews(p_from date, p_to date, p_by text, p_top integer)
RETURNS TABLE(key text, visited bigint, bad bigint, rectified_on_time bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT k.key, count(f.score), count(*) FILTER (WHERE f.bad),
	       count(*) FILTER (WHERE f.bad AND f.rectified_on_time)
	  FROM case_facts f
	 CROSS JOIN LATERAL (SELECT CASE p_by WHEN 'department' THEN f.department WHEN 'category' THEN f.category
	                                      WHEN 'district' THEN f.district END AS key) k
	 WHERE f.created_at >= p_from::timestamptz AND f.created_at < p_to::timestamptz AND k.key IS NOT NULL
	 GROUP BY k.key
	HAVING count(*) FILTER (WHERE f.bad) > 0
	 ORDER BY 3 DESC, 1
	 LIMIT p_top
$$;
