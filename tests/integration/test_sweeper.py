"""The deadline sweeper (docs/API.md section 4): one `deadline_warning` history row when warn_at
of a clock's time has passed without its event, one `overdue` row when the clock runs out, each
exactly once per clock, also with two servers sweeping one database every second; a re-dispatch
or a reopening starts new clocks with their own rows; passes the database cannot answer are
skipped; expired idempotency keys are reaped."""
import time

import pytest

from polling import metric, wait_for

WARN_AT = 0.75  # the shipped value, so that a server still holding the old policy warns alike
FAST = {"rules": [{"type": "*", "urgent": True, "sign": "2s", "contact": "3s", "finish": "4s"},
                  {"type": "*", "urgent": False, "sign": "2s", "contact": "3s", "finish": "4s"}],
        "rectify": "3s", "warn_at": WARN_AT}
SLOW = dict(FAST, rules=[dict(r, sign="1h", contact="1h", finish="1h") for r in FAST["rules"]])
CLOCKS = ("sign", "contact", "finish")
KINDS = ("deadline_warning", "overdue")


def put_policy(server, policy):
    status, _, body = server.request("PUT", "/v1/sla", policy, token=server.admin_token)
    assert status == 200, body


def create(server):
    body = {"text": "井盖缺失 %s" % time.monotonic(), "department": "urban_mgmt"}
    status, _, case = server.request("POST", "/v1/cases", body, token=server.admin_token)
    assert status == 201, case
    return case


def act(server, token, case, action, body=None):
    status, _, reply = server.request("POST", "/v1/cases/%d/%s" % (case["id"], action), body or {},
                                      token=token)
    assert status == 200, (action, reply)
    return reply


def sweep_rows(server, case):
    """The sweeper's history rows of a case: [(action, clock, started_at, deadline)] in order."""
    status, _, body = server.request("GET", "/v1/cases/%d/events" % case["id"], token=server.admin_token)
    assert status == 200, body
    rows = []
    for e in body["items"]:
        if e["action"] in KINDS:
            assert (e["actor"], e["role"]) == ("system", "system"), e
            assert e["from"] == e["to"], e
            rows.append((e["action"], e["data"]["clock"], e["data"]["started_at"], e["data"]["deadline"]))
    return rows


def assert_once_per_clock(rows, clocks):
    """Exactly a warning then an overdue row for each clock in `clocks`, and nothing else."""
    for clock in clocks:
        mine = [r for r in rows if r[1] == clock]
        assert [r[0] for r in mine] == list(KINDS), (clock, rows)
        assert mine[0][2:] == mine[1][2:], rows
    assert {r[1] for r in rows} == set(clocks), rows


@pytest.fixture(scope="module")
def pair(pg, make_server):
    """Two servers on one database, both sweeping every second."""
    db = pg.new_database()
    a = make_server(pg, db, sweep_interval=1)
    b = make_server(pg, db, sweep_interval=1)
    put_policy(a, FAST)
    return a, b


def test_two_servers_write_each_row_exactly_once(pair):
    a, b = pair
    before = sum(metric(s, "hotline_sweep_warnings_total") + metric(s, "hotline_sweep_overdue_total")
                 for s in pair)
    cases = [create(a) for _ in range(12)]
    dept = a.make_user("department")
    signed = act(a, dept, cases[0], "sign")  # its sign clock stops before any row is due
    expected = {c["id"]: CLOCKS for c in cases}
    expected[signed["id"]] = ("contact", "finish")

    def all_written():
        return all(len(sweep_rows(a, c)) == 2 * len(expected[c["id"]]) for c in cases)

    wait_for(all_written, 20, "every clock's rows")
    time.sleep(3)  # six more passes, three by each server, must add nothing
    for c in cases:
        assert_once_per_clock(sweep_rows(b, c), expected[c["id"]])
    total = sum(2 * len(v) for v in expected.values())
    after = sum(metric(s, "hotline_sweep_warnings_total") + metric(s, "hotline_sweep_overdue_total")
                for s in pair)
    assert after - before == total
    assert metric(a, "hotline_sweeps_total") >= 3 and metric(b, "hotline_sweeps_total") >= 3
    got = a.request("GET", "/v1/cases/%d" % cases[1]["id"], token=a.admin_token)[2]
    assert got["overdue"] is True


def test_rows_carry_the_clock_start_and_deadline(pair):
    a, _ = pair
    case = create(a)
    wait_for(lambda: len(sweep_rows(a, case)) == 6, 20, "the rows")
    for action, clock, started_at, deadline in sweep_rows(a, case):
        assert started_at == case["timestamps"]["dispatched_at"]
        assert deadline == case["deadlines"][clock + "_by"]


def test_redispatch_starts_new_clocks_with_their_own_rows(pair):
    a, _ = pair
    dept = a.make_user("department")
    operator = a.make_user("operator")
    case = create(a)
    wait_for(lambda: [r[0] for r in sweep_rows(a, case) if r[1] == "sign"] == list(KINDS), 20,
             "the first sign clock's rows")
    act(a, dept, case, "return", {"reason": "非本单位"})
    time.sleep(1.1)  # a new dispatch second, so the new clock's start differs visibly
    again = act(a, operator, case, "dispatch", {"department": "urban_mgmt"})
    new_start = again["timestamps"]["dispatched_at"]

    def second_sign_rows():
        return [r for r in sweep_rows(a, case) if r[1] == "sign" and r[2] == new_start]

    wait_for(lambda: len(second_sign_rows()) == 2, 20, "the second sign clock's rows")
    time.sleep(2)
    sign_rows = [r for r in sweep_rows(a, case) if r[1] == "sign"]
    assert [r[0] for r in sign_rows] == list(KINDS) * 2, sign_rows
    assert sign_rows[0][2] != new_start


def test_reopen_starts_a_new_finish_clock(pair):
    a, b = pair
    put_policy(a, SLOW)
    try:
        dept = a.make_user("department")
        operator = a.make_user("operator")
        case = create(a)
        act(a, dept, case, "sign")
        act(a, dept, case, "contact", {"note": "已电话联系"})
        act(a, dept, case, "reply", {"text": "已补装井盖", "resolved": True})
        put_policy(a, FAST)  # rectify 3s
        reopened = act(a, operator, case, "visit", {"score": 2, "resolved": False})
        assert reopened["state"] == "reopened"
        wait_for(lambda: len(sweep_rows(a, case)) == 2, 20, "the rectification clock's rows")
        time.sleep(2)
        rows = sweep_rows(b, case)
        assert_once_per_clock(rows, ("finish",))
        assert rows[0][2] == reopened["timestamps"]["visited_at"]
        assert rows[0][3] == reopened["deadlines"]["finish_by"]
    finally:
        put_policy(a, FAST)


def test_sweeper_skips_passes_while_the_database_is_away(make_cluster, make_server):
    cluster = make_cluster()
    s = make_server(cluster, sweep_interval=1)
    put_policy(s, FAST)
    case = create(s)
    cluster.stop()
    try:
        time.sleep(5)  # every clock runs out meanwhile
        assert s.proc.poll() is None, "the server died without its database"
    finally:
        cluster.start()
    wait_for(lambda: s.request("GET", "/readyz")[0] == 200, 30, "the server to reconnect")
    wait_for(lambda: len(sweep_rows(s, case)) == 6, 30, "the rows after the outage")
    time.sleep(2)
    assert_once_per_clock(sweep_rows(s, case), CLOCKS)
    assert "sweeper: pass failed" in s.log_text()


def test_expired_idempotency_keys_are_reaped(pg, make_server):
    db = pg.new_database()
    s = make_server(pg, db, sweep_interval=1)
    pg.psql("INSERT INTO idempotency_keys (user_id, key, request_hash, expires_at) "
            "SELECT (SELECT min(id) FROM users), k, 'x', now() + d "
            "FROM (VALUES ('old', interval '-1 hour'), ('young', interval '1 hour')) AS v(k, d)", db=db)
    s.restart()  # the first pass after a start reaps
    wait_for(lambda: pg.psql("SELECT count(*) FROM idempotency_keys WHERE key = 'old'", db=db) == "0",
             10, "the expired key to go")
    assert pg.psql("SELECT count(*) FROM idempotency_keys WHERE key = 'young'", db=db) == "1"
