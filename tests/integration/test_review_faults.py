"""Regression tests for the faults a read-through of the server found (issue 19), each named for
its fault, each through the real server and a real PostgreSQL."""
import hashlib
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

from api_errors import assert_error
from polling import metric, wait_for

TEXT = "市民来电反映，小区门口的自来水管道破裂，水一直往外冒，已经流了两天。"


def locks_waited(srv):
    return int(srv.cluster.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hotline' "
        "AND datname = current_database() AND wait_event_type = 'Lock'", db=srv.db))


class Requests:
    """Requests started in threads; .replies[i] is the (status, headers, body) of the i-th."""

    def __init__(self, srv):
        self.srv, self.threads, self.replies = srv, [], {}

    def start(self, *args, **kwargs):
        i = len(self.threads)
        t = threading.Thread(target=lambda: self.replies.__setitem__(
            i, self.srv.request(*args, timeout=60, **kwargs)), daemon=True)
        t.start()
        self.threads.append(t)
        return i

    def join(self, indexes, timeout):
        for i in indexes:
            self.threads[i].join(timeout)
        return [self.replies.get(i) for i in indexes]


# --- queued queries had no deadline -----------------------------------------------------------

def test_queued_queries_and_waiting_creates_have_a_deadline(pg, make_server):
    """The one connection and the one intake transaction (on its own connection) wait for a
    lock inside PostgreSQL; the reads queued for a connection and the creates waiting for the
    intake are answered 503 with Retry-After by the janitor once older than queue_timeout_ms,
    while the lock is still held, and counted in hotline_queue_timeouts_total; the two in flight
    finish once it is released."""
    srv = make_server(pg, pool_size=1, intake_transactions=1, queue_timeout_ms=500,
                      token_cache_seconds=600, sweep_interval=3600)
    op = srv.make_user("operator")
    assert srv.request("GET", "/v1/me", token=op)[0] == 200  # its token is cached from now on
    create = {"text": TEXT, "district": "驿城区"}
    reqs = Requests(srv)
    with srv.cluster.table_locked("cases", "ACCESS EXCLUSIVE", db=srv.db):
        read = reqs.start("GET", "/v1/cases?limit=1", token=op)
        wait_for(lambda: locks_waited(srv) == 1, 10, "the read to wait for the lock")
        first = reqs.start("POST", "/v1/cases", create, token=op)
        wait_for(lambda: locks_waited(srv) == 2, 10, "the first create to wait for the lock")
        queued = [reqs.start("POST", "/v1/cases", create, token=op) for _ in range(3)]
        queued += [reqs.start("GET", "/v1/cases/1", token=op) for _ in range(3)]
        replies = reqs.join(queued, 30)  # with the lock still held
        assert all(replies), "a queued request got no answer while the lock was held: %s" % replies
        for r in replies:
            assert_error(r, 503, "unavailable")
            assert r[1].get("retry-after", "").isdigit(), r
        # the reloaders' background version checks (rules, SLA) go through the same queue
        # every few seconds: one queued behind the lock times out too, and says so in the log
        background = srv.log_text().count("version check failed")
        assert metric(srv, "hotline_queue_timeouts_total") == 6 + background
    read_reply, first_reply = reqs.join([read, first], 30)
    assert read_reply and read_reply[0] == 200, read_reply
    assert first_reply and first_reply[0] == 201, first_reply


# --- connection failures were logged only at debug --------------------------------------------

def test_outage_reason_logged_once_at_warn_and_the_recovery(pg, make_server):
    """A server whose password PostgreSQL refuses says why once per pool (main, read lane, intake)
    at the default log level, not once per retry of each connection, and says so again when the
    password starts to work."""
    srv = make_server(pg)
    assert srv.stop() == 0
    role, password = "hl_outage_" + os.urandom(4).hex(), os.urandom(8).hex()
    pg.psql("CREATE ROLE %s LOGIN PASSWORD 'right-%s'; GRANT hotline TO %s" % (role, password, role))
    wrong = "host=127.0.0.1 port=%d dbname=%s user=%s password=wrong-%s" % (pg.port, srv.db, role, password)
    srv.env = lambda: dict(os.environ, HOTLINE_DB=wrong)
    since = srv.log_size()
    with open(srv.log_path, "ab") as log:
        srv.proc = subprocess.Popen([srv.bin, "--port=%d" % srv.port, *srv.flags, "serve"], env=srv.env(),
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    srv.expected_exit = False

    def outage_lines():
        return [line for line in srv.log_text(since).splitlines() if " warn database unavailable" in line]

    wait_for(outage_lines, 10, "the outage warning")
    # every connection retries a few times meanwhile (back-off 0.1, 0.2, 0.4, 0.8, 1.6 s)
    time.sleep(3)
    lines = outage_lines()
    assert len(lines) == 3 and all("the %s pool" % p in "".join(lines) for p in ("main", "read", "intake")), lines
    assert all("password authentication failed" in line for line in lines), lines
    assert wrong.split("password=")[1] not in srv.log_text(since)

    pg.psql("ALTER ROLE %s PASSWORD 'wrong-%s'" % (role, password))
    wait_for(lambda: srv.request("GET", "/readyz")[0] == 200, 20, "the server to be ready")
    assert " warn database available again to the main pool after " in srv.log_text(since)
    assert len(outage_lines()) == 3


# --- long Chinese user names gave 500 ---------------------------------------------------------

def test_user_name_of_100_chinese_characters_works_end_to_end(server):
    """The contract allows 100 characters; 43 Chinese ones (129 bytes) already overflowed the
    128-byte name buffer, cut mid-character, and PostgreSQL refused the actor name: 500."""
    name = "欧阳" + "长" * 98
    status, _, user = server.request("POST", "/v1/users", {"name": name, "role": "operator"},
                                     token=server.admin_token)
    assert status == 201 and user["name"] == name, user
    status, _, case = server.request("POST", "/v1/cases", {"text": TEXT, "district": "驿城区"},
                                     token=user["token"])
    assert status == 201, case
    status, _, events = server.request("GET", "/v1/cases/%d/events" % case["id"], token=user["token"])
    assert status == 200 and events["items"][0]["actor"] == name, events


def test_create_admin_refuses_a_name_over_the_limit(server):
    """The one way around POST /v1/users' check: refused with the contract's limit named."""
    r = subprocess.run([server.bin, "create-admin", "长" * 101], env=server.env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 2 and r.stdout == b"", r


# --- control bytes of a request path went raw into the log -------------------------------------

def test_control_bytes_of_a_request_path_are_escaped_in_the_log(server):
    since = server.log_size()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /v1/\x1b[2J\x1b[31mfake\x07 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 4"), reply[:200]
    log = wait_for(lambda: "fake" in server.log_text(since) and server.log_text(since), 5, "the request's log line")
    line = next(l for l in log.splitlines() if "fake" in l)
    assert "\x1b" not in log and "\x07" not in log, line
    assert "\\x1b[31mfake\\x07" in line, line


# --- the plaintext token of a new user went to PostgreSQL --------------------------------------

def test_new_token_is_not_sent_to_postgresql(pg, make_server):
    """With every statement and its parameters logged by PostgreSQL, the token of a new user and
    of a replaced token appear nowhere in its log (its SHA-256 does: logging was on)."""
    srv = make_server(pg)
    pg.psql("ALTER DATABASE %s SET log_min_duration_statement = 0" % srv.db)
    srv.restart()  # new sessions log every statement
    status, _, user = srv.request("POST", "/v1/users", {"name": "张三", "role": "operator"},
                                  token=srv.admin_token)
    assert status == 201 and user["token"].startswith("hl_"), user
    status, _, again = srv.request("POST", "/v1/users/%d/token" % user["id"], {}, token=srv.admin_token)
    assert status == 200 and again["token"].startswith("hl_") and again["name"] == "张三", again
    assert srv.request("GET", "/v1/me", token=again["token"])[2]["id"] == user["id"]
    assert srv.request("GET", "/v1/me", token=user["token"])[0] == 401
    pg.psql("ALTER DATABASE %s RESET log_min_duration_statement" % srv.db)
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in (user["token"], again["token"])]
    log = wait_for(lambda: all(h in Path(pg.logfile).read_text(errors="replace") for h in hashes) and
                   Path(pg.logfile).read_text(errors="replace"), 10, "the statements in PostgreSQL's log")
    assert user["token"] not in log and again["token"] not in log


# --- every request with an unknown token cost a query -----------------------------------------

def test_unknown_token_flood_costs_no_query_each(pg, make_server):
    """The same made-up token again and again costs one query (then the negative cache answers
    401); new made-up tokens cost one query each only up to the address's budget
    (auth_fail_budget a minute), then the address gets 429 with Retry-After and no query. A token
    already authenticated still works from that address, and other addresses are not held back."""
    budget = 20
    srv = make_server(pg, auth_fail_budget=budget, token_cache_seconds=600)
    known = srv.make_user("operator")
    assert srv.request("GET", "/v1/me", token=known)[0] == 200  # cached from now on
    other = srv.make_user("operator")
    queries = metric(srv, "hotline_db_queries_total")

    fake = "hl_" + "0" * 48
    for _ in range(30):
        assert_error(srv.request("GET", "/v1/me", token=fake), 401, "unauthorized")
    # one lookup; the rules' and SLA policy's reloaders poll their version every 2-3 s on the
    # same pool, and one of them may fall into these 30 requests
    assert metric(srv, "hotline_db_queries_total") - queries <= 3

    replies = [srv.request("GET", "/v1/me", token="hl_" + os.urandom(24).hex()) for _ in range(100)]
    statuses = [r[0] for r in replies]
    spent = metric(srv, "hotline_db_queries_total") - queries
    assert spent <= budget + 3, (spent, statuses)  # + what refills during the flood (1 every 3 s)
    assert statuses[:budget - 1] == [401] * (budget - 1), statuses
    for r in replies[-50:]:
        assert_error(r, 429, "rate_limited")
        assert r[1].get("retry-after", "").isdigit(), r

    assert srv.request("GET", "/v1/me", token=known)[0] == 200
    assert srv.request("GET", "/v1/me", token=other)[0] == 429  # not cached: it would cost a query
    assert srv.request("GET", "/v1/me", token=other, headers={"X-Forwarded-For": "203.0.113.7"})[0] == 200


def test_lookups_the_database_did_not_answer_do_not_spend_the_budget(pg, make_server):
    """Only unknown tokens spend an address's budget: lookups answered 503 (the database too slow
    or away, as in an outage when every client retries) give it back."""
    srv = make_server(pg, auth_fail_budget=2, token_cache_seconds=0, statement_timeout_ms=200)
    token = srv.make_user("operator")
    with srv.cluster.table_locked("tokens", "ACCESS EXCLUSIVE", db=srv.db):
        for _ in range(5):
            assert_error(srv.request("GET", "/v1/me", token=token), 503, "unavailable")
    assert srv.request("GET", "/v1/me", token=token)[0] == 200
