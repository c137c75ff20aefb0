-- The department inbox (GET /v1/inbox) as plain rows, rendered to JSON by the server
-- (server/core/case_render.c) instead of by case_json: PostgreSQL's JSON output costs
-- ~25 us a field-heavy case, the C renderer a few microseconds.
--
-- case_inbox_page returns one row per open case of the department (dispatched, accepted,
-- reopened), nearest open deadline first, up to p_limit + 1 rows: the extra row only tells
-- the server that another page follows, and the `cursor` of row p_limit is then that page's
-- `next`. The columns are what case_json(c, 'department', p_dept) shows, in its key order,
-- each as PostgreSQL prints it: time stamps as RFC 3339 text in the session zone (case_ts),
-- `overdue` and `due_in_minutes` computed against now() exactly as case_inbox does.
-- A confidential caller's name and phone are never sent (NULL): a department sees
-- {"confidential": true} only, and what is not sent cannot leak.
--
-- p_after is the `next` of the previous page, '<deadline in epoch microseconds or inf>.<id>'
-- as case_inbox gives it; the server has checked its form (400 otherwise). PL/pgSQL keeps
-- the plan of the query per connection, and is told to use the generic one from the first
-- call: the custom plans of a connection's first five calls took the partial index
-- cases_overdue and filtered by department, ~1 ms more a page; the generic plan reads
-- cases_inbox (department, next_deadline, id) directly.
--
-- case_inbox (005) is no longer called by the server; it stays, as landed migrations do.

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
              version integer, due_in_minutes integer, cursor text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	v_after_deadline timestamptz := '-infinity';
	v_after_id bigint := 0;
BEGIN
	IF p_after IS NOT NULL THEN
		v_after_deadline := CASE WHEN split_part(p_after, '.', 1) = 'inf' THEN 'infinity'::timestamptz
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
	       x.version,
	       CASE WHEN isfinite(x.next_deadline)
	            THEN floor(extract(epoch FROM x.next_deadline - now()) / 60)::integer END,
	       CASE WHEN isfinite(x.next_deadline)
	            THEN (extract(epoch FROM x.next_deadline) * 1000000)::bigint::text
	            ELSE 'inf' END || '.' || x.id
	  FROM cases x
	 WHERE x.department = p_dept AND x.state IN ('dispatched', 'accepted', 'reopened')
	   AND (x.next_deadline, x.id) > (v_after_deadline, v_after_id)
	 ORDER BY x.next_deadline, x.id
	 LIMIT p_limit + 1;
END $$;
