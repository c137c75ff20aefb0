-- Reports (API.md section 5): a narrow copy of each case's report facts, kept by a trigger
-- in the transaction of every write to `cases`, so that the rates and hot-spot reports read
-- about 140 bytes per case instead of the whole case row (text, reply, caller...): a year of
-- a large city's cases is a few hundred MB to aggregate, not several GB.
--
-- Exactness: case_facts_of() is the only definition of the facts; the trigger writes exactly
-- its value for the row as committed, case_facts_drift() counts the rows that differ from
-- it (0), and case_facts_rebuild() recomputes them all after a bulk load.
--
-- What each fact means (the case columns come from 005 and its action functions):
--   department         last_department: the department that held the case last. A return
--                      keeps it (the returning department still answers for the case) until
--                      a dispatch elsewhere; NULL when never dispatched (rates key null).
--   answered           created as answered on the call (直接答复): answer is set only then
--   dispatched         dispatched at least once
--   signed_on_time     the current dispatch cycle's sign was by its sign_by
--   contacted_on_time  the current cycle's first contact was by its contact_by
--   replied            replied at least once; replied_on_time: the first reply by its finish_by
--   score, resolved    the latest visit (NULL score: never visited)
--   returned, reopened at least once
--   next_deadline      the nearest open deadline of a case a department holds, else infinity:
--                      open and overdue now <=> next_deadline < now()

CREATE TABLE case_facts (
	case_id           bigint PRIMARY KEY,
	created_at        timestamptz NOT NULL,
	department        text,
	district          text,
	category          text,
	type              text NOT NULL,
	channel           text NOT NULL,
	answered          boolean NOT NULL,
	dispatched        boolean NOT NULL,
	signed_on_time    boolean NOT NULL,
	contacted_on_time boolean NOT NULL,
	replied           boolean NOT NULL,
	replied_on_time   boolean NOT NULL,
	score             smallint,
	resolved          boolean NOT NULL,
	returned          boolean NOT NULL,
	reopened          boolean NOT NULL,
	next_deadline     timestamptz NOT NULL
) WITH (fillfactor = 85); -- room for the few updates of a young case to stay on its page (HOT)

-- Reports select by creation time; rows arrive in that order, so the index stays compact.
CREATE INDEX case_facts_created ON case_facts (created_at);

CREATE FUNCTION case_facts_of(c cases) RETURNS case_facts
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ROW(c.id, c.created_at, c.last_department, c.district, c.category, c.type, c.channel,
	           c.answer IS NOT NULL, c.first_dispatched_at IS NOT NULL,
	           coalesce(c.signed_on_time, false), coalesce(c.contacted_on_time, false),
	           c.first_replied_at IS NOT NULL, coalesce(c.replied_on_time, false),
	           c.visit_score, coalesce(c.visit_resolved, false) AND c.visit_score IS NOT NULL,
	           c.returns > 0, c.reopened > 0, c.next_deadline)::case_facts
$$;

-- Write the facts of NEW; an update that changes no fact writes nothing.
CREATE FUNCTION case_facts_put() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO case_facts AS f SELECT (case_facts_of(NEW)).*
	ON CONFLICT (case_id) DO UPDATE
	   SET (created_at, department, district, category, type, channel, answered, dispatched,
	        signed_on_time, contacted_on_time, replied, replied_on_time, score, resolved, returned,
	        reopened, next_deadline)
	     = (excluded.created_at, excluded.department, excluded.district, excluded.category, excluded.type,
	        excluded.channel, excluded.answered, excluded.dispatched, excluded.signed_on_time,
	        excluded.contacted_on_time, excluded.replied, excluded.replied_on_time, excluded.score,
	        excluded.resolved, excluded.returned, excluded.reopened, excluded.next_deadline)
	 WHERE f IS DISTINCT FROM excluded;
	RETURN NULL;
END $$;

CREATE TRIGGER cases_facts AFTER INSERT OR UPDATE ON cases
	FOR EACH ROW EXECUTE FUNCTION case_facts_put();

-- How many cases' facts differ from case_facts_of(the case), missing rows and rows of no
-- case included: 0 when the trigger kept everything in step (tests and bench check it).
CREATE FUNCTION case_facts_drift() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM cases c FULL JOIN case_facts f ON f.case_id = c.id
	 WHERE c.id IS NULL OR f.case_id IS NULL OR f IS DISTINCT FROM case_facts_of(c)
$$;

-- Recompute all facts from `cases` (after a bulk load made with the trigger disabled);
-- returns the number of rows. Waits for running actions and blocks new ones meanwhile.
CREATE FUNCTION case_facts_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	LOCK TABLE cases IN SHARE MODE;
	TRUNCATE case_facts;
	INSERT INTO case_facts SELECT (case_facts_of(c)).* FROM cases c ORDER BY c.created_at, c.id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

-- The rates report's counts (core/rates.h RateCount order) per key, for cases created in
-- [p_from, p_to) local time (the session TimeZone). p_by: department, district, type, channel.
-- Keys in order, no key (never dispatched, no district) last.
CREATE FUNCTION report_rates(p_from date, p_to date, p_by text)
RETURNS TABLE(key text, received bigint, answered bigint, dispatched bigint, signed_on_time bigint,
              contacted_on_time bigint, replied bigint, replied_on_time bigint, visited bigint,
              resolved bigint, satisfied bigint, score_sum bigint, returned bigint, reopened bigint,
              overdue_open bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE p_by WHEN 'department' THEN f.department WHEN 'district' THEN f.district
	                 WHEN 'type' THEN f.type WHEN 'channel' THEN f.channel END AS key,
	       count(*), count(*) FILTER (WHERE f.answered), count(*) FILTER (WHERE f.dispatched),
	       count(*) FILTER (WHERE f.signed_on_time), count(*) FILTER (WHERE f.contacted_on_time),
	       count(*) FILTER (WHERE f.replied), count(*) FILTER (WHERE f.replied_on_time),
	       count(f.score), count(*) FILTER (WHERE f.resolved), count(*) FILTER (WHERE f.score >= 3),
	       coalesce(sum(f.score), 0), count(*) FILTER (WHERE f.returned),
	       count(*) FILTER (WHERE f.reopened), count(*) FILTER (WHERE f.next_deadline < now())
	  FROM case_facts f
	 WHERE f.created_at >= p_from::timestamptz AND f.created_at < p_to::timestamptz
	 GROUP BY 1
	 ORDER BY 1 NULLS LAST
$$;

-- Hot spots: groups of cases created in the last p_days days (to now) with their count in
-- the p_days before, the p_top largest (then by key). Cases without the key are left out:
-- "no district" is not a place to act on. One row with NULL key and counts when there is
-- no group, so that the window's bounds always come back.
CREATE FUNCTION report_hotspots(p_days integer, p_by text, p_top integer)
RETURNS TABLE(key text, count bigint, previous bigint, window_from text, window_to text)
LANGUAGE sql STABLE AS $$
	WITH w AS (
		SELECT now() - p_days * interval '1 day' AS t0, now() AS t1
	), g AS (
		SELECT k.key,
		       count(*) FILTER (WHERE f.created_at >= w.t0) AS count,
		       count(*) FILTER (WHERE f.created_at < w.t0) AS previous
		  FROM w, case_facts f
		 CROSS JOIN LATERAL (SELECT CASE p_by WHEN 'district' THEN f.district WHEN 'category' THEN f.category
		                                      WHEN 'department' THEN f.department END AS key) k
		 WHERE f.created_at >= w.t0 - p_days * interval '1 day' AND f.created_at < w.t1
		   AND k.key IS NOT NULL
		 GROUP BY k.key
		HAVING count(*) FILTER (WHERE f.created_at >= w.t0) > 0
		 ORDER BY 2 DESC, 1
		 LIMIT p_top
	)
	SELECT g.key, g.count, g.previous, case_ts(w.t0), case_ts(w.t1)
	  FROM w LEFT JOIN g ON true
	 ORDER BY g.count DESC, g.key
$$;

-- Open cases past a deadline, grouped by the department holding them; groups and cases
-- oldest first (the deadline missed longest ago), at most p_limit cases listed per group
-- ("count" is always the full number). No caller data, no case text: a list for supervisors.
CREATE FUNCTION report_overdue(p_limit integer)
RETURNS TABLE(status integer, body text)
LANGUAGE sql STABLE AS $$
	WITH late AS (
		SELECT c.*, row_number() OVER (PARTITION BY c.department ORDER BY c.next_deadline, c.id) AS n,
		       count(*) OVER (PARTITION BY c.department) AS total,
		       min(c.next_deadline) OVER (PARTITION BY c.department) AS oldest
		  FROM cases c
		 WHERE c.state IN ('dispatched', 'accepted', 'reopened') AND c.next_deadline < now()
	), groups AS (
		SELECT l.department, l.total, l.oldest,
		       json_agg(json_build_object(
		           'id', l.id, 'number', l.number, 'created_at', case_ts(l.created_at), 'state', l.state,
		           'type', l.type, 'urgent', l.urgent, 'category', l.category, 'district', l.district,
		           'title', l.title,
		           'deadlines', json_build_object('sign_by', case_ts(l.sign_by),
		                                          'contact_by', case_ts(l.contact_by),
		                                          'finish_by', case_ts(l.finish_by)),
		           'late', to_json(array_remove(ARRAY[
		               CASE WHEN l.signed_at IS NULL AND l.sign_by < now() THEN 'sign' END,
		               CASE WHEN l.contacted_at IS NULL AND l.contact_by < now() THEN 'contact' END,
		               CASE WHEN l.replied_at IS NULL AND l.finish_by < now() THEN 'finish' END], NULL)),
		           'overdue_since', case_ts(l.next_deadline),
		           'overdue_minutes', floor(extract(epoch FROM now() - l.next_deadline) / 60)::bigint)
		           ORDER BY l.next_deadline, l.id) FILTER (WHERE l.n <= p_limit) AS items
		  FROM late l
		 GROUP BY l.department, l.total, l.oldest
	)
	SELECT 200, json_build_object(
		'now', case_ts(now()),
		'total', coalesce(sum(g.total), 0),
		'rows', coalesce(json_agg(json_build_object(
		            'department', g.department, 'name', d.name, 'count', g.total,
		            'oldest', case_ts(g.oldest), 'cases', g.items)
		        ORDER BY g.oldest, g.department), '[]'))::text
	  FROM groups g LEFT JOIN departments d ON d.code = g.department
$$;
