-- Rules, departments and categories behind the admin API (API.md section 3), and each
-- rule's dispatch accuracy (派单准确率).
--
-- The router of every server is built from rules, enabled departments and enabled
-- categories (server/routing_state.c), so a change to departments or categories bumps the
-- rules version and sends NOTIFY rules_changed exactly as a rule change does (003).
--
-- Rule statistics follow the append-only history, because a case keeps its routing rule
-- only until it is dispatched by hand: a rule dispatched a case when the case's `create`
-- event says routing.method = 'rule' with its rule_id, and the case counts as returned by
-- the department the rule chose when it is returned for the first time (a case leaves the
-- rule's department only by a return, and comes back to any department only by a manual
-- dispatch). accuracy = 1 - returned / dispatched, null without dispatches. A trigger on
-- case_events keeps the counts in rule_counts, so reading them costs nothing per case;
-- each rule's counts are spread over 16 rows (by case id) so that cases
-- created at once by one rule seldom wait for each other's counter row.
--
-- The write functions take bodies the server has already validated in the core (rules:
-- core/router.c router_rule_from_json, canonical form from router_rule_to_json) and
-- return TABLE(status integer, body text) like the case functions of 005: the HTTP status
-- and the JSON to send.

CREATE TRIGGER departments_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON departments
	FOR EACH STATEMENT EXECUTE FUNCTION rules_bump_version();
CREATE TRIGGER categories_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
	FOR EACH STATEMENT EXECUTE FUNCTION rules_bump_version();

-- Counts per rule and shard; no foreign key: a deleted rule's counts stay with its id, as
-- the cases it routed do.
CREATE TABLE rule_counts (
	rule_id    bigint NOT NULL,
	shard      smallint NOT NULL,
	dispatched bigint NOT NULL DEFAULT 0,
	returned   bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (rule_id, shard)
);

CREATE FUNCTION rule_counts_add(p_rule_id bigint, p_case_id bigint, p_dispatched integer, p_returned integer)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO rule_counts AS k (rule_id, shard, dispatched, returned)
	VALUES (p_rule_id, p_case_id % 16, p_dispatched, p_returned)
	ON CONFLICT (rule_id, shard) DO UPDATE
	SET dispatched = k.dispatched + p_dispatched, returned = k.returned + p_returned
$$;

-- The rule that dispatched case p_case_id at its creation, or NULL.
CREATE FUNCTION rule_of_case(p_case_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT (data #>> '{routing,rule_id}')::bigint FROM case_events
	 WHERE case_id = p_case_id AND action = 'create' AND data #>> '{routing,method}' = 'rule'
$$;

CREATE FUNCTION rule_counts_track() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_rule bigint;
BEGIN
	IF NEW.action = 'create' AND NEW.data #>> '{routing,method}' = 'rule' THEN
		PERFORM rule_counts_add((NEW.data #>> '{routing,rule_id}')::bigint, NEW.case_id, 1, 0);
	ELSIF NEW.action = 'return' AND NOT EXISTS (
			SELECT 1 FROM case_events WHERE case_id = NEW.case_id AND action = 'return' AND id < NEW.id) THEN
		v_rule := rule_of_case(NEW.case_id);
		IF v_rule IS NOT NULL THEN
			PERFORM rule_counts_add(v_rule, NEW.case_id, 0, 1);
		END IF;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER rule_counts_track AFTER INSERT ON case_events
	FOR EACH ROW WHEN (NEW.action IN ('create', 'return')) EXECUTE FUNCTION rule_counts_track();

-- The history written before this migration.
INSERT INTO rule_counts (rule_id, shard, dispatched, returned)
SELECT (e.data #>> '{routing,rule_id}')::bigint, 0, count(*),
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_events r WHERE r.case_id = e.case_id AND r.action = 'return'))
  FROM case_events e
 WHERE e.action = 'create' AND e.data #>> '{routing,method}' = 'rule'
 GROUP BY 1;

-- ---------------------------------------------------------------------------------------------
-- Rules

-- Per rule id (deleted rules included): cases it dispatched, and how many of those the
-- chosen department returned.
CREATE FUNCTION rule_stats(p_rule_id bigint DEFAULT NULL)
RETURNS TABLE(rule_id bigint, dispatched bigint, returned bigint)
LANGUAGE sql STABLE AS $$
	SELECT rule_id, sum(dispatched)::bigint, sum(returned)::bigint FROM rule_counts
	 WHERE p_rule_id IS NULL OR rule_id = p_rule_id
	 GROUP BY rule_id
$$;

-- The API representation of a rule, with its statistics (NULL counts are zero).
CREATE FUNCTION rule_json(r rules, p_dispatched bigint, p_returned bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object(
		'id', r.id, 'name', r.name, 'priority', r.priority, 'enabled', r.enabled,
		'department', r.department, 'match', r.match,
		'stats', jsonb_build_object(
			'dispatched', coalesce(p_dispatched, 0),
			'returned', coalesce(p_returned, 0),
			'accuracy', CASE WHEN coalesce(p_dispatched, 0) > 0
			                 THEN 1 - p_returned::float8 / p_dispatched END))
$$;

CREATE FUNCTION rules_list() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('items', coalesce(jsonb_agg(rule_json(r, s.dispatched, s.returned) ORDER BY r.id),
	                                            '[]'))::text
	  FROM rules r LEFT JOIN rule_stats() s ON s.rule_id = r.id
$$;

CREATE FUNCTION rule_get(p_id bigint) RETURNS TABLE(status integer, body text)
LANGUAGE sql STABLE AS $$
	SELECT 200, rule_json(r, s.dispatched, s.returned)::text
	  FROM rules r LEFT JOIN rule_stats(p_id) s ON true
	 WHERE r.id = p_id
	UNION ALL
	SELECT 404, case_error('not_found', format('no rule %s', p_id))
	 WHERE NOT EXISTS (SELECT 1 FROM rules WHERE id = p_id)
$$;

CREATE FUNCTION rule_department_refusal(p_department text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT case_error('invalid_field', format('unknown department %s', p_department), 'department')
	 WHERE NOT EXISTS (SELECT 1 FROM departments WHERE code = p_department AND enabled)
$$;

-- p_rule: the canonical rule body (name, priority, enabled, department, match).
CREATE FUNCTION rule_create(p_rule jsonb) RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_refusal text := rule_department_refusal(p_rule ->> 'department');
	r rules;
BEGIN
	IF v_refusal IS NOT NULL THEN
		RETURN QUERY SELECT 422, v_refusal;
		RETURN;
	END IF;
	INSERT INTO rules (name, priority, enabled, department, match)
	VALUES (p_rule ->> 'name', (p_rule ->> 'priority')::integer, (p_rule ->> 'enabled')::boolean,
	        p_rule ->> 'department', p_rule -> 'match')
	RETURNING * INTO r;
	RETURN QUERY SELECT 201, rule_json(r, 0, 0)::text;
END $$;

-- Replace rule p_id with p_rule, provided it was not changed since p_seen (its updated_at
-- when the server read it to merge the body): 404 when gone, 409 when changed meanwhile.
CREATE FUNCTION rule_update(p_id bigint, p_rule jsonb, p_seen timestamptz) RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_refusal text := rule_department_refusal(p_rule ->> 'department');
	r rules;
BEGIN
	IF v_refusal IS NOT NULL THEN
		RETURN QUERY SELECT 422, v_refusal;
		RETURN;
	END IF;
	UPDATE rules SET name = p_rule ->> 'name', priority = (p_rule ->> 'priority')::integer,
	       enabled = (p_rule ->> 'enabled')::boolean, department = p_rule ->> 'department',
	       match = p_rule -> 'match'
	 WHERE id = p_id AND updated_at = p_seen
	RETURNING * INTO r;
	IF NOT FOUND THEN
		IF EXISTS (SELECT 1 FROM rules WHERE id = p_id) THEN
			RETURN QUERY SELECT 409, case_error('version_conflict',
				format('rule %s was changed by someone else meanwhile; read it again', p_id));
		ELSE
			RETURN QUERY SELECT 404, case_error('not_found', format('no rule %s', p_id));
		END IF;
		RETURN;
	END IF;
	RETURN QUERY SELECT 200, rule_json(r, s.dispatched, s.returned)::text
	  FROM (SELECT 1) one LEFT JOIN rule_stats(p_id) s ON true;
END $$;

-- Cases keep the id and name of the rule that routed them, so deleting a rule loses no history.
CREATE FUNCTION rule_delete(p_id bigint) RETURNS TABLE(status integer, body text)
LANGUAGE sql AS $$
	WITH d AS (DELETE FROM rules WHERE id = p_id RETURNING *)
	SELECT 200, rule_json(d, s.dispatched, s.returned)::text
	  FROM d LEFT JOIN rule_stats(p_id) s ON true
	UNION ALL
	SELECT 404, case_error('not_found', format('no rule %s', p_id))
	 WHERE NOT EXISTS (SELECT 1 FROM d)
$$;

-- ---------------------------------------------------------------------------------------------
-- Departments and categories (validated in the server: field types, lengths, code patterns)

CREATE FUNCTION department_json(d departments) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('code', d.code, 'name', d.name, 'name_en', d.name_en,
	                          'enabled', d.enabled, 'position', d.position)
$$;

CREATE FUNCTION category_json(c categories) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('code', c.code, 'name', c.name, 'department', c.department,
	                          'enabled', c.enabled, 'position', c.position)
$$;

-- p_body: code and name required; name_en, enabled, position optional (position defaults
-- to after the last department).
CREATE FUNCTION department_create(p_body jsonb) RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	d departments;
BEGIN
	-- Serialises concurrent creates, so the duplicate check and the default position hold.
	LOCK TABLE departments IN SHARE ROW EXCLUSIVE MODE;
	IF EXISTS (SELECT 1 FROM departments WHERE code = p_body ->> 'code') THEN
		RETURN QUERY SELECT 422, case_error('invalid_field',
			format('department %s already exists', p_body ->> 'code'), 'code');
		RETURN;
	END IF;
	INSERT INTO departments (code, name, name_en, enabled, position)
	VALUES (p_body ->> 'code', p_body ->> 'name', coalesce(p_body ->> 'name_en', ''),
	        coalesce((p_body ->> 'enabled')::boolean, true),
	        coalesce((p_body ->> 'position')::integer,
	                 (SELECT coalesce(max(position), 0) + 1 FROM departments)))
	RETURNING * INTO d;
	RETURN QUERY SELECT 201, department_json(d)::text;
END $$;

-- p_body: any of name, name_en, enabled, position; absent fields keep their values.
CREATE FUNCTION department_update(p_code text, p_body jsonb) RETURNS TABLE(status integer, body text)
LANGUAGE sql AS $$
	WITH u AS (
		UPDATE departments SET name = coalesce(p_body ->> 'name', name),
		       name_en = coalesce(p_body ->> 'name_en', name_en),
		       enabled = coalesce((p_body ->> 'enabled')::boolean, enabled),
		       position = coalesce((p_body ->> 'position')::integer, position)
		 WHERE code = p_code
		RETURNING *)
	SELECT 200, department_json(u)::text FROM u
	UNION ALL
	SELECT 404, case_error('not_found', format('no department %s', p_code))
	 WHERE NOT EXISTS (SELECT 1 FROM u)
$$;

-- p_body: department and name required; code optional (default <department>.<NN>, the
-- next number of that department), enabled and position optional.
CREATE FUNCTION category_create(p_body jsonb) RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_dept text := p_body ->> 'department';
	v_code text := p_body ->> 'code';
	c categories;
BEGIN
	-- Lock the department: concurrent creates in it take distinct numbers, and it cannot
	-- vanish meanwhile.
	PERFORM 1 FROM departments WHERE code = v_dept FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 422, case_error('invalid_field', format('unknown department %s', v_dept),
		                                    'department');
		RETURN;
	END IF;
	IF v_code IS NULL THEN
		SELECT v_dept || '.' || lpad((coalesce(max(substring(code FROM '\.([0-9]+)$')::bigint), 0) + 1)::text,
		                             2, '0')
		  INTO v_code FROM categories WHERE code LIKE v_dept || '.%';
	ELSIF EXISTS (SELECT 1 FROM categories WHERE code = v_code) THEN
		RETURN QUERY SELECT 422, case_error('invalid_field', format('category %s already exists', v_code),
		                                    'code');
		RETURN;
	END IF;
	INSERT INTO categories (code, name, department, enabled, position)
	VALUES (v_code, p_body ->> 'name', v_dept, coalesce((p_body ->> 'enabled')::boolean, true),
	        coalesce((p_body ->> 'position')::integer,
	                 (SELECT coalesce(max(position), 0) + 1 FROM categories WHERE department = v_dept)))
	RETURNING * INTO c;
	RETURN QUERY SELECT 201, category_json(c)::text;
END $$;

-- p_body: any of name, department, enabled, position; the code never changes (cases refer to it).
CREATE FUNCTION category_update(p_code text, p_body jsonb) RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_dept text := p_body ->> 'department';
	c categories;
BEGIN
	IF v_dept IS NOT NULL AND NOT EXISTS (SELECT 1 FROM departments WHERE code = v_dept) THEN
		RETURN QUERY SELECT 422, case_error('invalid_field', format('unknown department %s', v_dept),
		                                    'department');
		RETURN;
	END IF;
	UPDATE categories SET name = coalesce(p_body ->> 'name', name), department = coalesce(v_dept, department),
	       enabled = coalesce((p_body ->> 'enabled')::boolean, enabled),
	       position = coalesce((p_body ->> 'position')::integer, position)
	 WHERE code = p_code
	RETURNING * INTO c;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 404, case_error('not_found', format('no category %s', p_code));
		RETURN;
	END IF;
	RETURN QUERY SELECT 200, category_json(c)::text;
END $$;
