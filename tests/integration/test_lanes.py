"""The slow-read lane (issue 19): searches (GET /v1/cases with q) and reports run on their own
small pool (read_pool_size) with a per-user cap (read_per_user), so creates and case actions
always find a connection; a search of fewer than 3 characters reads a bounded window of cases."""
import statistics
import threading
import time
from urllib.parse import urlencode

import pytest

from api_errors import assert_error
from polling import wait_for

TEXT = "市民来电反映，小区门口的自来水管道破裂，水一直往外冒，已经流了两天。"
SEEDED = 6000  # more than the 5,000 cases a short search looks through


@pytest.fixture(scope="module")
def srv(pg, make_server):
    """A server of 4 connections and 2 more for the slow-read lane, on a database with SEEDED old cases of
    urban_mgmt (written directly: the API would take too long)."""
    s = make_server(pg, pool_size=4, read_pool_size=2, token_cache_seconds=600, sweep_interval=3600)
    s.cluster.psql(
        "INSERT INTO cases (number, created_by, channel, type, text, district, state, department) "
        "SELECT '20260101-' || lpad(g::text, 6, '0'), (SELECT min(id) FROM users), 'phone', 'complaint', "
        "'市民反映路灯不亮已经一周，编号 ' || g, '驿城区', 'dispatched', 'urban_mgmt' "
        "FROM generate_series(1, %d) g" % SEEDED, db=s.db)
    s.cluster.psql("ANALYZE cases", db=s.db)
    return s


def test_search_storm_leaves_creates_fast(srv):
    """40 clients (2 each of 20 clerks) search for two characters (no index serves them) 500 at a
    time, again and again, while an operator creates cases: the creates answer in a fraction of
    the searches' own time, because searches queue on their own lane, never for the connections
    creates use (on one pool, a create waits behind the queued searches as long as they do)."""
    clerks = [srv.make_user("department") for _ in range(20)]
    op = srv.make_user("operator")
    for t in clerks + [op]:
        assert srv.request("GET", "/v1/me", token=t)[0] == 200  # tokens cached: no auth query
    searches, creates, done = [], [], threading.Event()

    def search(token):
        for _ in range(100):  # a bound, should the creates never finish
            start = time.monotonic()
            status = srv.request("GET", "/v1/cases?q=zq&limit=500", token=token, timeout=60)[0]
            searches.append((status, time.monotonic() - start))
            if done.is_set():
                return

    storm = [threading.Thread(target=search, args=(clerks[i // 2],)) for i in range(40)]
    for t in storm:
        t.start()
    wait_for(lambda: len(searches) >= 40, 60, "the storm to be under way")
    try:
        for _ in range(10):
            start = time.monotonic()
            status, _, body = srv.request("POST", "/v1/cases", {"text": TEXT, "district": "驿城区"}, token=op)
            creates.append(time.monotonic() - start)
            assert status == 201, body
    finally:
        done.set()
        for t in storm:
            t.join(120)
    assert {s for s, _ in searches} == {200}, searches
    storm_median = statistics.median(d for _, d in searches)
    assert statistics.median(creates) * 2 < storm_median, (creates, sorted(d for _, d in searches))


def test_a_user_over_read_per_user_gets_429(srv):
    """Two searches of one clerk wait inside PostgreSQL (a lock); the third is refused at once
    with 429 and Retry-After; the two finish once the lock is gone."""
    clerk = srv.make_user("department")
    assert srv.request("GET", "/v1/me", token=clerk)[0] == 200
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(
        srv.request("GET", "/v1/cases?" + urlencode({"q": "路灯不亮"}), token=clerk, timeout=60))) for _ in range(2)]
    with srv.cluster.table_locked("cases", "ACCESS EXCLUSIVE", db=srv.db):
        for t in threads:
            t.start()
        wait_for(lambda: srv.cluster.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hotline' AND datname = current_database() "
            "AND wait_event_type = 'Lock'", db=srv.db) == "2", 10, "two searches to wait for the lock")
        third = srv.request("GET", "/v1/cases?" + urlencode({"q": "路灯不亮"}), token=clerk)
        assert_error(third, 429, "rate_limited")
        assert third[1].get("retry-after", "").isdigit(), third
    for t in threads:
        t.join(60)
    assert [r[0] for r in replies] == [200, 200], replies


def test_short_search_pages_through_a_window_and_finds_old_cases(srv):
    """A two-character word found only in the oldest seeded case: the first page looks through
    the newest 5,000 cases, finds nothing and says where to go on; following `next` finds it."""
    srv.cluster.psql("UPDATE cases SET text = text || '井盖' WHERE number = '20260101-000001'", db=srv.db)
    pages, after = [], None
    while True:
        query = {"q": "井盖", "district": "驿城区", **({"after": after} if after else {})}
        status, _, page = srv.request("GET", "/v1/cases?" + urlencode(query), token=srv.admin_token)
        assert status == 200, page
        pages.append(page)
        after = page["next"]
        if after is None:
            break
        assert len(pages) < 5, pages
    found = [c["number"] for p in pages for c in p["items"]]
    assert found == ["20260101-000001"], found
    assert pages[0]["items"] == [] and pages[0]["next"], pages[0]
