-- bench/gen_cases.sql: one chunk of generated cases, ids :first to :last of :total, created
-- evenly over the :span_days days before :'now', with the history each case would have had
-- by :'now'. Run by bench/gen_cases.sh, which makes the bench users first, drops the
-- secondary indexes and recreates them at the end. Set-based: a chunk is one INSERT of cases
-- (with their case_facts) and one of events. Foreign keys and triggers are off
-- (session_replication_role = replica): the rows are consistent by construction.
--
-- Every case follows one path, drawn from hashes of its id (the same id always gets the
-- same case), and stops wherever :'now' finds it, so recent cases are open in every state
-- and some of them overdue:
--   13% answered on the call (40% of consultations); 60% of those are visited, 5% of the
--       visits are bad and send the case to the pool, from where it is dispatched;
--   10% of the others found no rule and wait in the pool until an operator dispatches;
--   1.5% are duplicates, merged into an earlier case within two hours;
--   6% of the dispatched are returned (half after signing) and dispatched elsewhere;
--   sign on time 94%, first contact on time 90%, reply on time 91%, 3% get a 5-day
--       extension approved, 0.1% are never replied to (the stale overdue backlog);
--   85% of replies are visited: scores 5/4/3/2/1 = 50/25/12/8/5%, resolved 93% of the
--       satisfied and 25% of the others; a score <= 2 reopens the case with a 7-day
--       rectification limit, and 95% of reopened replies are visited again (score >= 3).
-- Deadlines follow the shipped policy with calendar days standing in for working days
-- (end of the Nth day after dispatch); the sweeper's warning rows are not generated.
-- Case text is short and synthetic; caller names and phones are fake.

\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET session_replication_role = replica;
SET temp_buffers = '1GB';
SET jit = off;
SET work_mem = '256MB';

-- The reference lists, numbered from 1 (a case picks one with a uniform draw).
CREATE TEMP TABLE cat AS
SELECT row_number() OVER (ORDER BY c.department, c.position, c.code) AS n, c.code, c.name, c.department,
       -- another department than this category's, the k-th after it in the department list
       d.n AS dept_n
  FROM categories c
  JOIN (SELECT row_number() OVER (ORDER BY position, code) AS n, code FROM departments) d ON d.code = c.department;
CREATE TEMP TABLE dept AS SELECT row_number() OVER (ORDER BY position, code) AS n, code FROM departments;
CREATE TEMP TABLE district AS SELECT row_number() OVER (ORDER BY position, name) AS n, name FROM districts;
-- The routing rules of each department, for the cases a rule dispatched at creation.
CREATE TEMP TABLE dept_rule AS
SELECT department, array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names
  FROM rules WHERE enabled GROUP BY department;
CREATE TEMP TABLE op AS
SELECT row_number() OVER (ORDER BY id) AS n, id, name FROM users WHERE name LIKE 'bench-operator-%';
CREATE TEMP TABLE sizes AS
SELECT (SELECT count(*) FROM cat) AS cats, (SELECT count(*) FROM dept) AS depts,
       (SELECT count(*) FROM district) AS districts, (SELECT count(*) FROM op) AS ops,
       (SELECT id FROM users WHERE name = 'bench-manager') AS mgr;
ANALYZE cat, dept, dept_rule, district, op, sizes;

CREATE TEMP TABLE dept_user AS
SELECT department AS code, id, name FROM users WHERE name LIKE 'bench-dept-%';

-- A uniform number in [0, 1) for case i and draw k.
CREATE FUNCTION pg_temp.u(i bigint, k integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT (hashint8(i * 64 + k)::double precision + 2147483648.0) / 4294967296.0
$$;

-- The end (23:59:59 local) of the nth day after t's day: the working-day limit, roughly.
CREATE FUNCTION pg_temp.eod(t timestamptz, n integer) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT date_trunc('day', t) + (n + 1) * interval '1 day' - interval '1 second'
$$;

-- The three deadlines of a dispatch at t.
CREATE FUNCTION pg_temp.limits(t timestamptz, p_type text, p_urgent boolean)
RETURNS TABLE(sign_by timestamptz, contact_by timestamptz, finish_by timestamptz) -- a table: inlined
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_urgent THEN t + interval '30 minutes' ELSE pg_temp.eod(t, 1) END,
	       CASE WHEN p_urgent THEN t + interval '2 hours'
	            WHEN p_type IN ('consult', 'help') THEN pg_temp.eod(t, 1) ELSE pg_temp.eod(t, 2) END,
	       CASE WHEN p_urgent THEN t + interval '24 hours'
	            WHEN p_type = 'consult' THEN pg_temp.eod(t, 2)
	            WHEN p_type = 'help' THEN pg_temp.eod(t, 5) ELSE pg_temp.eod(t, 10) END
$$;

-- A score 1-5 from a uniform draw: 5/4/3/2/1 = 50/25/12/8/5%.
CREATE FUNCTION pg_temp.score(x double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
	SELECT (CASE WHEN x < 0.50 THEN 5 WHEN x < 0.75 THEN 4 WHEN x < 0.87 THEN 3 WHEN x < 0.95 THEN 2 ELSE 1 END)::smallint
$$;

-- Null when t is after the cutoff: what has not happened yet.
CREATE FUNCTION pg_temp.by_now(t timestamptz, cutoff timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN t <= cutoff THEN t END
$$;

-- Step 1: who the case is and the times of its whole path.
CREATE TEMP TABLE raw AS
WITH b AS MATERIALIZED (
	SELECT i AS id,
	       :'now'::timestamptz - (:span_days - ((i - 1) + pg_temp.u(i, 0)) / :total * :span_days) * interval '1 day' AS t0,
	       CASE WHEN pg_temp.u(i, 4) < 0.45 THEN 'complaint' WHEN pg_temp.u(i, 4) < 0.70 THEN 'consult'
	            WHEN pg_temp.u(i, 4) < 0.82 THEN 'help' WHEN pg_temp.u(i, 4) < 0.92 THEN 'report'
	            WHEN pg_temp.u(i, 4) < 0.98 THEN 'suggestion' ELSE 'praise' END AS type,
	       CASE WHEN pg_temp.u(i, 3) < 0.60 THEN 'phone' WHEN pg_temp.u(i, 3) < 0.72 THEN 'wechat'
	            WHEN pg_temp.u(i, 3) < 0.82 THEN 'app' WHEN pg_temp.u(i, 3) < 0.90 THEN 'web'
	            WHEN pg_temp.u(i, 3) < 0.94 THEN 'hall' WHEN pg_temp.u(i, 3) < 0.96 THEN 'kiosk'
	            WHEN pg_temp.u(i, 3) < 0.98 THEN 'email' ELSE 'open311' END AS channel,
	       1 + floor(pg_temp.u(i, 1) * z.cats)::bigint AS cat_n,
	       -- the re-dispatch after a return goes to another department than the first
	       1 + floor(pg_temp.u(i, 21) * (z.depts - 1))::bigint AS dept_skip,
	       -- 5% without a district; the first districts are the busiest
	       CASE WHEN pg_temp.u(i, 6) < 0.95 THEN 1 + floor(z.districts * pg_temp.u(i, 7) ^ 2)::bigint END AS district_n,
	       1 + floor(pg_temp.u(i, 40) * z.ops)::bigint AS op_n, z.depts, z.mgr
	  FROM generate_series(:first::bigint, :last::bigint) AS i, sizes z
), d AS MATERIALIZED (
	SELECT b.id, b.t0, b.type, b.channel, b.mgr, c.code AS cat_code, c.name AS cat_name, c.department AS dept1,
	       d2.code AS dept2, ds.name AS district, o.id AS op, o.name AS op_name,
	       dr.ids[1 + floor(pg_temp.u(b.id, 42) * cardinality(dr.ids))::integer] AS rule_id,
	       dr.names[1 + floor(pg_temp.u(b.id, 42) * cardinality(dr.ids))::integer] AS rule_name,
	       (b.type = 'consult' AND pg_temp.u(b.id, 8) < 0.40) OR pg_temp.u(b.id, 8) < 0.05 AS answered,
	       pg_temp.u(b.id, 5) < 0.03 AS urgent,
	       pg_temp.u(b.id, 2) < 0.85 OR dr.ids IS NULL AS has_cat, -- else a rule routed it
	       pg_temp.u(b.id, 9) < 0.12 AS pool_first,
	       b.id - :first >= 50 AND pg_temp.u(b.id, 10) < 0.015 AS merge_draw, -- into a case of this chunk
	       pg_temp.u(b.id, 16) < 0.06 AS returned,
	       pg_temp.u(b.id, 18) < 0.5 AS signed_before_return,
	       pg_temp.u(b.id, 26) < 0.03 AS extended,
	       pg_temp.u(b.id, 27) < 0.001 AS stuck,
	       pg_temp.score(pg_temp.u(b.id, 13)) AS score_a,
	       pg_temp.u(b.id, 12) < 0.60 AS visited_a
	  FROM b
	  JOIN cat c ON c.n = b.cat_n
	  JOIN dept d2 ON d2.n = 1 + (c.dept_n - 1 + b.dept_skip) % b.depts
	  JOIN op o ON o.n = b.op_n
	  LEFT JOIN dept_rule dr ON dr.department = c.department
	  LEFT JOIN district ds ON ds.n = b.district_n
), e AS MATERIALIZED (
	-- the answered path, the pool, merging, the first dispatch
	SELECT d.*,
	       CASE WHEN d.answered AND d.visited_a THEN d.t0 + interval '2 hours' + pg_temp.u(d.id, 11) * interval '70 hours' END AS tav,
	       d.merge_draw AND NOT d.answered AS merged,
	       CASE WHEN d.merge_draw AND NOT d.answered THEN d.t0 + interval '5 minutes' + pg_temp.u(d.id, 15) * interval '2 hours' END AS tm
	  FROM d
), f AS MATERIALIZED (
	SELECT e.*,
	       CASE WHEN e.answered THEN CASE WHEN e.score_a <= 2 THEN e.tav + interval '10 minutes' + pg_temp.u(e.id, 14) * interval '3 hours' END
	            WHEN e.merged THEN CASE WHEN NOT e.pool_first THEN e.t0 END
	            WHEN e.pool_first THEN e.t0 + interval '10 minutes' + pg_temp.u(e.id, 14) * interval '4 hours'
	            ELSE e.t0 END AS td1
	  FROM e
), g AS MATERIALIZED (
	-- a return and the dispatch elsewhere; the merged go no further
	SELECT f.*, l1.sign_by AS sb1, l1.contact_by AS cb1, l1.finish_by AS fb1,
	       CASE WHEN f.returned AND f.td1 IS NOT NULL AND NOT f.merged
	            THEN f.td1 + interval '30 minutes' + pg_temp.u(f.id, 17) * interval '20 hours' END AS tret
	  FROM f LEFT JOIN LATERAL pg_temp.limits(f.td1, f.type, f.urgent) l1 ON true
), h AS MATERIALIZED (
	SELECT g.*,
	       CASE WHEN g.signed_before_return THEN g.td1 + (g.tret - g.td1) * pg_temp.u(g.id, 19) END AS ts1,
	       g.tret + interval '10 minutes' + pg_temp.u(g.id, 20) * interval '3 hours' AS td2
	  FROM g
), k AS MATERIALIZED (
	-- the current cycle: sign, contact, extension, first reply
	SELECT h.*, coalesce(h.td2, h.td1) AS tdc, lc.sign_by AS sbc, lc.contact_by AS cbc, lc.finish_by AS fbc,
	       CASE WHEN h.merged OR h.td1 IS NULL THEN NULL
	            WHEN pg_temp.u(h.id, 22) < 0.94
	            THEN coalesce(h.td2, h.td1) + (lc.sign_by - coalesce(h.td2, h.td1)) * (0.02 + 0.9 * pg_temp.u(h.id, 23))
	            ELSE lc.sign_by + interval '10 minutes' + pg_temp.u(h.id, 23) * interval '30 hours' END AS ts
	  FROM h LEFT JOIN LATERAL pg_temp.limits(coalesce(h.td2, h.td1), h.type, h.urgent) lc ON true
), m AS MATERIALIZED (
	SELECT k.*,
	       CASE WHEN k.ts IS NULL THEN NULL
	            WHEN pg_temp.u(k.id, 24) < 0.90 AND k.cbc > k.ts
	            THEN k.ts + (k.cbc - k.ts) * (0.05 + 0.9 * pg_temp.u(k.id, 25))
	            ELSE greatest(k.ts, k.cbc) + interval '1 hour' + pg_temp.u(k.id, 25) * interval '48 hours' END AS tc
	  FROM k
), n AS MATERIALIZED (
	SELECT m.*,
	       CASE WHEN m.extended THEN m.tc + interval '1 hour' END AS te,
	       CASE WHEN m.extended THEN m.tc + interval '4 hours' END AS ta,
	       m.fbc + CASE WHEN m.extended THEN interval '5 days' ELSE interval '0' END AS fbx
	  FROM m
), p AS MATERIALIZED (
	SELECT n.*,
	       CASE WHEN n.stuck OR n.tc IS NULL THEN NULL
	            WHEN pg_temp.u(n.id, 28) < 0.91 AND n.fbx > coalesce(n.ta, n.tc)
	            THEN coalesce(n.ta, n.tc) + (n.fbx - coalesce(n.ta, n.tc)) * (0.1 + 0.85 * pg_temp.u(n.id, 29))
	            ELSE greatest(n.fbx, coalesce(n.ta, n.tc)) + interval '2 hours' + pg_temp.u(n.id, 29) * interval '5 days' END AS tr1,
	       pg_temp.score(pg_temp.u(n.id, 32)) AS score1
	  FROM n
), q AS MATERIALIZED (
	-- visits, rectification, the second reply and visit
	SELECT p.*,
	       CASE WHEN pg_temp.u(p.id, 30) < 0.85 THEN p.tr1 + interval '2 hours' + pg_temp.u(p.id, 31) * interval '70 hours' END AS tv1,
	       CASE WHEN p.score1 >= 3 THEN pg_temp.u(p.id, 33) < 0.93 ELSE pg_temp.u(p.id, 33) < 0.25 END AS resolved1,
	       (5 - floor(pg_temp.u(p.id, 37) * 3))::smallint AS score2,
	       pg_temp.u(p.id, 38) < 0.9 AS resolved2,
	       CASE WHEN p.score_a >= 3 THEN pg_temp.u(p.id, 39) < 0.93 ELSE pg_temp.u(p.id, 39) < 0.25 END AS resolved_a
	  FROM p
)
SELECT q.id, q.t0, q.type, q.urgent, q.answered, q.pool_first,
       q.has_cat, q.rule_id, q.rule_name, q.dept1, q.dept2,
       CASE WHEN q.has_cat THEN q.cat_code END AS category, q.cat_name, q.district, q.channel,
       q.op, q.op_name, q.mgr,
       q.score_a, q.resolved_a, q.score1, q.resolved1, q.score2, q.resolved2,
       q.sb1, q.cb1, q.fb1, q.sbc, q.cbc, q.fbc, q.fbx,
       q.tv1 + interval '7 days' AS fb2,
       CASE WHEN q.merged THEN q.id - 1 - floor(pg_temp.u(q.id, 41) * 50)::bigint END AS merged_into,
       pg_temp.by_now(q.tav, :'now') AS tav, pg_temp.by_now(q.tm, :'now') AS tm,
       pg_temp.by_now(CASE WHEN q.answered OR q.pool_first THEN q.td1 END, :'now') AS tpd,
       pg_temp.by_now(q.td1, :'now') AS td1, pg_temp.by_now(q.tret, :'now') AS tret,
       pg_temp.by_now(CASE WHEN q.tret IS NOT NULL THEN q.ts1 END, :'now') AS ts1,
       pg_temp.by_now(q.td2, :'now') AS td2, pg_temp.by_now(q.ts, :'now') AS ts, pg_temp.by_now(q.tc, :'now') AS tc,
       pg_temp.by_now(q.te, :'now') AS te, pg_temp.by_now(q.ta, :'now') AS ta, pg_temp.by_now(q.tr1, :'now') AS tr1,
       pg_temp.by_now(q.tv1, :'now') AS tv1,
       pg_temp.by_now(CASE WHEN q.score1 <= 2 THEN q.tv1 + interval '1 day' + pg_temp.u(q.id, 34) * interval '8 days' END, :'now') AS tr2,
       pg_temp.by_now(CASE WHEN q.score1 <= 2 AND pg_temp.u(q.id, 36) < 0.95
                           THEN q.tv1 + interval '1 day' + pg_temp.u(q.id, 34) * interval '8 days'
                                + interval '2 hours' + pg_temp.u(q.id, 35) * interval '46 hours' END, :'now') AS tv2
  FROM q;

-- Step 2: the state and columns each case has at :'now' (what 005's functions would have left).
CREATE TEMP TABLE gen AS
SELECT r.*,
       CASE WHEN r.tv2 IS NOT NULL THEN 'closed'
            WHEN r.tr2 IS NOT NULL THEN 'replied'
            WHEN r.tv1 IS NOT NULL THEN CASE WHEN r.score1 <= 2 THEN 'reopened' ELSE 'closed' END
            WHEN r.tr1 IS NOT NULL THEN 'replied'
            WHEN r.ts IS NOT NULL THEN 'accepted'
            WHEN r.td2 IS NOT NULL THEN 'dispatched'
            WHEN r.tret IS NOT NULL THEN 'pending'
            WHEN r.ts1 IS NOT NULL THEN 'accepted'
            WHEN r.tm IS NOT NULL THEN 'merged'
            WHEN r.td1 IS NOT NULL THEN 'dispatched'
            WHEN r.tav IS NOT NULL THEN CASE WHEN r.score_a <= 2 THEN 'pending' ELSE 'closed' END
            WHEN r.answered THEN 'answered'
            WHEN r.pool_first THEN 'pending'
            ELSE 'dispatched' END AS state,
       CASE WHEN r.answered THEN 'answered' WHEN r.pool_first THEN 'pending' ELSE 'dispatched' END AS state0,
       r.tv1 IS NOT NULL AND r.score1 <= 2 AS reopened,
       CASE WHEN r.td2 IS NOT NULL THEN r.dept2 ELSE r.dept1 END AS holder -- of the current cycle
  FROM raw r;

-- The cases, and their report facts computed by 007's own definition.
WITH ins AS (
INSERT INTO cases (id, number, created_at, created_by, channel, type, urgent, category, title, text, district,
                   address, caller_name, caller_phone, caller_confidential, answer, state, department,
                   routing_method, routing_rule_id, routing_rule_name, sign_by, contact_by, finish_by,
                   dispatched_at, signed_at, contacted_at, replied_at, visited_at, closed_at,
                   reply_text, reply_resolved, visit_score, visit_resolved, visit_comment,
                   returns, reopened, merged_into, ext_state, ext_workdays, ext_reason, ext_requested_at,
                   ext_decided_at, last_department, first_dispatched_at, signed_on_time, contacted_on_time,
                   first_replied_at, replied_on_time, version)
SELECT g.id, to_char(g.t0, 'YYYYMMDD') || '-' || lpad((g.id % 1000000)::text, 6, '0'), g.t0, g.op,
       g.channel, g.type, g.urgent, g.category, g.cat_name,
       '市民反映' || coalesce(g.district, '') || '某小区附近' || g.cat_name || '的问题，希望有关部门尽快处理。',
       g.district, coalesce(g.district, '') || '建设路' || (g.id % 300 + 1) || '号',
       (ARRAY['张', '王', '李', '赵', '刘', '陈'])[1 + g.id % 6] || (ARRAY['先生', '女士'])[1 + g.id % 2],
       '13' || lpad((g.id * 7919 % 1000000000)::text, 9, '0'), g.id % 10 = 0,
       CASE WHEN g.answered THEN '已按政策解答，市民表示知晓。' END,
       g.state,
       CASE WHEN g.state IN ('pending', 'answered') THEN NULL
            WHEN g.state = 'merged' THEN CASE WHEN g.td1 IS NOT NULL THEN g.dept1 END
            WHEN g.td2 IS NOT NULL THEN g.dept2 ELSE g.dept1 END,
       CASE WHEN g.tpd IS NOT NULL OR g.td2 IS NOT NULL THEN 'manual'
            WHEN g.state0 <> 'dispatched' THEN 'none'
            WHEN g.has_cat THEN 'category' ELSE 'rule' END,
       CASE WHEN g.tpd IS NULL AND g.td2 IS NULL AND g.state0 = 'dispatched' AND NOT g.has_cat THEN g.rule_id END,
       CASE WHEN g.tpd IS NULL AND g.td2 IS NULL AND g.state0 = 'dispatched' AND NOT g.has_cat THEN g.rule_name END,
       CASE WHEN g.state IN ('pending', 'answered') OR g.td1 IS NULL THEN NULL ELSE g.sbc END,
       CASE WHEN g.state IN ('pending', 'answered') OR g.td1 IS NULL THEN NULL ELSE g.cbc END,
       CASE WHEN g.state IN ('pending', 'answered') OR g.td1 IS NULL THEN NULL
            WHEN g.reopened THEN g.fb2
            WHEN g.ta IS NOT NULL THEN g.fbx ELSE g.fbc END,
       coalesce(g.td2, g.td1),
       CASE WHEN g.td2 IS NULL AND g.tret IS NOT NULL THEN g.ts1 ELSE g.ts END,
       CASE WHEN g.td2 IS NULL AND g.tret IS NOT NULL THEN NULL ELSE g.tc END,
       CASE WHEN g.tr2 IS NOT NULL THEN g.tr2 WHEN g.reopened THEN NULL ELSE g.tr1 END,
       coalesce(g.tv2, g.tv1, g.tav),
       CASE WHEN g.state = 'closed' THEN coalesce(g.tv2, g.tv1, g.tav) END,
       CASE WHEN g.tr1 IS NOT NULL THEN '经核查已处理，已与市民沟通。' END,
       CASE WHEN g.tr1 IS NOT NULL THEN true END,
       CASE WHEN g.tv2 IS NOT NULL THEN g.score2 WHEN g.tv1 IS NOT NULL THEN g.score1
            WHEN g.tav IS NOT NULL THEN g.score_a END,
       CASE WHEN g.tv2 IS NOT NULL THEN g.resolved2 WHEN g.tv1 IS NOT NULL THEN g.resolved1
            WHEN g.tav IS NOT NULL THEN g.resolved_a END,
       NULL,
       CASE WHEN g.tret IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN g.reopened THEN 1 ELSE 0 END,
       CASE WHEN g.state = 'merged' THEN g.merged_into END,
       CASE WHEN g.reopened THEN NULL WHEN g.ta IS NOT NULL THEN 'approved' WHEN g.te IS NOT NULL THEN 'pending' END,
       CASE WHEN g.te IS NOT NULL AND NOT g.reopened THEN 5 END,
       CASE WHEN g.te IS NOT NULL AND NOT g.reopened THEN '需协调多部门现场核查' END,
       CASE WHEN NOT g.reopened THEN g.te END, CASE WHEN NOT g.reopened THEN g.ta END,
       CASE WHEN g.td2 IS NOT NULL THEN g.dept2 WHEN g.td1 IS NOT NULL THEN g.dept1 END,
       g.td1,
       CASE WHEN g.state = 'merged' THEN NULL
            WHEN g.td2 IS NULL AND g.tret IS NOT NULL THEN CASE WHEN g.ts1 IS NOT NULL THEN g.ts1 <= g.sb1 END
            WHEN g.ts IS NOT NULL THEN g.ts <= g.sbc END,
       CASE WHEN g.td2 IS NULL AND g.tret IS NOT NULL THEN NULL WHEN g.tc IS NOT NULL THEN g.tc <= g.cbc END,
       g.tr1, CASE WHEN g.tr1 IS NOT NULL THEN g.tr1 <= g.fbx END,
       1 + num_nonnulls(g.tav, g.tpd, g.tm, g.ts1, g.tret, g.td2, g.ts, g.tc, g.te, g.ta, g.tr1, g.tv1, g.tr2, g.tv2)
  FROM gen g
RETURNING *
)
INSERT INTO case_facts SELECT (case_facts_of(ROW(ins.*)::cases)).* FROM ins ORDER BY ins.id;

-- Step 3: the history, in order within each case: one simple scan per kind of event (much
-- faster than a lateral VALUES list per case), sorted into place.
INSERT INTO case_events (case_id, at, actor_id, actor, role, action, from_state, to_state, data)
SELECT ev.case_id, ev.at,
       CASE ev.who WHEN 'o' THEN ev.op WHEN 'm' THEN ev.mgr ELSE du.id END,
       CASE ev.who WHEN 'o' THEN ev.op_name WHEN 'm' THEN 'bench-manager' ELSE du.name END,
       CASE ev.who WHEN 'o' THEN 'operator' WHEN 'm' THEN 'manager' ELSE 'department' END,
       ev.action, ev.from_state, ev.to_state, ev.data
  FROM (
	SELECT id AS case_id, 1 AS seq, t0 AS at, 'o' AS who, op, op_name, mgr, NULL::text AS dept, 'create' AS action,
	       NULL::text AS from_state, state0 AS to_state,
	       CASE WHEN state0 = 'dispatched'
	            THEN jsonb_build_object('channel', channel, 'department', dept1, 'routing',
	                                    CASE WHEN has_cat THEN '{"method": "category"}'
	                                         ELSE jsonb_build_object('method', 'rule', 'rule_id', rule_id,
	                                                                 'rule_name', rule_name) END)
	            ELSE jsonb_build_object('channel', channel) END AS data
	  FROM gen
	UNION ALL
	SELECT id, 2, tav, 'o', op, op_name, mgr, NULL, 'visit', 'answered', CASE WHEN score_a <= 2 THEN 'pending' ELSE 'closed' END,
	       jsonb_build_object('score', score_a, 'resolved', resolved_a)
	  FROM gen WHERE tav IS NOT NULL
	UNION ALL
	SELECT id, 3, tpd, 'o', op, op_name, mgr, NULL, 'dispatch', 'pending', 'dispatched',
	       jsonb_build_object('department', dept1, 'deadlines', jsonb_build_object(
	           'sign_by', case_ts(sb1), 'contact_by', case_ts(cb1), 'finish_by', case_ts(fb1)))
	  FROM gen WHERE tpd IS NOT NULL
	UNION ALL
	SELECT id, 4, tm, 'o', op, op_name, mgr, NULL, 'merge', state0, 'merged', jsonb_build_object('into', merged_into)
	  FROM gen WHERE tm IS NOT NULL
	UNION ALL
	SELECT id, 5, ts1, 'd', op, op_name, mgr, dept1, 'sign', 'dispatched', 'accepted', '{}'
	  FROM gen WHERE ts1 IS NOT NULL
	UNION ALL
	SELECT id, 6, tret, 'd', op, op_name, mgr, dept1, 'return', CASE WHEN ts1 IS NOT NULL THEN 'accepted' ELSE 'dispatched' END,
	       'pending', jsonb_build_object('reason', '不属于本单位职责', 'department', dept1)
	  FROM gen WHERE tret IS NOT NULL
	UNION ALL
	SELECT id, 7, td2, 'o', op, op_name, mgr, NULL, 'dispatch', 'pending', 'dispatched',
	       jsonb_build_object('department', dept2, 'deadlines', jsonb_build_object(
	           'sign_by', case_ts(sbc), 'contact_by', case_ts(cbc), 'finish_by', case_ts(fbc)))
	  FROM gen WHERE td2 IS NOT NULL
	UNION ALL
	SELECT id, 8, ts, 'd', op, op_name, mgr, holder, 'sign', 'dispatched', 'accepted', '{}'
	  FROM gen WHERE ts IS NOT NULL
	UNION ALL
	SELECT id, 9, tc, 'd', op, op_name, mgr, holder, 'contact', 'accepted', 'accepted', '{"note": "已电话联系市民"}'
	  FROM gen WHERE tc IS NOT NULL
	UNION ALL
	SELECT id, 10, te, 'd', op, op_name, mgr, holder, 'extend', 'accepted', 'accepted',
	       '{"workdays": 5, "reason": "需协调多部门现场核查"}'
	  FROM gen WHERE te IS NOT NULL
	UNION ALL
	SELECT id, 11, ta, 'm', op, op_name, mgr, NULL, 'approve', 'accepted', 'accepted',
	       jsonb_build_object('workdays', 5, 'finish_by_before', case_ts(fbc), 'finish_by', case_ts(fbx))
	  FROM gen WHERE ta IS NOT NULL
	UNION ALL
	SELECT id, 12, tr1, 'd', op, op_name, mgr, holder, 'reply', 'accepted', 'replied', '{"resolved": true}'
	  FROM gen WHERE tr1 IS NOT NULL
	UNION ALL
	SELECT id, 13, tv1, 'o', op, op_name, mgr, NULL, 'visit', 'replied', CASE WHEN score1 <= 2 THEN 'reopened' ELSE 'closed' END,
	       CASE WHEN score1 <= 2 THEN jsonb_build_object('score', score1, 'resolved', resolved1, 'finish_by', case_ts(fb2))
	            ELSE jsonb_build_object('score', score1, 'resolved', resolved1) END
	  FROM gen WHERE tv1 IS NOT NULL
	UNION ALL
	SELECT id, 14, tr2, 'd', op, op_name, mgr, holder, 'reply', 'reopened', 'replied', '{"resolved": true}'
	  FROM gen WHERE tr2 IS NOT NULL
	UNION ALL
	SELECT id, 15, tv2, 'o', op, op_name, mgr, NULL, 'visit', 'replied', 'closed',
	       jsonb_build_object('score', score2, 'resolved', resolved2)
	  FROM gen WHERE tv2 IS NOT NULL
  ) ev
  LEFT JOIN dept_user du ON du.code = ev.dept
 ORDER BY ev.case_id, ev.seq;
