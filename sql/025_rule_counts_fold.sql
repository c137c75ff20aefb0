-- Intake at the limit, fifth step (issue #19): a rule's dispatches are counted off the intake
-- transaction. Until now every create that a rule dispatched added 1 to rule_counts in the
-- create's own transaction (008), and the group commit's statement ran an upsert for it: ~37 us
-- of backend CPU in a transaction of ~1,100 for 8 cases (bench/RESULTS.md, session 9), on the
-- path every caller waits on. The create event in case_events already says which rule
-- dispatched the case (008 counts from exactly that: routing.method = 'rule' and its rule_id), so
-- the counts are now folded in from those events by the sweeper (rule_counts_fold, every
-- sweep_interval), and rule_stats adds the events not folded yet: the rules page stays exact.
-- Returns are counted as before (the trigger of 008, in the return's transaction).
--
-- Which events are folded: up to an event id E such that no transaction can still commit a
-- create event with an id <= E. A fold cannot take the highest id it sees: a transaction that
-- drew a lower id may not have committed yet, and its event would never be counted. So a fold
-- only chooses the next bound, M = the highest id its snapshot sees, with that snapshot's xmax
-- X; a later fold folds up to M once every transaction older than X has ended (the snapshot
-- xmin reached X). That is safe because ids are drawn in order (an identity, cache 1) and a
-- create event is inserted after its case, so its transaction has an xid when it draws the id:
-- an event with id < M was drawn before M's transaction committed, thus before the snapshot
-- was taken, by a transaction whose xid is below X. A long transaction holds the fold back
-- (never wrong, only a longer tail for rule_stats to add).

CREATE TABLE rule_counts_folded (
	one            boolean PRIMARY KEY DEFAULT true CHECK (one),
	event_id       bigint NOT NULL, -- every create event with an id up to this is in rule_counts
	next_event_id  bigint NOT NULL, -- the next fold's bound ...
	next_xmax      xid8 NOT NULL    -- ... once every transaction older than this has ended
);

-- Every dispatch so far is in rule_counts (008's way). The lock waits for the transactions that
-- write events now and keeps new ones out until this migration commits, so that no create
-- event is counted both ways or neither.
LOCK TABLE case_events IN SHARE MODE;
INSERT INTO rule_counts_folded (event_id, next_event_id, next_xmax)
SELECT m, m, pg_snapshot_xmax(pg_current_snapshot())
  FROM (SELECT coalesce(max(id), 0) AS m FROM case_events) AS e;

-- From now on only returns are added here; the create functions of 009-015 still call it with
-- (rule, case, 1, 0), which now writes nothing.
CREATE OR REPLACE FUNCTION rule_counts_add(p_rule_id bigint, p_case_id bigint, p_dispatched integer, p_returned integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF p_returned <> 0 THEN
		INSERT INTO rule_counts AS k (rule_id, shard, dispatched, returned)
		VALUES (p_rule_id, p_case_id % 16, 0, p_returned)
		ON CONFLICT (rule_id, shard) DO UPDATE SET returned = k.returned + p_returned;
	END IF;
END $$;

-- Dispatches per rule of the create events with p_after < id <= p_upto.
CREATE FUNCTION rule_dispatches(p_after bigint, p_upto bigint)
RETURNS TABLE(rule_id bigint, dispatched bigint)
LANGUAGE sql STABLE AS $$
	SELECT (e.data #>> '{routing,rule_id}')::bigint, count(*)
	  FROM case_events e
	 WHERE e.id > p_after AND e.id <= p_upto AND e.action = 'create' AND e.data #>> '{routing,method}' = 'rule'
	 GROUP BY 1
$$;

-- One fold (the sweeper's): folds up to the bound the previous fold chose when it is safe, and
-- then chooses the next one. Returns the create events' id range folded (empty when none).
CREATE FUNCTION rule_counts_fold(OUT folded_after bigint, OUT folded_upto bigint)
LANGUAGE plpgsql AS $$
DECLARE
	f rule_counts_folded;
BEGIN
	SELECT * INTO f FROM rule_counts_folded FOR UPDATE;
	folded_after := f.event_id;
	folded_upto := f.event_id;
	IF pg_snapshot_xmin(pg_current_snapshot()) < f.next_xmax THEN
		RETURN; -- a transaction that may still write an event below the bound is running
	END IF;
	INSERT INTO rule_counts AS k (rule_id, shard, dispatched, returned)
	SELECT d.rule_id, 0, d.dispatched, 0 FROM rule_dispatches(f.event_id, f.next_event_id) d
	 ORDER BY d.rule_id
	ON CONFLICT (rule_id, shard) DO UPDATE SET dispatched = k.dispatched + excluded.dispatched;
	folded_upto := f.next_event_id;
	-- the next bound and xmax from one snapshot: this statement's
	UPDATE rule_counts_folded
	   SET event_id = f.next_event_id,
	       next_event_id = greatest(f.next_event_id, (SELECT coalesce(max(id), 0) FROM case_events)),
	       next_xmax = pg_snapshot_xmax(pg_current_snapshot());
END $$;

-- 008's, plus the create events not folded yet: exact in any snapshot, since a fold moves counts
-- and the bound in one transaction.
CREATE OR REPLACE FUNCTION rule_stats(p_rule_id bigint DEFAULT NULL)
RETURNS TABLE(rule_id bigint, dispatched bigint, returned bigint)
LANGUAGE sql STABLE AS $$
	SELECT s.rule_id, sum(s.dispatched)::bigint, sum(s.returned)::bigint
	  FROM (SELECT k.rule_id, k.dispatched, k.returned FROM rule_counts k
	        UNION ALL
	        SELECT d.rule_id, d.dispatched, 0
	          FROM rule_counts_folded f, rule_dispatches(f.event_id, 9223372036854775807) d) AS s
	 WHERE p_rule_id IS NULL OR s.rule_id = p_rule_id
	 GROUP BY s.rule_id
$$;
