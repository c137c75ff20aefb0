"""Regression tests for the faults a read-through of the server found (issue 19), each named for
its fault, each through the real server and a real PostgreSQL."""
import os
import subprocess
import threading
import time

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
    """Both connections and the one intake transaction wait for a lock inside PostgreSQL; the
    reads queued for a connection and the creates waiting for the intake are answered 503 with
    Retry-After by the janitor once older than queue_timeout_ms, while the lock is still held,
    and counted in hotline_queue_timeouts_total; the two in flight finish once it is released."""
    srv = make_server(pg, pool_size=2, intake_transactions=1, queue_timeout_ms=500,
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
        assert metric(srv, "hotline_queue_timeouts_total") == 6
    read_reply, first_reply = reqs.join([read, first], 30)
    assert read_reply and read_reply[0] == 200, read_reply
    assert first_reply and first_reply[0] == 201, first_reply


# --- connection failures were logged only at debug --------------------------------------------

def test_outage_reason_logged_once_at_warn_and_the_recovery(pg, make_server):
    """A server whose password PostgreSQL refuses says why once at the default log level (not
    once per retry of each connection), and says so again when the password starts to work."""
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
    assert len(lines) == 1, lines
    assert "password authentication failed" in lines[0], lines
    assert wrong.split("password=")[1] not in srv.log_text(since)

    pg.psql("ALTER ROLE %s PASSWORD 'wrong-%s'" % (role, password))
    wait_for(lambda: srv.request("GET", "/readyz")[0] == 200, 20, "the server to be ready")
    assert " warn database available again after " in srv.log_text(since)
    assert len(outage_lines()) == 1
