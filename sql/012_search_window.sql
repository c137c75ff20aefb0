-- A search (q) of fewer than 3 characters cannot use the trigram index (cases_search needs a
-- whole trigram), so it scanned every case that passed the other filters: a storm of them held
-- connections for seconds. Such a search now looks through the newest 5,000 cases that pass the
-- other filters (an index walk newest first, as a page without q) and no further: a page can
-- then hold fewer than `limit` items and still have a `next`, which goes on searching from
-- where this window ended. Two-character words are common in Chinese (路灯, 井盖), so they are
-- served, not refused. Searches of 3 characters and more are unchanged.
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
	IF p_role = 'department' THEN v_where := v_where || ' AND x.department = $1'; END IF;
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
	v_sql := 'SELECT x FROM cases x WHERE true' || v_where || ' ORDER BY x.id DESC LIMIT $12';
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
