-- Similar open cases (API.md section 14) within 50 ms at 10 M cases (issue #14).
--
-- 018's case_similar read the newest 3,000 open cases of the last 30 days of a district by
-- walking cases_district (district, id) newest first, dropping the closed and merged ones it met,
-- and computed the similarity of every row it read. Most cases close within days, so at 10 M
-- cases (164,000 in the last 30 days) the plan often walked the month's cases through
-- cases_created instead, scoring all of them before keeping the newest: 197 ms median, 346 ms p99
-- with a district, 580 / 858 ms without one (bench/RESULTS-reports.md).
--
-- Now:
--   - two indexes hold only the open cases (their predicate is case_similar's condition word for
--     word, which is what lets the planner use a partial index): the walk meets candidates only,
--     through cases_open_district with a district and cases_open without one;
--   - the window is chosen first (ids only) and scored after, so only its rows are scored;
--   - the window is the newest 1,000 open cases, and each side is compared on its first 200
--     characters of title + " " + text. pg_trgm's similarity costs ~7 us for two 35-character
--     texts on this machine and ~27 us for two of 150 (it builds the trigrams of both texts on
--     every call): 3,000 candidates took 36 ms alone with the generated 35-character texts and
--     would take ~80 ms with real ones. A reworded report shows itself in its first sentences
--     (place and problem), and the newest open cases are where a duplicate is likeliest.
-- A case leaves the two indexes when it closes or is merged; an intake pays two more small
-- B-tree entries.
CREATE INDEX cases_open_district ON cases (district, id) WHERE state NOT IN ('closed', 'merged');
CREATE INDEX cases_open ON cases (id) WHERE state NOT IN ('closed', 'merged');

CREATE OR REPLACE FUNCTION case_similar(p_text text, p_district text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET random_page_cost = 1.1 AS $$
DECLARE
	c_window constant integer := 1000;
	c_chars constant integer := 200;
	v_since timestamptz := now() - interval '30 days';
	v_first bigint := (SELECT x.id FROM cases x WHERE x.created_at > v_since ORDER BY x.created_at LIMIT 1);
	v_text text := left(p_text, c_chars);
BEGIN
	-- Planned for each call (force_custom_plan), so that p_district IS NULL folds away and the
	-- walk goes down cases_open_district or cases_open. Ids grow with created_at, so the window
	-- starts at the month's first id; created_at is checked after the walk, since the planner
	-- otherwise ANDs in a bitmap of the whole month from cases_created (13 ms at 10 M cases).
	-- random_page_cost 1.1: the newest cases are in memory; at the default 4 the planner took
	-- cases_open and dropped the other districts' rows (13 ms for 1,000 of a small district).
	-- The CTEs are materialized so that each candidate is scored once, not once for the filter
	-- and again for the sort.
	RETURN QUERY
	WITH w AS MATERIALIZED (
		SELECT x.id, x.number, x.state, x.department, x.district, x.title, x.text, x.created_at
		  FROM cases x
		 WHERE (p_district IS NULL OR x.district = p_district) AND x.id >= v_first
		   AND x.state NOT IN ('closed', 'merged')
		 ORDER BY x.id DESC
		 LIMIT c_window),
	scored AS MATERIALIZED (
		SELECT w.*, similarity(left(coalesce(w.title, '') || ' ' || w.text, c_chars), v_text) AS score
		  FROM w
		 WHERE w.created_at > v_since)
	SELECT 200, json_build_object('items', coalesce(json_agg(json_build_object(
			'id', b.id, 'number', b.number, 'state', b.state, 'department', b.department,
			'district', b.district, 'title', b.title, 'created_at', case_ts(b.created_at),
			'similarity', round(b.score::numeric, 3)) ORDER BY b.score DESC, b.id DESC), '[]'))::text
	  FROM (SELECT * FROM scored s WHERE s.score >= 0.3 ORDER BY s.score DESC, s.id DESC LIMIT 10) b;
END $$;
