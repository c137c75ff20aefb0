"""The group commit of intakes (server/db/batch.c, sql/011_intake_batch.sql): creates that wait
while the intake transactions are busy go to PostgreSQL together, and each still gets exactly the
answer it would get alone.

To make the waiting certain, each test holds a lock on `cases` from a superuser session: the
first create of the test takes the one intake transaction (intake_transactions=1) and waits
inside PostgreSQL; the next ones wait in the server (hotline_intake_waiting shows them); then
the lock is released and the server sends them in batches of at most intake_batch_max."""
import contextlib
import json
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from api_errors import assert_error
from polling import metric, wait_for

BATCH_MAX = 8
# Texts that a PostgreSQL array literal must carry unchanged: its quote, escape, delimiter and
# brace characters, the word NULL, white space at the ends, control characters, CJK and emoji.
TRICKY_TEXTS = [
    '市民来电："路灯不亮" \\ 已三天',
    "{占道,摆摊}",
    "NULL",
    "  前后有空格  ",
    "换行\n制表\t回车\r结束",
    'JSON 片段 {"a": [1, "b\\n"]}',
    "'; DROP TABLE cases; --",
    "表情 😀 与 \\\" 混排",
]


@pytest.fixture(scope="module")
def srv(make_cluster, make_server):
    # the lock holds creates waiting for as long as a test needs: no janitor deadline here
    return make_server(make_cluster(), intake_transactions=1, intake_batch_max=BATCH_MAX,
                       queue_timeout_ms=600000)


@pytest.fixture(scope="module")
def op(srv):
    return srv.make_user("operator")


def statements_waiting(srv):
    """Intake statements of srv's database waiting for the lock on cases."""
    return int(srv.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'hotline' "
                                "AND wait_event_type = 'Lock' AND query LIKE '%case_create%'", db=srv.db))


def create_in_thread(srv, op, body, headers, threads):
    """Starts POST /v1/cases in a thread (appended to threads); returns the list its reply
    goes into."""
    reply = []
    t = threading.Thread(target=lambda: reply.append(
        srv.request("POST", "/v1/cases", body, token=op, headers=headers, timeout=60)))
    t.start()
    threads.append(t)
    return reply


@contextlib.contextmanager
def creates_held(srv, op, first_body, first_headers=None):
    """Holds the intake: yields a `send(body, headers)` that starts a create in a thread and
    returns its reply list; on exit releases the lock and waits for every reply. The first
    create (first_body, with first_headers) is in flight inside PostgreSQL before the block
    starts, its Idempotency-Key claimed and not yet committed."""
    threads, first = [], []

    def send(body, headers=None):
        return create_in_thread(srv, op, body, headers, threads)

    try:
        with srv.cluster.table_locked("cases", "EXCLUSIVE", db=srv.db):
            first = send(first_body, first_headers)
            wait_for(lambda: statements_waiting(srv) == 1, 10, "the first create to wait for the lock")
            yield send
    finally:
        for t in threads:
            t.join(60)
    assert first and first[0][0] == 201, first


def send_all(send, bodies, headers=None):
    """Starts one create per body (with the headers of the same index); returns their reply lists."""
    return [send(b, h) for b, h in zip(bodies, headers or [None] * len(bodies))]


def wait_waiting(srv, n):
    wait_for(lambda: metric(srv, "hotline_intake_waiting") == n, 10, "%d creates to wait in the server" % n)


def test_waiting_creates_go_in_batches_each_with_its_own_case(srv, op):
    district = "批区" + uuid.uuid4().hex[:8]
    bodies = [{"text": "%s（第 %d 件）" % (TRICKY_TEXTS[i % len(TRICKY_TEXTS)], i),
               "title": TRICKY_TEXTS[(i + 3) % len(TRICKY_TEXTS)], "district": district}
              for i in range(20)]
    bodies[1]["department"] = "housing"
    bodies[2]["answer"] = "已当场解答"
    bodies[3]["caller"] = {"name": "王\"女士\"", "phone": "13900000000", "confidential": True}
    headers = [{"Idempotency-Key": "batch-%s-%d" % (uuid.uuid4().hex, i)} if i % 3 else None
               for i in range(20)]
    tx0, cases0 = metric(srv, "hotline_intake_transactions_total"), metric(srv, "hotline_intake_cases_total")

    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        replies = send_all(send, bodies, headers)
        wait_waiting(srv, 20)

    # the first alone, then 20 in batches of 8, 8 and 4
    assert metric(srv, "hotline_intake_transactions_total") - tx0 == 4
    assert metric(srv, "hotline_intake_cases_total") - cases0 == 21
    ids = set()
    for body, reply in zip(bodies, replies):
        status, _, case = reply[0]
        assert status == 201, reply
        ids.add(case["id"])
        assert (case["text"], case["title"], case["district"]) == (body["text"], body["title"], district)
        status, _, stored = srv.request("GET", "/v1/cases/%d" % case["id"], token=op)
        assert status == 200 and stored["text"] == body["text"] and stored["title"] == body["title"]
        assert stored["number"] == case["number"] and stored["state"] == case["state"]
    assert len(ids) == 20
    by_text = {b["text"]: r[0][2] for b, r in zip(bodies, replies)}
    assert by_text[bodies[1]["text"]]["department"] == "housing"
    assert by_text[bodies[1]["text"]]["routing"]["method"] == "manual"
    assert by_text[bodies[2]["text"]]["state"] == "answered"
    assert by_text[bodies[3]["text"]]["caller"]["name"] == "王\"女士\""
    assert srv.cluster.psql("SELECT count(*), count(DISTINCT e.case_id) FROM cases c JOIN case_events e "
                            "ON e.case_id = c.id AND e.action = 'create' WHERE c.district = '%s'"
                            % district, db=srv.db) == "21|21"
    keyed = srv.cluster.psql("SELECT count(*) FROM idempotency_keys k JOIN cases c ON c.id = k.case_id "
                             "WHERE c.district = '%s'" % district, db=srv.db)
    assert keyed == str(sum(1 for h in headers if h))
    # each create event's data, the lone create's (case_create) and the batched ones alike: the
    # case's department, channel and routing, no null anywhere
    events = json.loads(srv.cluster.psql(
        "SELECT json_agg(json_build_object('id', c.id, 'data', e.data)) FROM cases c JOIN case_events e "
        "ON e.case_id = c.id AND e.action = 'create' WHERE c.district = '%s'" % district, db=srv.db))
    assert len(events) == 21
    for event in events:
        case = srv.request("GET", "/v1/cases/%d" % event["id"], token=op)[2]
        routing = {k: v for k, v in case["routing"].items() if v is not None}
        want = {"channel": case["channel"], "routing": routing}
        if case["department"]:
            want["department"] = case["department"]
        assert event["data"] == want, (event, case)


def test_one_key_twice_in_one_batch(srv, op):
    district = "批区" + uuid.uuid4().hex[:8]
    same = {"text": "同一请求重发两次", "district": district}
    other = {"text": "同键不同内容", "district": district}
    k1 = {"Idempotency-Key": "twice-" + uuid.uuid4().hex}
    k2 = {"Idempotency-Key": "mismatch-" + uuid.uuid4().hex}
    tx0, split0 = metric(srv, "hotline_intake_transactions_total"), metric(srv, "hotline_intake_batches_split_total")
    log_mark = srv.log_size()

    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        replies = send_all(send, [same, same, other, dict(other, text="同键不同内容（改）")],
                           [k1, k1, k2, k2])
        wait_waiting(srv, 4)

    # the held one; a batch of one call per key; the second call of each key in the next batch
    # (one batch never carries a key twice), which fails on its claimed keys (since session 9
    # the keys' INSERT has no ON CONFLICT), so each is sent again alone, to be replayed (200)
    # or refused (422) from the committed key
    assert metric(srv, "hotline_intake_transactions_total") - tx0 == 5
    assert metric(srv, "hotline_intake_batches_split_total") - split0 == 1
    # a claimed key is the expected way a batch goes again case by case: info, not a warning
    assert re.search(r" info a batch of 2 calls failed \(23505 ", srv.log_text(log_mark)), srv.log_text(log_mark)
    (s1, _, a), (s2, _, b) = replies[0][0], replies[1][0]
    assert sorted([s1, s2]) == [200, 201] and a["id"] == b["id"], (replies[0], replies[1])
    statuses = sorted(r[0][0] for r in replies[2:])
    assert statuses == [201, 422], replies[2:]
    refused = next(r[0] for r in replies[2:] if r[0][0] == 422)
    assert_error(refused, 422, "idempotency_mismatch")
    assert srv.cluster.psql("SELECT count(*) FROM cases WHERE district = '%s'" % district, db=srv.db) == "3"


def test_failed_batch_is_sent_again_case_by_case(srv, op):
    """A case that makes PostgreSQL raise (here a trigger planted by the test) fails its
    batch; nothing of the batch commits, each case is sent again alone, and only the bad one
    fails (500) while the others are created."""
    district = "批区" + uuid.uuid4().hex[:8]
    srv.cluster.psql("""
        CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.text LIKE '%毒丸%' THEN RAISE EXCEPTION 'poisoned case'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_poison BEFORE INSERT ON cases FOR EACH ROW EXECUTE FUNCTION test_poison();
    """, db=srv.db)
    bodies = [{"text": "正常来电 %d" % i, "district": district} for i in range(6)]
    bodies[3]["text"] = "毒丸来电"
    split0 = metric(srv, "hotline_intake_batches_split_total")
    log_mark = srv.log_size()
    try:
        with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
            replies = send_all(send, bodies, [{"Idempotency-Key": uuid.uuid4().hex} for _ in bodies])
            wait_waiting(srv, 6)
    finally:
        srv.cluster.psql("DROP TRIGGER test_poison ON cases; DROP FUNCTION test_poison()", db=srv.db)

    assert metric(srv, "hotline_intake_batches_split_total") - split0 == 1
    for body, reply in zip(bodies, replies):
        if "毒丸" in body["text"]:
            assert_error(reply[0], 500, "internal")
        else:
            assert reply[0][0] == 201 and reply[0][2]["text"] == body["text"], reply
    assert srv.cluster.psql("SELECT count(*) FROM cases WHERE district = '%s'" % district, db=srv.db) == "6"
    assert srv.cluster.psql("SELECT count(*) FROM cases WHERE text LIKE '%毒丸%'", db=srv.db) == "0"
    assert re.search(r" warn a batch of 6 calls failed \(P0001 ", srv.log_text(log_mark)), srv.log_text(log_mark)


def test_sigterm_drain_answers_the_waiting_creates(srv, op):
    """SIGTERM while creates wait for an intake transaction: the drain waits for them, each
    is committed and answered 201, and only then does the server exit 0."""
    district = "批区" + uuid.uuid4().hex[:8]
    bodies = [{"text": "停机前排队的来电 %d" % i, "district": district} for i in range(5)]

    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        replies = send_all(send, bodies, [{"Idempotency-Key": uuid.uuid4().hex} for _ in bodies])
        wait_waiting(srv, 5)
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # the drain has begun; the creates still wait
        assert srv.proc.poll() is None, "the server exited with creates waiting"

    assert srv.proc.wait(20) == 0
    srv.proc = None
    assert [r[0][0] for r in replies] == [201] * 5, replies
    srv.start()
    assert srv.cluster.psql("SELECT count(*) FROM cases WHERE district = '%s'" % district, db=srv.db) == "6"


def test_open311_requests_batch_with_the_others_and_keep_their_extras(srv, op):
    """Requests filed through Open311 take the same group commit as POST /v1/cases; each is its
    own case of channel open311 whose create event keeps what it was filed with."""
    from urllib.parse import urlencode
    district = "批区" + uuid.uuid4().hex[:8]
    replies, threads = [], []

    def file(i):
        form = urlencode({"api_key": op, "service_code": "urban_mgmt.0%d" % (1 + i % 8),
                          "address_string": district, "description": "开放接口 %d" % i,
                          "email": "p%d@example.org" % i, "attribute[n][]": str(i)})
        reply = []
        t = threading.Thread(target=lambda: reply.append(srv.request(
            "POST", "/open311/v2/requests.json", raw=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=60)))
        t.start()
        threads.append(t)
        replies.append(reply)

    tx0, cases0 = metric(srv, "hotline_intake_transactions_total"), metric(srv, "hotline_intake_cases_total")
    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        phone = send({"text": "电话来的一件", "district": district})
        for i in range(10):
            file(i)
        wait_waiting(srv, 11)
    for t in threads:
        t.join(60)
    assert metric(srv, "hotline_intake_cases_total") - cases0 == 12
    assert metric(srv, "hotline_intake_transactions_total") - tx0 == 3  # the first alone, then 8 and 3
    assert phone[0][0] == 201
    numbers = []
    for i, reply in enumerate(replies):
        status, _, doc = reply[0]
        assert status == 200 and len(doc) == 1, reply
        numbers.append(doc[0]["service_request_id"])
    rows = srv.cluster.psql(
        "SELECT c.channel, c.text, e.data #>> '{open311,email}', e.data #>> '{open311,attributes,n,0}' "
        "FROM cases c JOIN case_events e ON e.case_id = c.id AND e.action = 'create' "
        "WHERE c.address = '%s' ORDER BY c.id" % district, db=srv.db).splitlines()
    assert sorted(rows) == sorted("open311|开放接口 %d|p%d@example.org|%d" % (i, i, i) for i in range(10))
    assert len(set(numbers)) == 10


def test_refusals_replays_and_expired_keys_in_one_batch(srv, op):
    """The set-based batch answers each case as case_create would alone: an unknown department or
    category is refused (422, its key not claimed, nothing written); a key committed before the
    batch is replayed (200, same case) or refused with another body (422); a key whose record
    expired is taken over (201, a new case); a refused case's key is free for the next body."""
    district = "批区" + uuid.uuid4().hex[:8]
    old, expired, retried = ("replay-" + uuid.uuid4().hex, "expired-" + uuid.uuid4().hex,
                             "retried-" + uuid.uuid4().hex)
    earlier = {"text": "早先受理的来电", "district": district}
    status, _, first = srv.request("POST", "/v1/cases", earlier, token=op, headers={"Idempotency-Key": old})
    assert status == 201
    status, _, gone = srv.request("POST", "/v1/cases", dict(earlier, text="过期键的来电"), token=op,
                                  headers={"Idempotency-Key": expired})
    assert status == 201
    srv.cluster.psql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = '%s'"
                     % expired, db=srv.db)
    bodies = [
        {"text": "部门不存在", "district": district, "department": "no_such_dept"},  # 0: 422 department
        {"text": "分类不存在", "district": district, "category": "no_such.01"},     # 1: 422 category
        earlier,                                                                  # 2: 200 replay
        dict(earlier, text="同键改了内容"),                                         # 3: 422 mismatch
        {"text": "过期键重新受理", "district": district},                            # 4: 201 takes over
        {"text": "被拒后同键重发（坏）", "district": district, "department": "no_such_dept"},  # 5: 422
        {"text": "被拒后同键重发（好）", "district": district},                       # 6: 201
        {"text": "无键正常来电", "district": district},                              # 7: 201
    ]
    headers = [{"Idempotency-Key": k} for k in (old, uuid.uuid4().hex, old, old, expired, retried, retried)]
    headers.append(None)
    tx0, split0 = metric(srv, "hotline_intake_transactions_total"), metric(srv, "hotline_intake_batches_split_total")

    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        replies = []
        for body, h in zip(bodies, headers):
            replies.append(send(body, h))
            # in this order: a refused case's key must be free for the one after it
            wait_waiting(srv, len(replies))

    # the held one; the batch of the six with a key of their own (3 and 6 repeat 2's and 5's key:
    # since session 8 one batch never carries a key twice), which fails on 2's and 4's keys,
    # claimed before it (since session 9 the keys' INSERT has no ON CONFLICT), and is sent
    # again case by case; the second batch, of 3 and 6, fails on 3's key the same way
    assert metric(srv, "hotline_intake_transactions_total") - tx0 == 1 + (1 + 6) + (1 + 2)
    assert metric(srv, "hotline_intake_batches_split_total") - split0 == 2
    got = [r[0] for r in replies]
    assert_error(got[0], 422, "invalid_field", "department")
    assert_error(got[1], 422, "invalid_field", "category")
    # the replay, written by the server from the stored case's columns, is the first answer
    # (written by case_json) to the last key, tracking code included
    assert got[2][0] == 200 and got[2][2] == first, (got[2], first)
    assert_error(got[3], 422, "idempotency_mismatch")
    assert got[4][0] == 201 and got[4][2]["id"] != gone["id"] and got[4][2]["text"] == bodies[4]["text"]
    assert_error(got[5], 422, "invalid_field", "department")
    assert got[6][0] == 201 and got[6][2]["text"] == bodies[6]["text"]
    assert got[7][0] == 201 and got[7][2]["text"] == bodies[7]["text"]
    # the keys now name the cases they created; nothing else was written
    assert srv.cluster.psql("SELECT k.key = '%s', c.text FROM idempotency_keys k JOIN cases c ON c.id = k.case_id "
                            "WHERE k.key IN ('%s', '%s') ORDER BY 1" % (expired, expired, retried), db=srv.db) \
        == "f|%s\nt|%s" % (bodies[6]["text"], bodies[4]["text"])
    assert srv.cluster.psql("SELECT count(*) FROM cases WHERE district = '%s'" % district, db=srv.db) == "6"
    assert srv.cluster.psql("SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id "
                            "WHERE c.district = '%s'" % district, db=srv.db) == "6"
    assert srv.cluster.psql("SELECT case_facts_drift()", db=srv.db) == "0"


def test_batched_answer_is_the_case_as_stored(srv, op):
    """Since 022 the server writes a batched case's answer (core/case_render) where case_json
    wrote it before, and since session 8 from what it sent, with only id, number, lat and lon
    from PostgreSQL: each answer is exactly GET /v1/cases/{id} (case_json's) plus the tracking
    code, for every kind of value (numbers as PostgreSQL prints them, booleans, nulls, a
    confidential caller shown to the operator who took the call, an answered case with its
    knowledge-base article, an urgent one, a category, one dispatched by hand)."""
    batched_answers_as_stored(srv, op)


def test_batched_answer_in_another_time_zone(srv, make_server):
    """A new case's times are the server's own text (core/local_time), as case_ts writes them in
    the session's zone: a server in a zone west of UTC with a half-hour offset (its sessions in
    the same zone) answers exactly GET too."""
    other = make_server(srv.cluster, intake_transactions=1, intake_batch_max=BATCH_MAX,
                        queue_timeout_ms=600000, timezone="America/St_Johns")
    replies = batched_answers_as_stored(other, other.make_user("operator"))
    assert replies[0][0][2]["created_at"].endswith(("-03:30", "-02:30")), replies[0]


def batched_answers_as_stored(srv, op):
    """Creates the cases of test_batched_answer_is_the_case_as_stored in one batch on srv and
    checks each answer against GET; returns the replies."""
    district = "批区" + uuid.uuid4().hex[:8]
    kb = srv.cluster.psql("SELECT min(id) FROM kb_articles WHERE enabled", db=srv.db)
    bodies = [
        {"text": "坐标带很多位小数", "district": district, "lat": 32.981234567891234, "lon": 114.02},
        {"text": "坐标为整数与负数", "district": district, "lat": -0.0001, "lon": 114, "address": "某路 1 号"},
        {"text": "保密来电人", "district": district,
         "caller": {"name": "李\\女士", "phone": "13700000000", "confidential": True}},
        {"text": "当场解答", "district": district, "answer": "已解答：请拨打\n供电热线", "type": "consult"},
        {"text": "加急分类件", "district": district, "urgent": True, "category": "urban_mgmt.03",
         "channel": "wechat", "title": "标题\t带制表"},
        {"text": "直接派给住建", "district": district, "department": "housing", "type": "help"},
    ]
    if kb:
        bodies.append({"text": "知识库解答", "district": district, "answer": "见知识库", "kb": int(kb),
                       "type": "consult"})
    first = {"text": "先到的一件", "district": district, "lat": 1.5, "lon": 2.25}
    with creates_held(srv, op, first) as send:
        replies = send_all(send, bodies)
        wait_waiting(srv, len(bodies))
    for reply in [r[0] for r in replies]:
        status, _, case = reply
        assert status == 201, reply
        assert re.fullmatch(r"\d{6}", case.pop("track_code")), case
        status, _, stored = srv.request("GET", "/v1/cases/%d" % case["id"], token=op)
        assert status == 200 and case == stored, (case, stored)
    assert replies[2][0][2]["caller"] == {"name": "李\\女士", "phone": "13700000000", "confidential": True}
    assert (replies[0][0][2]["lat"], replies[1][0][2]["lon"]) == (32.981234567891234, 114)
    return replies


INTAKE_BATCH_SQL = Path(__file__).resolve().parents[2] / "server" / "api" / "intake_batch.sql"


def batch_plans(srv, calls):
    """The plans of `calls` executions of the server's batch statement (server/api/intake_batch.sql)
    in one new session with the generic plan, as the intake's connections run it (auto_explain's
    LOG lines, which psql prints on stderr): two cases each, the first with a new
    Idempotency-Key, the second without one."""
    user = srv.cluster.psql("SELECT min(id) FROM users", db=srv.db)
    run = uuid.uuid4().hex
    key = lambda i: "'plan-%s-%d'" % (run, i)
    body = lambda i: "'{\"text\": \"计划 %d\", \"channel\": \"phone\", \"type\": \"complaint\"}'" % i
    two = lambda v: "ARRAY[%s, %s]" % (v, v)
    sql = ["LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET client_min_messages = log; "
           "SET plan_cache_mode = force_generic_plan; PREPARE batch AS %s;" % INTAKE_BATCH_SQL.read_text()]
    for i in range(calls):
        sql.append("EXECUTE batch(%s, %s, %s, ARRAY[NULL, NULL]::text[], ARRAY[%s, %s], "
                   "ARRAY[%s, %s]::jsonb[], %s, ARRAY[NULL, NULL]::text[], %s, ARRAY[NULL, NULL]::bigint[], "
                   "ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::timestamptz[], ARRAY[NULL, NULL]::timestamptz[], "
                   "ARRAY[NULL, NULL]::timestamptz[], ARRAY[now(), now()], ARRAY[NULL, NULL]::smallint[], "
                   "ARRAY['123456', '654321']);"
                   % (two(user), two("'plan'"), two("'operator'"), key(i), "NULL", body(i), body(i - 1),
                      two("'pending'"), two("'none'")))
    r = subprocess.run(srv.cluster.psql_command(srv.db) + ["-c", "\n".join(sql)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
    return r.stderr


def test_batch_reads_no_growing_table_whole(srv, op):
    """The batch's statements run with the generic plan made on a session's first call, when
    the tables may be nearly empty: a statement that joined the new cases back from `cases`
    (or every key from idempotency_keys) got a hash join over the whole table and kept it as the
    table grew (022's first version: 136 cases a second). Neither table is ever scanned whole."""
    plans = batch_plans(srv, 3)
    # three batches ran, each claiming its new key
    assert plans.count("Insert on cases c") == 3, plans
    assert plans.count("Insert on idempotency_keys") == 3, plans
    for table in ("cases", "idempotency_keys", "case_events", "case_facts"):
        assert not re.search(r"Seq Scan on %s\b" % table, plans), plans


def test_batched_rule_routing_counts_every_case(srv, op):
    """Cases routed by rules in one batch: each case names its rule, and the rule stats grow by
    the number of cases each rule dispatched, at once (rule_stats adds the create events not
    folded yet) and once folded into rule_counts (sql/025, the sweeper's fold)."""
    district = "批区" + uuid.uuid4().hex[:8]
    bodies = [{"text": "风光路占道经营摆摊，影响通行（%d）" % i, "district": district} for i in range(6)]
    stats = lambda: dict(line.split("|") for line in srv.cluster.psql(
        "SELECT rule_id, dispatched FROM rule_stats()", db=srv.db).splitlines() if line)
    before = stats()

    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        replies = send_all(send, bodies)
        wait_waiting(srv, len(bodies))

    routed = [r[0][2] for r in replies]
    assert all(r[0][0] == 201 for r in replies), replies
    assert all(c["routing"]["method"] == "rule" for c in routed), routed
    per_rule = {}
    for c in routed:
        per_rule[str(c["routing"]["rule_id"])] = per_rule.get(str(c["routing"]["rule_id"]), 0) + 1
    after = stats()
    for rule, n in per_rule.items():
        assert int(after[rule]) - int(before.get(rule, 0)) == n, (rule, before, after)
    # two folds: the first chooses its bound (or folds one chosen before), the second folds up
    # to it; then rule_counts alone holds them, and the stats have not moved
    srv.cluster.psql("SELECT rule_counts_fold(); SELECT rule_counts_fold()", db=srv.db)
    assert stats() == after
    folded = dict(line.split("|") for line in srv.cluster.psql(
        "SELECT rule_id, sum(dispatched) FROM rule_counts GROUP BY rule_id", db=srv.db).splitlines() if line)
    assert {r: folded.get(r) for r in per_rule} == {r: after[r] for r in per_rule}, (folded, after)
    assert srv.cluster.psql("SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id "
                            "WHERE c.district = '%s' AND e.data #>> '{routing,method}' = 'rule'" % district,
                            db=srv.db) == str(len(bodies))
    assert srv.cluster.psql("SELECT case_facts_drift()", db=srv.db) == "0"


def test_track_codes_and_kb_in_one_batch(srv, op):
    """015's intake aids through the set-based batch: each created case answers its own tracking
    code, which /v1/track accepts; the same key and body twice in the batch answer the same case
    with the same code; a direct answer naming no enabled knowledge-base article is refused
    (422 kb) and writes nothing."""
    district = "批区" + uuid.uuid4().hex[:8]
    key = {"Idempotency-Key": "track-" + uuid.uuid4().hex}
    same = {"text": "同键的来电带查询码", "district": district}
    bodies = [same, same, {"text": "另一件", "district": district},
              {"text": "引用不存在的知识", "district": district, "answer": "已答复", "kb": 987654321}]

    with creates_held(srv, op, {"text": "先到的一件", "district": district}) as send:
        replies = send_all(send, bodies, [key, key, None, None])
        wait_waiting(srv, len(bodies))

    (s1, _, a), (s2, _, b), (s3, _, c) = (r[0] for r in replies[:3])
    assert sorted([s1, s2]) == [200, 201] and a["id"] == b["id"], replies[:2]
    assert re.fullmatch(r"\d{6}", a["track_code"]) and a["track_code"] == b["track_code"], (a, b)
    assert s3 == 201 and re.fullmatch(r"\d{6}", c["track_code"]) and c["id"] != a["id"]
    assert_error(replies[3][0], 422, "invalid_field", "kb")
    for case in (a, c):
        status, _, tracked = srv.request("GET", "/v1/track/%s?code=%s" % (case["number"], case["track_code"]))
        assert status == 200, tracked
    assert srv.cluster.psql("SELECT count(*) FROM cases WHERE district = '%s'" % district, db=srv.db) == "3"



def test_a_second_transaction_waits_for_a_batch_worth_its_commit(srv, make_server):
    """intake_batch_min: beside a running intake transaction, another starts only once that many
    creates wait. Before it, a create arriving while one of two transactions ran went alone
    into the second (a batch of one, the dearest per case: bench/RESULTS.md)."""
    two = make_server(srv.cluster, intake_transactions=2, intake_batch_min=4, intake_batch_max=BATCH_MAX,
                      queue_timeout_ms=600000)
    op2 = two.make_user("operator")
    district = "批区" + uuid.uuid4().hex[:8]
    tx0, cases0 = metric(two, "hotline_intake_transactions_total"), metric(two, "hotline_intake_cases_total")

    with creates_held(two, op2, {"text": "先到的一件", "district": district}) as send:
        replies = send_all(send, [{"text": "随后的来电 %d" % i, "district": district} for i in range(3)])
        wait_waiting(two, 3)
        time.sleep(0.2)
        assert statements_waiting(two) == 1 and metric(two, "hotline_intake_waiting") == 3
        replies.append(send({"text": "第四件到了", "district": district}))
        wait_waiting(two, 0)
        wait_for(lambda: statements_waiting(two) == 2, 10, "the batch of four to start beside the first")

    assert [r[0][0] for r in replies] == [201] * 4, replies
    assert metric(two, "hotline_intake_transactions_total") - tx0 == 2
    assert metric(two, "hotline_intake_cases_total") - cases0 == 5


def test_batch_running_into_a_key_another_transaction_commits(srv, make_server):
    """Two intake transactions at once, the same Idempotency-Key in both: the batch's claim
    waits for the other transaction's key and finds it committed, a key claimed before the
    batch that its snapshot may not show. The batch fails on it (unique_violation; since
    session 9, before a NULL status answered that case alone) and the server sends each of its
    cases again alone: case_create replays the retry (200, the first's case), the others are
    created."""
    two = make_server(srv.cluster, intake_transactions=2, intake_batch_min=4, intake_batch_max=BATCH_MAX,
                      queue_timeout_ms=600000)
    op2 = two.make_user("operator")
    district = "批区" + uuid.uuid4().hex[:8]
    body = {"text": "重试赶上了首次请求", "district": district}
    key = {"Idempotency-Key": "race-" + uuid.uuid4().hex}
    tx0, split0 = metric(two, "hotline_intake_transactions_total"), metric(two, "hotline_intake_batches_split_total")
    cases0 = metric(two, "hotline_intake_cases_total")

    with creates_held(two, op2, body, key) as send:
        retry = send(body, key)
        others = send_all(send, [{"text": "同批的来电 %d" % i, "district": district} for i in range(3)])
        wait_for(lambda: statements_waiting(two) == 2, 10, "the batch of four to wait beside the first")

    made = two.cluster.psql("SELECT id FROM cases WHERE district = '%s' ORDER BY id" % district,
                            db=two.db).split()
    assert retry[0][0] == 200, retry
    assert [r[0][0] for r in others] == [201] * 3, others
    # four cases: the first (whose case the retry shows) and the batch's other three
    assert len(made) == 4 and str(retry[0][2]["id"]) == made[0], (retry, made)
    assert retry[0][2]["text"] == body["text"]
    # the first alone, the batch of four that failed, its four again alone; five answers
    assert metric(two, "hotline_intake_transactions_total") - tx0 == 1 + 1 + 4
    assert metric(two, "hotline_intake_cases_total") - cases0 == 5
    assert metric(two, "hotline_intake_batches_split_total") - split0 == 1
    assert two.cluster.psql("SELECT count(*) FROM idempotency_keys WHERE key = '%s'" % key["Idempotency-Key"],
                            db=two.db) == "1"


def test_creates_at_idle_linger_for_each_other(srv, make_server):
    """intake_linger_us: a create that arrives while no intake transaction runs waits that
    long for others before it goes (the moments with none running made a tenth of the
    transactions carry one case at 16 connections: bench/RESULTS.md). Three creates at once
    go as one transaction; a lone one still goes, alone, once its linger is over."""
    slow = make_server(srv.cluster, intake_linger_us=100000, intake_batch_max=BATCH_MAX)
    op3 = slow.make_user("operator")
    district = "批区" + uuid.uuid4().hex[:8]
    tx0, cases0 = metric(slow, "hotline_intake_transactions_total"), metric(slow, "hotline_intake_cases_total")
    threads = []

    replies = [create_in_thread(slow, op3, {"text": "同时来电 %d" % i, "district": district}, None, threads)
               for i in range(3)]
    for t in threads:
        t.join(60)
    assert [r[0][0] for r in replies] == [201] * 3, replies
    assert metric(slow, "hotline_intake_transactions_total") - tx0 == 1
    assert metric(slow, "hotline_intake_cases_total") - cases0 == 3

    started = time.monotonic()
    status, _, alone = slow.request("POST", "/v1/cases", {"text": "单独来电", "district": district}, token=op3)
    assert status == 201 and alone["text"] == "单独来电"
    assert time.monotonic() - started >= 0.1
    assert metric(slow, "hotline_intake_transactions_total") - tx0 == 2
