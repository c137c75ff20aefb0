"""Acknowledged writes survive faults (docs/API.md section 1: "A 2xx answer to a write means the
change is committed"; section 2: a retry with the same Idempotency-Key never makes a duplicate).

Several client threads create cases, each with its own Idempotency-Key, retrying with the same
key on 503, on 500, on connection errors and resets, until the case is acknowledged. Meanwhile
the test restarts PostgreSQL (a fast, then an immediate shutdown) and then kill -9's the server
and starts it again. At the end:

- every case acknowledged with 2xx exists and reads back as sent;
- every key made exactly one case (counted in the database by the text, which carries the key,
  so a duplicate made behind the idempotency table's back would show too);
- no history row without its case, and every case has exactly one `create` row;
- no key is left claimed without its answer;
- during the database outages the server answered 503 with Retry-After (never another 5xx),
  never hung, never crashed, and came back by itself, without being restarted.
"""
import itertools
import signal
import threading
import time
import uuid

import pytest

from polling import wait_for


WRITERS = 4
REQUEST_TIMEOUT = 15.0   # a request not answered in this long counts as a hang
RECOVERY = 30.0          # seconds to resume writing after a fault ends
TEXTS = [
    "市民来电反映，风光路与解放路交叉口每天早上有人占道摆摊，影响通行。",
    "来电人反映，小区楼下的路灯坏了一个多月，晚上出行很不方便，希望尽快维修。",
    "市民反映，家附近的工地晚上十一点以后还在施工，噪音很大，影响休息。",
    "来电人咨询，孩子上小学需要准备哪些材料，户口不在本区能不能报名。",
    "市民反映，小区门口的自来水管道破裂，水一直往外冒，已经流了两天。",
    "来电人反映，在农贸市场买的猪肉缺斤少两，要求市场监管部门处理。",
]
DISTRICTS = ["驿城区", "上蔡县", "遂平县", "确山县", "高新区", "示范区"]


class Writer(threading.Thread):
    """Creates cases one key at a time; each key is retried until acknowledged."""

    def __init__(self, srv, token, run_id, n):
        super().__init__(daemon=True)
        self.srv, self.token, self.run_id, self.n = srv, token, run_id, n
        self.stop = threading.Event()
        self.acked = {}          # key -> (status, case as answered)
        self.sent = {}           # key -> body
        self.statuses = []       # every status seen; None for a connection error
        self.no_retry_after = 0  # 503 answers without a numeric Retry-After
        self.slowest = 0.0
        self.errors = []

    def body_for(self, key, seq):
        return {"text": "%s（测试 %s）" % (TEXTS[seq % len(TEXTS)], key),
                "district": DISTRICTS[seq % len(DISTRICTS)], "channel": "phone", "type": "complaint",
                "caller": {"name": "张先生", "phone": "13800000000"}}

    def attempt(self, key, body):
        start = time.monotonic()
        try:
            status, headers, reply = self.srv.request(
                "POST", "/v1/cases", body, token=self.token,
                headers={"Idempotency-Key": key}, timeout=REQUEST_TIMEOUT)
        except OSError as e:  # refused, reset, timed out: the outcome is unknown, so retry
            status, headers, reply = None, {}, repr(e)
        self.slowest = max(self.slowest, time.monotonic() - start)
        self.statuses.append(status)
        if status == 503 and not headers.get("retry-after", "").isdigit():
            self.no_retry_after += 1
        return status, reply

    def run(self):
        for seq in itertools.count():
            if self.stop.is_set():
                return
            key = "%s-%d-%d" % (self.run_id, self.n, seq)
            body = self.body_for(key, seq)
            self.sent[key] = body
            deadline = time.monotonic() + 3 * RECOVERY
            while True:  # the key is finished even after stop: every sent key gets its answer
                status, reply = self.attempt(key, body)
                if status in (200, 201):
                    self.acked[key] = (status, reply)
                    break
                if status not in (None, 500, 503) or time.monotonic() > deadline:
                    self.errors.append((key, status, reply))
                    return
                time.sleep(0.05)


def progress(writers):
    return sum(len(w.acked) for w in writers)


def wait_for_progress(writers, what, timeout=RECOVERY):
    """Waits until the writers acknowledge new cases; returns how long it took."""
    start = time.monotonic()
    before = progress(writers)
    while progress(writers) < before + 2 * WRITERS:
        assert time.monotonic() - start < timeout, "no new case acknowledged %.0f s after %s" % (
            timeout, what)
        assert all(w.is_alive() for w in writers), [w.errors for w in writers]
        time.sleep(0.05)
    return time.monotonic() - start


def readyz_during(srv, seconds):
    """Polls /readyz for a while; returns the set of statuses seen."""
    seen = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            seen.add(srv.request("GET", "/readyz", timeout=5)[0])
        except OSError:
            seen.add(None)
        time.sleep(0.1)
    return seen


def test_acknowledged_cases_survive_database_restarts_and_server_kill(make_cluster, make_server):
    cluster = make_cluster()
    srv = make_server(cluster)
    token = srv.make_user("operator")
    run_id = uuid.uuid4().hex[:12]
    writers = [Writer(srv, token, run_id, n) for n in range(WRITERS)]
    pid = srv.proc.pid
    started = time.monotonic()
    for w in writers:
        w.start()
    try:
        wait_for_progress(writers, "the start")
        for mode in ("fast", "immediate"):
            cluster.stop(mode)
            seen = readyz_during(srv, 2.0)
            assert 503 in seen and 200 not in seen, (mode, seen)
            cluster.start()
            wait_for_progress(writers, "PostgreSQL came back from a %s shutdown" % mode)
            assert srv.proc.pid == pid and srv.proc.poll() is None, "the server did not stay up"
        time.sleep(0.5)
        assert srv.stop(signal.SIGKILL) == -signal.SIGKILL
        time.sleep(0.5)
        srv.start()
        wait_for_progress(writers, "the server was killed and started again")
    finally:
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(3 * RECOVERY)
    elapsed = time.monotonic() - started

    errors = [e for w in writers for e in w.errors]
    statuses = [s for w in writers for s in w.statuses]
    assert not errors, errors[:5]
    assert not any(w.is_alive() for w in writers), "a writer never got its answer"
    assert set(statuses) <= {None, 200, 201, 503}, sorted(set(statuses), key=str)
    assert statuses.count(503) > 0, "no 503 seen during the outages"
    assert sum(w.no_retry_after for w in writers) == 0, "a 503 without Retry-After"
    assert max(w.slowest for w in writers) < REQUEST_TIMEOUT
    acked = {k: v for w in writers for k, v in w.acked.items()}
    sent = {k: v for w in writers for k, v in w.sent.items()}
    assert set(acked) == set(sent) and len(acked) >= 10 * WRITERS, (len(acked), len(sent))

    # every acknowledged case exists and reads back as it was sent
    for key, (status, case) in acked.items():
        got_status, _, got = srv.request("GET", "/v1/cases/%d" % case["id"], token=token)
        assert got_status == 200, (key, got)
        assert got["text"] == sent[key]["text"] and got["district"] == sent[key]["district"], key

    # exactly one case per key, counted by the key inside the text
    db = srv.db
    rows = cluster.psql("SELECT substring(text from '测试 ([^）]+)'), count(*) FROM cases "
                        "WHERE text LIKE '%%测试 %s-%%' GROUP BY 1" % run_id, db=db)
    counts = dict(line.split("|") for line in rows.splitlines())
    assert {k: int(n) for k, n in counts.items()} == {k: 1 for k in sent}
    ids = {str(case["id"]) for _, case in acked.values()}
    assert len(ids) == len(acked), "two keys answered with the same case"
    keys = cluster.psql("SELECT key, case_id, response_status FROM idempotency_keys "
                        "WHERE key LIKE '%s-%%'" % run_id, db=db)
    stored = {k: (cid, st) for k, cid, st in (line.split("|") for line in keys.splitlines())}
    assert stored == {k: (str(case["id"]), "201") for k, (_, case) in acked.items()}

    # history: no row without its case, one create row per case, no key left half-claimed
    assert cluster.psql("SELECT count(*) FROM case_events e LEFT JOIN cases c ON c.id = e.case_id "
                        "WHERE c.id IS NULL", db=db) == "0"
    assert cluster.psql("SELECT count(*) FROM cases c WHERE (SELECT count(*) FROM case_events e "
                        "WHERE e.case_id = c.id AND e.action = 'create') <> 1", db=db) == "0"
    assert cluster.psql("SELECT count(*) FROM idempotency_keys WHERE response_status IS NULL",
                        db=db) == "0"
    print("faults: %d cases acknowledged (%d replays), %d answers of 503, %d connection errors, "
          "slowest request %.2f s, %.0f s in all" % (
              len(acked), sum(1 for s, _ in acked.values() if s == 200), statuses.count(503),
              statuses.count(None), max(w.slowest for w in writers), elapsed))


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_write_in_flight_when_postgres_stops_is_503(make_cluster, make_server, mode):
    """A create waiting inside PostgreSQL when it shuts down: the backend is terminated
    (SQLSTATE 57P01 on a fast shutdown, a dropped connection on an immediate one), nothing
    was committed, and the answer is 503 with Retry-After, not 500."""
    cluster = make_cluster()
    srv = make_server(cluster)
    replies = []
    t = threading.Thread(target=lambda: replies.append(srv.request(
        "POST", "/v1/cases", {"text": TEXTS[0], "district": DISTRICTS[0]},
        token=srv.admin_token, headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=REQUEST_TIMEOUT)))
    try:
        with cluster.table_locked("cases", "ACCESS EXCLUSIVE", db=srv.db):
            t.start()
            wait_for(lambda: cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'hotline' "
                                          "AND wait_event_type = 'Lock' AND query LIKE '%case_create%'",
                                          db=srv.db) == "1", 10, "the create to wait for the lock")
            cluster.stop(mode)
            t.join(REQUEST_TIMEOUT)
    finally:
        cluster.start()
    assert replies, "no answer"
    status, headers, body = replies[0]
    assert status == 503 and body["error"]["code"] == "unavailable", replies[0]
    assert headers.get("retry-after", "").isdigit(), replies[0]
    assert cluster.psql("SELECT count(*) FROM cases", db=srv.db) == "0"
