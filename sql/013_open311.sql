-- Open311 GeoReport v2 (API.md section 7): what the /open311/v2 endpoints read, and the
-- create event's data taking what a channel sent that a case has no column for.
--
-- case_create: p_input may carry "history", a JSON object the server builds (Open311 puts
-- {"open311": {"email", "device_id", "account_id", "media_url", "address_id", "attributes"}}
-- there); it is merged into the data of the case's 'create' history row, so it commits with
-- the case and is readable at GET /v1/cases/{id}/events. Otherwise the function is 009's.
--
-- open311_services(p_code): the services, one per enabled category (p_code: only that one).
-- open311_request_rows, open311_requests(...): the requests, as plain rows the server writes
-- as JSON or XML (server/core/open311_doc.c); only cases created through Open311 (channel open311).

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
	        || jsonb_build_object('channel', c.channel) || coalesce(p_input->'history', '{}'));
	IF c.routing_method = 'rule' THEN
		PERFORM rule_counts_add(c.routing_rule_id, c.id, 1, 0);
	END IF;

	RETURN QUERY SELECT 201, case_json(c, p_role, p_dept)::text;
END $$;

-- GET requests reads the newest Open311 cases of a time window; only those rows are indexed.
CREATE INDEX cases_open311 ON cases (created_at DESC, id DESC) WHERE channel = 'open311';

-- The services: keywords are the phrases of the category's name (split at 、，, / and brackets).
CREATE FUNCTION open311_services(p_code text)
RETURNS TABLE(service_code text, service_name text, description text, metadata boolean, type text,
              keywords text, service_group text)
LANGUAGE sql STABLE AS $$
	SELECT c.code, c.name, c.name || '（' || d.name || '承办）', false, 'realtime',
	       (SELECT string_agg(k, ', ') FROM regexp_split_to_table(c.name, '[、，,/()（）]+') k WHERE k <> ''),
	       d.name
	  FROM categories c JOIN departments d ON d.code = c.department
	 WHERE c.enabled AND (p_code IS NULL OR c.code = p_code)
	 ORDER BY d.position, d.code, c.position, c.code
$$;

-- A GeoReport request of every case of channel open311, in the specification's order of
-- fields, plus what the listing filters and orders by. `status` holds the case's state and
-- `service_notice` is NULL: the server writes both from the state (closed once closed,
-- merged or declined).
CREATE VIEW open311_request_rows AS
	SELECT c.id, c.created_at, c.state, c.number AS service_request_id, c.state AS status,
	       c.reply_text AS status_notes, cat.name AS service_name, c.category AS service_code,
	       c.text AS description, d.name AS agency_responsible, NULL::text AS service_notice,
	       case_ts(c.created_at) AS requested_datetime,
	       case_ts(coalesce(last_event.at, c.created_at)) AS updated_datetime,
	       case_ts(c.finish_by) AS expected_datetime, c.address,
	       created.data #>> '{open311,address_id}' AS address_id, NULL::text AS zipcode, c.lat, c.lon AS long,
	       created.data #>> '{open311,media_url}' AS media_url
	  FROM cases c
	  LEFT JOIN categories cat ON cat.code = c.category
	  LEFT JOIN departments d ON d.code = c.department
	  LEFT JOIN LATERAL (SELECT e.data FROM case_events e WHERE e.case_id = c.id AND e.action = 'create'
	                      ORDER BY e.id LIMIT 1) created ON true
	  LEFT JOIN LATERAL (SELECT e.at FROM case_events e WHERE e.case_id = c.id ORDER BY e.id DESC LIMIT 1) last_event
	       ON true
	 WHERE c.channel = 'open311';

-- The requests numbered in p_ids when it is not NULL (found through the case numbers' index),
-- else those created in p_from .. p_to of the services p_codes (NULL: all) with status
-- p_status ('open', 'closed', NULL: both), walking the open311 cases newest first; at most
-- p_limit, newest first.
CREATE FUNCTION open311_requests(p_ids text[], p_codes text[], p_from timestamptz, p_to timestamptz,
                                 p_status text, p_limit integer)
RETURNS TABLE(service_request_id text, status text, status_notes text, service_name text, service_code text,
              description text, agency_responsible text, service_notice text, requested_datetime text,
              updated_datetime text, expected_datetime text, address text, address_id text, zipcode text,
              lat double precision, long double precision, media_url text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_ids IS NOT NULL THEN
		RETURN QUERY
		SELECT r.service_request_id, r.status, r.status_notes, r.service_name, r.service_code, r.description,
		       r.agency_responsible, r.service_notice, r.requested_datetime, r.updated_datetime,
		       r.expected_datetime, r.address, r.address_id, r.zipcode, r.lat, r.long, r.media_url
		  FROM open311_request_rows r
		 WHERE r.service_request_id = ANY (p_ids)
		 ORDER BY r.created_at DESC, r.id DESC
		 LIMIT p_limit;
		RETURN;
	END IF;
	RETURN QUERY
	SELECT r.service_request_id, r.status, r.status_notes, r.service_name, r.service_code, r.description,
	       r.agency_responsible, r.service_notice, r.requested_datetime, r.updated_datetime,
	       r.expected_datetime, r.address, r.address_id, r.zipcode, r.lat, r.long, r.media_url
	  FROM open311_request_rows r
	 WHERE r.created_at BETWEEN p_from AND p_to
	   AND (p_codes IS NULL OR r.service_code = ANY (p_codes))
	   AND (p_status IS NULL OR (r.state IN ('closed', 'merged', 'declined')) = (p_status = 'closed'))
	 ORDER BY r.created_at DESC, r.id DESC
	 LIMIT p_limit;
END $$;
