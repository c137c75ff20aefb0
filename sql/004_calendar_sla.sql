-- Working-day calendars and the SLA policy (API.md section 4), with their defaults.
--
-- The server validates bodies in C (core/workcal.c, core/sla.c) and writes them
-- through the two functions below, one round trip and one transaction each; the
-- CHECKs here are the last line of defence, not the validation users see.
--
-- Reads:
--   SELECT year, jsonb_build_object('holidays', to_jsonb(holidays),
--                                   'workdays', to_jsonb(workdays))
--     FROM calendar_years;                      -- feed to workcal_year_from_json()
--   SELECT policy, version FROM sla_policy;     -- feed to sla_policy_from_json()
--   SELECT * FROM calendar_sla_versions();      -- cheap poll: reload what changed
-- Writes:
--   SELECT calendar_put($year, $body::jsonb, $actor);  -- returns the new calendar_version
--   SELECT sla_policy_put($policy::jsonb, $actor);     -- returns the new sla_version

-- True when every date is of `y`, none is NULL and none repeats.
CREATE FUNCTION calendar_dates_ok(d date[], y integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT count(x) = cardinality(d)
	   AND count(DISTINCT x) = cardinality(d)
	   AND coalesce(bool_and(extract(year FROM x) = y), true)
	  FROM unnest(d) AS x
$$;

-- One row per loaded year; a year without a row has weekends only.
CREATE TABLE calendar_years (
	year       integer PRIMARY KEY CHECK (year BETWEEN 1970 AND 9999),
	holidays   date[] NOT NULL DEFAULT '{}',
	workdays   date[] NOT NULL DEFAULT '{}', -- make-up working days (调休)
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by bigint REFERENCES users(id),  -- NULL: shipped by a migration
	CHECK (calendar_dates_ok(holidays, year)),
	CHECK (calendar_dates_ok(workdays, year)),
	CHECK (NOT (holidays && workdays))
);

-- Every version of every year ever stored, newest id last.
CREATE TABLE calendar_history (
	id         bigserial PRIMARY KEY,
	year       integer NOT NULL,
	holidays   date[] NOT NULL,
	workdays   date[] NOT NULL,
	changed_at timestamptz NOT NULL DEFAULT now(),
	changed_by bigint REFERENCES users(id)
);

-- The one current policy.
CREATE TABLE sla_policy (
	singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	policy     jsonb NOT NULL CHECK (jsonb_typeof(policy) = 'object'),
	version    bigint NOT NULL CHECK (version > 0),
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by bigint REFERENCES users(id)
);

CREATE TABLE sla_policy_history (
	version    bigint PRIMARY KEY,
	policy     jsonb NOT NULL,
	changed_at timestamptz NOT NULL DEFAULT now(),
	changed_by bigint REFERENCES users(id)
);

-- Replace one year's calendar from a validated body {"holidays": [...],
-- "workdays": [...]} (an absent list is empty) and log it. Returns the change's
-- id, which is also the new calendar_version of calendar_sla_versions().
CREATE FUNCTION calendar_put(p_year integer, p_body jsonb, p_actor bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_holidays date[] := ARRAY(SELECT x::date
				     FROM jsonb_array_elements_text(coalesce(p_body->'holidays', '[]')) AS x
				    ORDER BY 1);
	v_workdays date[] := ARRAY(SELECT x::date
				     FROM jsonb_array_elements_text(coalesce(p_body->'workdays', '[]')) AS x
				    ORDER BY 1);
	v_id bigint;
BEGIN
	INSERT INTO calendar_years (year, holidays, workdays, updated_at, updated_by)
	VALUES (p_year, v_holidays, v_workdays, now(), p_actor)
	ON CONFLICT (year) DO UPDATE
	   SET holidays = EXCLUDED.holidays, workdays = EXCLUDED.workdays,
	       updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by;
	INSERT INTO calendar_history (year, holidays, workdays, changed_by)
	VALUES (p_year, v_holidays, v_workdays, p_actor)
	RETURNING id INTO v_id;
	RETURN v_id;
END
$$;

-- Replace the policy with a validated one and log it. Returns its version.
CREATE FUNCTION sla_policy_put(p_policy jsonb, p_actor bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_version bigint;
BEGIN
	INSERT INTO sla_policy (policy, version, updated_at, updated_by)
	VALUES (p_policy, 1, now(), p_actor)
	ON CONFLICT (singleton) DO UPDATE
	   SET policy = EXCLUDED.policy, version = sla_policy.version + 1,
	       updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
	RETURNING version INTO v_version;
	INSERT INTO sla_policy_history (version, policy, changed_by)
	VALUES (v_version, p_policy, p_actor);
	RETURN v_version;
END
$$;

-- What a server compares with what it loaded; both only grow.
CREATE FUNCTION calendar_sla_versions(OUT sla_version bigint, OUT calendar_version bigint)
LANGUAGE sql STABLE AS $$
	SELECT (SELECT version FROM sla_policy),
	       (SELECT coalesce(max(id), 0) FROM calendar_history)
$$;

-- Default calendars: the official schedules of the State Council General Office
-- (all statutory holiday days, weekends inside them included, and every make-up
-- workday):
--   2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号),
--         2024-11-12, Xinhua; e.g. m.gmw.cn/2024-11/12/content_1303894933.htm
--     元旦 1/1; 春节 1/28-2/4, work 1/26 (Sun), 2/8 (Sat); 清明 4/4-4/6;
--     劳动节 5/1-5/5, work 4/27 (Sun); 端午 5/31-6/2;
--     国庆节、中秋节 10/1-10/8, work 9/28 (Sun), 10/11 (Sat).
--   2026: 国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04, Xinhua;
--         e.g. politics.gmw.cn/2025-11/04/content_38391083.htm
--     元旦 1/1-1/3, work 1/4 (Sun); 春节 2/15-2/23, work 2/14 (Sat), 2/28 (Sat);
--     清明 4/4-4/6; 劳动节 5/1-5/5, work 5/9 (Sat); 端午 6/19-6/21;
--     中秋 9/25-9/27; 国庆 10/1-10/7, work 9/20 (Sun), 10/10 (Sat).
-- tests/unit/test_workcal.c reads the two lines below and checks them.
SELECT calendar_put(2025, '{"holidays": ["2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04", "2025-04-04", "2025-04-05", "2025-04-06", "2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05", "2025-05-31", "2025-06-01", "2025-06-02", "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04", "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08"], "workdays": ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]}', NULL);
SELECT calendar_put(2026, '{"holidays": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23", "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21", "2026-09-25", "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"], "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]}', NULL);

-- Default policy, as API.md section 4 ships it; tests/unit/test_sla.c checks this line.
SELECT sla_policy_put('{"rules": [{"type": "*", "urgent": true, "sign": "30m", "contact": "2h", "finish": "24h"}, {"type": "consult", "urgent": false, "sign": "1wd", "contact": "1wd", "finish": "2wd"}, {"type": "help", "urgent": false, "sign": "1wd", "contact": "1wd", "finish": "5wd"}, {"type": "*", "urgent": false, "sign": "1wd", "contact": "2wd", "finish": "10wd"}], "rectify": "5wd", "warn_at": 0.75}', NULL);
