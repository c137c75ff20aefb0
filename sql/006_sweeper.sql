-- The deadline sweeper (API.md section 4): one deadline_warning and one overdue history row
-- per clock, written exactly once even when several servers sweep the same database.
--
-- A clock is one of a case's three deadlines while the case is held by a department
-- (dispatched, accepted, reopened) and its event has not happened:
--   sign     started at dispatched_at, ends at sign_by,    done at signed_at
--   contact  started at dispatched_at, ends at contact_by, done at contacted_at
--   finish   started at the later of dispatched_at and visited_at (a reopening visit
--            starts the rectification clock), ends at finish_by, done at replied_at
-- A re-dispatch or a reopening gives a clock a new start, so it is a new clock with its
-- own rows; an approved extension moves the deadline but keeps the clock (and its rows).
--
-- The server calls, once per pass (one round trip, one transaction):
--   SELECT warnings, overdue FROM sweep_deadlines($warn_at);
-- Exactly once: every row written is first claimed in sweeper_marks, whose primary key is
-- the clock's identity; a claim that exists already writes nothing. An advisory lock lets
-- one server sweep at a time (the others skip the pass instead of waiting), and the due
-- cases are locked SKIP LOCKED, so a case an action is changing right now waits for the
-- next pass and is then judged on its committed state.

CREATE TABLE sweeper_marks (
	case_id    bigint NOT NULL REFERENCES cases(id),
	clock      text NOT NULL CHECK (clock IN ('sign', 'contact', 'finish')),
	kind       text NOT NULL CHECK (kind IN ('deadline_warning', 'overdue')),
	started_at timestamptz NOT NULL,
	marked_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (case_id, clock, kind, started_at)
);

-- When to warn about a clock from p_start to p_deadline: the same rule as the core's
-- sla_warn_time(), start + warn_at of the clock's length, down to the second. STABLE, as
-- timestamptz + interval is, so that the planner inlines it.
CREATE FUNCTION sweep_warn_time(p_start timestamptz, p_deadline timestamptz, p_warn_at double precision)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN p_deadline <= p_start THEN p_deadline
	            ELSE p_start + floor(p_warn_at * extract(epoch FROM p_deadline - p_start)) * interval '1 second' END
$$;

-- The open clocks of a case held by a department (the caller checks the state), from its
-- columns: scalars rather than the whole row, which would be copied for every use.
CREATE FUNCTION sweep_clocks(p_dispatched_at timestamptz, p_visited_at timestamptz,
                             p_sign_by timestamptz, p_signed_at timestamptz,
                             p_contact_by timestamptz, p_contacted_at timestamptz,
                             p_finish_by timestamptz, p_replied_at timestamptz)
RETURNS TABLE(clock text, started_at timestamptz, deadline timestamptz)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT k.clock, k.started_at, k.deadline
	  FROM (VALUES ('sign', p_dispatched_at, p_sign_by, p_signed_at),
	               ('contact', p_dispatched_at, p_contact_by, p_contacted_at),
	               ('finish', greatest(p_dispatched_at, p_visited_at), p_finish_by, p_replied_at))
	       AS k(clock, started_at, deadline, done_at)
	 WHERE k.started_at IS NOT NULL AND k.deadline IS NOT NULL AND k.done_at IS NULL
$$;

-- One pass. p_warn_at: the policy's warn_at (0..1) as the calling server loaded it.
-- Returns how many rows of each kind it wrote; both 0 when another server holds the pass.
--   candidates: cases with a clock whose next row (the warning, or the overdue row once the
--               deadline has passed: a warning always comes due first) is due and unwritten;
--   locked:     those rows locked, as committed now (an action that committed meanwhile counts);
--   due:        the rows to write, judged again on the locked rows.
CREATE FUNCTION sweep_deadlines(p_warn_at double precision, OUT warnings integer, OUT overdue integer)
LANGUAGE plpgsql AS $$
BEGIN
	warnings := 0;
	overdue := 0;
	-- 0x5357454550 = 'SWEEP': one sweeper at a time; the lock ends with the transaction.
	IF NOT pg_try_advisory_xact_lock(357946443088) THEN
		RETURN;
	END IF;
	WITH candidates AS (
		SELECT c.id
		  FROM cases c
		 CROSS JOIN LATERAL sweep_clocks(c.dispatched_at, c.visited_at, c.sign_by, c.signed_at,
		                                 c.contact_by, c.contacted_at, c.finish_by, c.replied_at) k
		 WHERE c.state IN ('dispatched', 'accepted', 'reopened')
		   AND sweep_warn_time(k.started_at, k.deadline, p_warn_at) <= now()
		   AND NOT EXISTS (SELECT 1 FROM sweeper_marks m
		                    WHERE m.case_id = c.id AND m.clock = k.clock AND m.started_at = k.started_at
		                      AND m.kind = CASE WHEN k.deadline <= now() THEN 'overdue' ELSE 'deadline_warning' END)
	), locked AS (
		SELECT c.id, c.state, c.dispatched_at, c.visited_at, c.sign_by, c.signed_at,
		       c.contact_by, c.contacted_at, c.finish_by, c.replied_at
		  FROM cases c
		 WHERE c.id = ANY (ARRAY(SELECT id FROM candidates))
		   AND c.state IN ('dispatched', 'accepted', 'reopened')
		 ORDER BY c.id
		   FOR UPDATE OF c SKIP LOCKED
	), due AS (
		SELECT l.id AS case_id, l.state, k.clock, w.kind, k.started_at, k.deadline
		  FROM locked l
		 CROSS JOIN LATERAL sweep_clocks(l.dispatched_at, l.visited_at, l.sign_by, l.signed_at,
		                                 l.contact_by, l.contacted_at, l.finish_by, l.replied_at) k
		 CROSS JOIN LATERAL (VALUES ('deadline_warning', sweep_warn_time(k.started_at, k.deadline, p_warn_at)),
		                            ('overdue', k.deadline)) AS w(kind, due_at)
		 WHERE w.due_at <= now()
		   AND NOT EXISTS (SELECT 1 FROM sweeper_marks m
		                    WHERE m.case_id = l.id AND m.clock = k.clock AND m.kind = w.kind
		                      AND m.started_at = k.started_at)
	), marked AS (
		INSERT INTO sweeper_marks (case_id, clock, kind, started_at)
		SELECT case_id, clock, kind, started_at FROM due ORDER BY case_id, clock, kind
		ON CONFLICT DO NOTHING
		RETURNING case_id, clock, kind, started_at
	), written AS (
		-- warnings sort before overdue rows, so a clock found run out shows both in order
		INSERT INTO case_events (case_id, actor_id, actor, role, action, from_state, to_state, data)
		SELECT d.case_id, NULL, 'system', 'system', d.kind, d.state, d.state,
		       jsonb_build_object('clock', d.clock, 'started_at', case_ts(d.started_at),
		                          'deadline', case_ts(d.deadline))
		  FROM marked m
		  JOIN due d USING (case_id, clock, kind, started_at)
		 ORDER BY d.case_id, d.clock, d.kind
		RETURNING action
	)
	SELECT count(*) FILTER (WHERE action = 'deadline_warning'), count(*) FILTER (WHERE action = 'overdue')
	  INTO warnings, overdue
	  FROM written;
END $$;
