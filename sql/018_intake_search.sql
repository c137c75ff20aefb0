-- Intake aids, measured (bench/RESULTS-reports.md, 1 M generated cases): two searches of
-- 015_intake_aids.sql made bounded.
--
-- case_similar: 015 let the trigram index (`%` on cases_search) find the candidates. For a
-- report worded like many others (the generated cases all share one sentence frame; real ones
-- share "市民反映……希望尽快处理") every case is a candidate, and the answer took 1.5 s at 1 M cases.
-- Now the candidates are the newest 3,000 open cases of the last 30 days (of the district when
-- given), read newest first by the indexes on (district, id) or the primary key from the first
-- id of the window, and the similarity is computed on those only: the work has a bound whatever
-- the wording. A district of a 12345 centre gets a few thousand cases a month, most of them
-- closed within days, so 3,000 open ones reach back most of the 30 days; where they do not, the
-- newest are the likeliest duplicates. Measured at 1 M cases: ~9 us a candidate on a busy
-- machine, so 3,000 cost ~25 ms.
--
-- kb_search: 015 scored each article through two SQL functions per word and field (~30 ms for 38
-- articles); the same score is now one query: the query's character pairs joined with each
-- article's lowercased title, tags and body once. kb_match and kb_cover go.

CREATE OR REPLACE FUNCTION case_similar(p_text text, p_district text)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	v_since timestamptz := now() - interval '30 days';
	v_first bigint := (SELECT x.id FROM cases x WHERE x.created_at > v_since ORDER BY x.created_at LIMIT 1);
BEGIN
	-- planned for each call (force_custom_plan): with a district, the walk goes down
	-- cases_district (district, id); without one, down the primary key
	RETURN QUERY
	SELECT 200, json_build_object('items', coalesce(json_agg(json_build_object(
			'id', s.id, 'number', s.number, 'state', s.state, 'department', s.department,
			'district', s.district, 'title', s.title, 'created_at', case_ts(s.created_at),
			'similarity', round(s.score::numeric, 3)) ORDER BY s.score DESC, s.id DESC), '[]'))::text
	  FROM (SELECT w.*
	          FROM (SELECT x.id, x.number, x.state, x.department, x.district, x.title, x.created_at,
	                       similarity(coalesce(x.title, '') || ' ' || x.text, p_text) AS score
	                  FROM cases x
	                 WHERE (p_district IS NULL OR x.district = p_district) AND x.id >= v_first
	                   AND x.created_at > v_since AND x.state NOT IN ('closed', 'merged')
	                 ORDER BY x.id DESC
	                 LIMIT 3000) w
	         WHERE w.score >= 0.3
	         ORDER BY w.score DESC, w.id DESC
	         LIMIT 10) s;
END $$;

-- 015's ranking in one query: per word, the share of its character pairs in the title (x2),
-- the tags (x1.5) and the body, its trigram word_similarity with the title, one more when the
-- title holds it whole; an article matches when some word has 0.3 of its pairs in one field.
-- Without p_q: the most recently updated first.
CREATE OR REPLACE FUNCTION kb_search(p_q text, p_department text, p_limit integer)
RETURNS TABLE(status integer, body text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_q IS NULL THEN
		RETURN QUERY
		SELECT 200, json_build_object('items', coalesce(json_agg(kb_json(a) ORDER BY a.updated_at DESC, a.id),
		                                                '[]'))::text
		  FROM (SELECT * FROM kb_articles x
		         WHERE x.enabled AND (p_department IS NULL OR x.department = p_department)
		         ORDER BY x.updated_at DESC, x.id LIMIT p_limit) a;
		RETURN;
	END IF;
	RETURN QUERY
	WITH words AS (SELECT DISTINCT lower(w) AS w FROM regexp_split_to_table(p_q, '\s+') w WHERE w <> ''),
	     pairs AS (SELECT words.w, g FROM words, unnest(kb_grams(words.w)) g),
	     texts AS (SELECT x.id, lower(x.title) AS title, lower(array_to_string(x.tags, ' ')) AS tags,
	                      lower(x.body) AS body
	                 FROM kb_articles x
	                WHERE x.enabled AND (p_department IS NULL OR x.department = p_department)),
	     per_word AS (SELECT t.id, p.w, min(t.title) AS title,
	                         avg((strpos(t.title, p.g) > 0)::integer) AS ct,
	                         avg((strpos(t.tags, p.g) > 0)::integer) AS cg,
	                         avg((strpos(t.body, p.g) > 0)::integer) AS cb
	                    FROM texts t CROSS JOIN pairs p
	                   GROUP BY t.id, p.w),
	     scored AS (SELECT pw.id,
	                       sum(2 * pw.ct + 1.5 * pw.cg + pw.cb + word_similarity(pw.w, pw.title)
	                           + CASE WHEN strpos(pw.title, pw.w) > 0 THEN 1 ELSE 0 END) AS score
	                  FROM per_word pw
	                 GROUP BY pw.id
	                HAVING bool_or(greatest(pw.ct, pw.cg, pw.cb) >= 0.3)
	                 ORDER BY 2 DESC, 1
	                 LIMIT p_limit)
	SELECT 200, json_build_object('items', coalesce(json_agg(kb_json(a) ORDER BY s.score DESC, a.id), '[]'))::text
	  FROM scored s JOIN kb_articles a ON a.id = s.id;
END $$;

DROP FUNCTION kb_match(text, kb_articles);
DROP FUNCTION kb_cover(text[], text);
