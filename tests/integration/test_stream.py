"""Live push (API.md section 18): GET /v1/stream sends one event per history row the token may
read, replays after Last-Event-ID, reaches every server of a deployment, drops a client that
does not read, and takes no pool connection."""
import re
import signal
import socket
import threading
import time

import pytest

from api_errors import assert_error
from polling import metric
from sse import Stream

EVENT_KEYS = {"event_id", "case_id", "number", "action", "state", "department", "at"}
CASE = {"text": "小区门口占道摆摊，车都过不去", "district": "驿城区",
        "caller": {"name": "张先生", "phone": "13800000000"}}


def create(server, token, **extra):
    body = dict(CASE, **extra)
    status, _, case = server.request("POST", "/v1/cases", body, token=token)
    assert status == 201, case
    return case


def of_case(case_id, action=None):
    return lambda evs: any(e["data"]["case_id"] == case_id and (action is None or e["data"]["action"] == action)
                           for e in evs)


def test_an_event_per_history_row(server):
    op = server.make_user("operator")
    s = Stream(server, op)
    assert s.status == 200
    assert s.headers["content-type"].startswith("text/event-stream")
    assert s.headers["cache-control"] == "no-store"
    case = create(server, op, department="urban_mgmt")
    evs = s.read_until(of_case(case["id"]))
    ev = [e for e in evs if e["data"]["case_id"] == case["id"]][0]
    assert ev["event"] == "case" and ev["id"] == str(ev["data"]["event_id"])
    assert set(ev["data"]) == EVENT_KEYS
    d = ev["data"]
    assert d["number"] == case["number"] and d["action"] == "create"
    assert d["state"] == "dispatched" and d["department"] == "urban_mgmt"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", d["at"])
    # no caller data, no text, anywhere in the stream
    raw = str(evs)
    assert "13800000000" not in raw and "张先生" not in raw and "摆摊" not in raw
    s.close()


def test_a_department_reads_only_its_cases(server):
    op = server.make_user("operator")
    clerk = server.make_user("department", "urban_mgmt")
    s = Stream(server, clerk)
    other = create(server, op, department="health")
    mine = create(server, op, department="urban_mgmt")
    evs = s.read_until(of_case(mine["id"]))
    assert all(e["data"]["department"] == "urban_mgmt" for e in evs)
    assert not any(e["data"]["case_id"] == other["id"] for e in evs)
    # the clerk's own action shows too
    assert server.request("POST", "/v1/cases/%d/sign" % mine["id"], {}, token=clerk)[0] == 200
    evs = s.read_until(of_case(mine["id"], "sign"))
    assert [e for e in evs if e["data"]["action"] == "sign"][0]["data"]["state"] == "accepted"
    s.close()


def test_a_co_handling_department_reads_the_case_too(server):
    """API.md section 9: a co-department reads the case; so its stream carries the case's events,
    live and in a replay."""
    op = server.make_user("operator")
    lead = server.make_user("department", "urban_mgmt")
    co = server.make_user("department", "health")
    case = create(server, op, department="urban_mgmt")
    assert server.request("POST", "/v1/cases/%d/return" % case["id"], {"reason": "不属本单位"}, token=lead)[0] == 200
    s = Stream(server, co)
    status, _, body = server.request("POST", "/v1/cases/%d/dispatch" % case["id"],
                                     {"department": "urban_mgmt", "co": ["health"]}, token=op)
    assert status == 200, body
    evs = s.read_until(of_case(case["id"], "dispatch"))
    ev = [e for e in evs if e["data"]["case_id"] == case["id"]][0]
    assert ev["data"]["department"] == "urban_mgmt"
    s.close()
    replay = Stream(server, co, last_event_id=int(ev["id"]) - 1)
    replay.read_until(of_case(case["id"], "dispatch"))
    replay.close()


def test_last_event_id_replays_what_was_missed(server):
    op = server.make_user("operator")
    s = Stream(server, op)
    first = create(server, op, department="urban_mgmt")
    evs = s.read_until(of_case(first["id"]))
    last = int([e for e in evs if e["data"]["case_id"] == first["id"]][0]["id"])
    s.close()
    missed = [create(server, op, department="urban_mgmt") for _ in range(3)]
    s = Stream(server, op, last_event_id=last)
    evs = s.read_until(lambda evs: all(of_case(c["id"])(evs) for c in missed))
    ids = [int(e["id"]) for e in evs]
    assert ids == sorted(ids) and ids[0] > last
    # then live ones
    live = create(server, op, department="urban_mgmt")
    s.read_until(of_case(live["id"]))
    s.close()


def test_replay_is_capped_at_1000(server):
    s = Stream(server, server.admin_token, last_event_id=0)
    server.request("POST", "/v1/cases", CASE, token=server.make_user("operator"))
    count = int(server.cluster.psql("SELECT count(*) FROM case_events", db=server.db))
    evs = s.read_until(lambda evs: len(evs) >= min(count, 1000))
    assert int(evs[0]["id"]) >= 1
    s.close()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 30, " "])
def test_a_bad_last_event_id(server, value):
    reply = server.request("GET", "/v1/stream", token=server.admin_token, headers={"Last-Event-ID": value})
    assert_error(reply, 400, "bad_request")


def test_a_stream_needs_a_token(server):
    assert_error(server.request("GET", "/v1/stream"), 401, "unauthorized")
    assert_error(server.request("POST", "/v1/stream", {}, token=server.admin_token), 405,
                 "method_not_allowed")


def test_events_reach_the_streams_of_every_server(pg, make_server, server):
    other = make_server(pg, db=server.db)
    op = server.make_user("operator")
    s = Stream(other, op)
    case = create(server, op, department="urban_mgmt")
    s.read_until(of_case(case["id"]), timeout=10)
    s.close()


def test_stream_max(pg, make_server):
    srv = make_server(pg, stream_max=2)
    a, b = Stream(srv, srv.admin_token), Stream(srv, srv.admin_token)
    assert a.status == b.status == 200
    c = Stream(srv, srv.admin_token)
    assert c.status == 503 and c.body_json()["error"]["code"] == "unavailable"
    assert metric(srv, "hotline_streams_open") == 2
    a.close()
    deadline = time.monotonic() + 5
    while metric(srv, "hotline_streams_open") != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(srv, "hotline_streams_open") == 1
    d = Stream(srv, srv.admin_token)
    assert d.status == 200
    b.close()
    d.close()


def test_a_client_that_does_not_read_is_dropped(pg, make_server):
    srv = make_server(pg, stream_buffer_max=65536)
    op = srv.make_user("operator")
    case = create(srv, op, department="urban_mgmt")
    s = Stream(srv, srv.admin_token, rcvbuf=4096)
    time.sleep(0.3)
    # 40,000 events (about 9 MB), more than the kernel buffers hold, written by hand
    srv.cluster.psql("INSERT INTO case_events (case_id, actor, role, action, data) "
                     "SELECT %d, 'x', 'manager', 'supervise', '{}' FROM generate_series(1, 40000)"
                     % case["id"], db=srv.db)
    deadline = time.monotonic() + 30
    while metric(srv, "hotline_streams_dropped_total") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(srv, "hotline_streams_dropped_total") == 1
    assert metric(srv, "hotline_streams_open") == 0
    # the server goes on: a reconnect with Last-Event-ID works
    s2 = Stream(srv, srv.admin_token, last_event_id=0)
    assert s2.status == 200
    s2.read_until(lambda evs: len(evs) >= 10)
    s2.close()
    s.close()


def test_streams_take_no_pool_connection(pg, make_server):
    """50 streams open on a pool of 2: a create still answers at once."""
    srv = make_server(pg, pool_size=2)
    op = srv.make_user("operator")
    streams = [Stream(srv, op) for _ in range(50)]
    assert all(s.status == 200 for s in streams)
    t = time.monotonic()
    case = create(srv, op, department="urban_mgmt")
    assert time.monotonic() - t < 2
    for s in streams[:5]:
        s.read_until(of_case(case["id"]))
    for s in streams:
        s.close()


def test_ping_every_15_seconds(server):
    s = Stream(server, server.admin_token)
    t = time.monotonic()
    try:
        s.read_until(lambda evs: bool(s.comments) and ": ping" in s.comments, timeout=20)
    except AssertionError:
        pass
    assert ": ping" in s.comments
    assert time.monotonic() - t <= 17
    s.close()


def test_sigterm_ends_open_streams(pg, make_server):
    srv = make_server(pg)
    s = Stream(srv, srv.admin_token)
    assert s.status == 200
    t = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - t < 5
    with pytest.raises(EOFError):
        s.read_until(lambda evs: False, timeout=5)


def test_one_listen_connection_per_server(pg, make_server):
    """The rules and the event streams share the server's one LISTEN connection (db/listen.c),
    apart from the pools; its channels are both there."""
    srv = make_server(pg)
    streams = [Stream(srv, srv.admin_token) for _ in range(3)]
    rows = srv.cluster.psql("SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                            "AND usename = 'hotline' AND query LIKE '%LISTEN%'", db=srv.db).splitlines()
    assert len(rows) == 1, rows
    assert '"rules_changed"' in rows[0] and '"hotline_events"' in rows[0], rows
    for s in streams:
        s.close()
