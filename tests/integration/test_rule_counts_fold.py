"""The rules' dispatch counts folded in from the create events (sql/025_rule_counts_fold.sql):
since session 9 no create counts its rule in its own transaction; the sweeper folds the counts
into rule_counts, and rule_stats (the rules page's numbers) adds the create events not folded
yet, so the stats are exact at any moment, a fold never counts an event twice, and never
skips one whose transaction commits after a fold saw higher ids."""
import subprocess
import uuid

import pytest

from polling import wait_for


@pytest.fixture(scope="module")
def srv(pg, make_server):
    # the sweeper's own fold would race the folds the test makes itself: an hour between ticks
    return make_server(pg, sweep_interval=3600)


def add_rule(srv):
    keyword = "折叠" + uuid.uuid4().hex[:8]
    status, _, rule = srv.request("POST", "/v1/rules", {"name": "折叠" + keyword[-6:], "priority": 5,
                                                       "department": "health", "match": {"any": [keyword]}},
                                  token=srv.admin_token)
    assert status == 201, rule
    return rule["id"], keyword


def create_by_rule(srv, rule_id, keyword):
    status, _, case = srv.request("POST", "/v1/cases", {"text": "来电反映" + keyword}, token=srv.admin_token)
    assert status == 201 and case["routing"]["rule_id"] == rule_id, case
    return case


def stats(srv, rule_id):
    """(dispatched from rule_stats, the part already folded into rule_counts)."""
    got = srv.cluster.psql("SELECT (SELECT dispatched FROM rule_stats(%d)), "
                           "(SELECT coalesce(sum(dispatched), 0) FROM rule_counts WHERE rule_id = %d)"
                           % (rule_id, rule_id), db=srv.db)
    return tuple(int(v or 0) for v in got.split("|"))


def fold(srv):
    return srv.cluster.psql("SELECT folded_after, folded_upto FROM rule_counts_fold()", db=srv.db)


def test_a_fold_waits_for_an_event_still_uncommitted(srv):
    """A create event drawn before a committed one, its transaction still open when folds run:
    the folds stop below it (a fold up to the highest id it saw would pass it, and the event,
    committed later, would never be counted), and count it once it has committed."""
    rule_id, keyword = add_rule(srv)
    first = create_by_rule(srv, rule_id, keyword)
    # a create still in flight: its transaction has an xid (a create inserts its case first)
    # and an event drawn, and commits only when told
    held = subprocess.Popen(srv.cluster.psql_command(srv.db), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    held.stdin.write("BEGIN; SELECT pg_current_xact_id(); INSERT INTO case_events (case_id, actor, role, action, data) "
                     "VALUES (%d, 'test', 'operator', 'create', '{\"routing\": {\"method\": \"rule\", \"rule_id\": %d}}');"
                     " SELECT 'held';\n" % (first["id"], rule_id))
    held.stdin.flush()
    try:
        wait_for(lambda: srv.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                                          "AND state = 'idle in transaction' AND datname = current_database()", db=srv.db) == "1",
                 10, "the held create to be in flight")
        create_by_rule(srv, rule_id, keyword)  # committed, its event id above the held one's
        for _ in range(3):
            fold(srv)
        assert stats(srv, rule_id)[0] == 2  # the held one is not committed
        held_id = int(srv.cluster.psql("SELECT max(id) FROM case_events", db=srv.db))
        upto = int(srv.cluster.psql("SELECT event_id FROM rule_counts_folded", db=srv.db))
        assert upto < held_id, (upto, held_id)
    finally:
        held.stdin.write("COMMIT;\n")
        held.stdin.close()
        held.wait(10)
    assert stats(srv, rule_id)[0] == 3
    for _ in range(2):
        fold(srv)
    assert stats(srv, rule_id) == (3, 3)


def test_folds_move_counts_without_changing_the_stats(srv):
    rule_id, keyword = add_rule(srv)
    for _ in range(3):
        create_by_rule(srv, rule_id, keyword)
    assert stats(srv, rule_id) == (3, 0)
    fold(srv)  # chooses its bound, or folds the one chosen before (then the next does)
    fold(srv)
    assert stats(srv, rule_id) == (3, 3)
    create_by_rule(srv, rule_id, keyword)
    assert stats(srv, rule_id) == (4, 3)
    fold(srv)
    fold(srv)
    assert stats(srv, rule_id) == (4, 4)


def test_the_sweeper_folds(pg, make_server):
    fast = make_server(pg, sweep_interval=1)
    rule_id, keyword = add_rule(fast)
    create_by_rule(fast, rule_id, keyword)
    wait_for(lambda: stats(fast, rule_id) == (1, 1), 10, "the sweeper to fold the create event")
