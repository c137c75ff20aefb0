"""The foundation: health, readiness, metrics, authentication, the users API (docs/API.md
sections 1 and 6), the error contract for size limits and unknown routes, PostgreSQL going away
and coming back, and a draining shutdown."""
import os
import re
import shutil
import signal
import socket
import subprocess
import struct
import threading
import time
from urllib.parse import quote

import pytest

from api_errors import assert_error
from polling import wait_for


def raw_http(port, data, timeout=10):
    """Sends data (a whole HTTP/1.1 request, Connection: close) on a new connection and reads
    the answer to its end. Returns (status, body text). A reset while sending is tolerated:
    the server may answer before it has read everything, as long as the answer arrives."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    reply = b"".join(chunks).decode("utf-8", "replace")
    head, _, body = reply.partition("\r\n\r\n")
    assert head.startswith("HTTP/1."), "no HTTP answer: %r" % reply[:200]
    return int(head.split()[1]), body


def post_raw(port, path, body, token, chunked=False, chunk=1000):
    head = "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer %s\r\n" \
           "Content-Type: application/json\r\n" % (path, token)
    if not chunked:
        return (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + chunk]), body[i:i + chunk])
             for i in range(0, len(body), chunk)]
    return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"".join(parts) + b"0\r\n\r\n"


def padded_user(size):
    """A valid user-creation body of exactly size bytes (JSON padded with spaces)."""
    core = b'{"name": "padded", "role": "operator"'
    return core + b" " * (size - len(core) - 1) + b"}"


def user_items(reply):
    status, _, body = reply
    assert status == 200, reply
    assert isinstance(body, dict) and isinstance(body.get("items"), list), reply
    return body["items"]


# --- health, readiness, metrics --------------------------------------------------------------

@pytest.mark.smoke
def test_healthz(server):
    status, headers, body = server.request("GET", "/healthz")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert body == {"status": "ok"}


@pytest.mark.smoke
def test_readyz_when_database_answers(server):
    assert server.request("GET", "/readyz")[0] == 200


@pytest.mark.smoke
def test_metrics_pass_promtool(server):
    server.request("GET", "/healthz")
    status, headers, text = server.request("GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert "# TYPE " in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing (Debian package prometheus)"
    r = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 0, r.stdout


def test_health_needs_no_token_but_ignores_a_bad_one(server):
    assert server.request("GET", "/healthz", token="not-a-token")[0] == 200
    assert server.request("GET", "/metrics", token="not-a-token")[0] == 200


# --- authentication ---------------------------------------------------------------------------

@pytest.mark.smoke
@pytest.mark.parametrize("authorization", [
    None, "Bearer unknown-token-0000000000000000", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer",
])
def test_missing_or_unknown_token_is_401(server, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_error(server.request("GET", "/v1/me", headers=headers), 401, "unauthorized")
    assert_error(server.request("GET", "/v1/users", headers=headers), 401, "unauthorized")
    assert_error(server.request("POST", "/v1/users", {"name": "x", "role": "admin"},
                                headers=headers), 401, "unauthorized")


def test_admin_token_of_another_server_is_unknown(server, make_server, pg):
    other = make_server(pg)
    assert_error(server.request("GET", "/v1/me", token=other.admin_token), 401, "unauthorized")


# --- users and tokens -------------------------------------------------------------------------

@pytest.mark.smoke
def test_create_user_shows_token_once(server):
    status, _, user = server.request("POST", "/v1/users", {"name": "王芳", "role": "operator"},
                                     token=server.admin_token)
    assert status == 201, user
    assert user["name"] == "王芳" and user["role"] == "operator"
    assert user["department"] is None
    assert isinstance(user["id"], int) and user["id"] > 0
    assert isinstance(user["token"], str) and len(user["token"]) >= 22  # >= 128 bits

    items = user_items(server.request("GET", "/v1/users", token=server.admin_token))
    listed = [u for u in items if u.get("id") == user["id"]]
    assert len(listed) == 1 and listed[0]["name"] == "王芳"
    assert all("token" not in u for u in items)

    status, _, me = server.request("GET", "/v1/me", token=user["token"])
    assert status == 200, me
    assert (me["id"], me["name"], me["role"]) == (user["id"], "王芳", "operator")
    assert "token" not in me


def test_department_user_is_bound_to_its_department(server):
    status, _, user = server.request(
        "POST", "/v1/users", {"name": "clerk", "role": "department", "department": "urban_mgmt"},
        token=server.admin_token)
    assert status == 201, user
    assert user["department"] == "urban_mgmt"
    status, _, me = server.request("GET", "/v1/me", token=user["token"])
    assert status == 200 and me["department"] == "urban_mgmt" and me["role"] == "department"


@pytest.mark.parametrize("body, status, code, field", [
    ({"name": "c", "role": "department"}, 422, "missing_field", "department"),
    ({"name": "c", "role": "department", "department": "no_such_dept"}, 422, "invalid_field",
     "department"),
    ({"name": "c", "role": "superuser"}, 422, "invalid_field", "role"),
    ({"role": "operator"}, 422, "missing_field", "name"),
    ({"name": "c"}, 422, "missing_field", "role"),
    ({"name": "", "role": "operator"}, 422, "invalid_field", "name"),
    ({"name": "c", "role": "operator", "colour": "red"}, 422, "invalid_field", "colour"),
])
def test_create_user_validation(server, body, status, code, field):
    before = server.cluster.psql("SELECT count(*) FROM users", db=server.db)
    assert_error(server.request("POST", "/v1/users", body, token=server.admin_token),
                 status, code, field)
    assert server.cluster.psql("SELECT count(*) FROM users", db=server.db) == before


@pytest.mark.parametrize("raw", ['{"name": "c", "role": ', "[1, 2]", '"text"', "\xff\xfe"])
def test_create_user_bad_json(server, raw):
    data = raw.encode("latin-1") if raw == "\xff\xfe" else raw.encode()
    assert_error(server.request("POST", "/v1/users", raw=data, token=server.admin_token),
                 400, "bad_json")


def test_create_user_wrong_content_type(server):
    reply = server.request("POST", "/v1/users", raw='{"name": "c", "role": "operator"}',
                           headers={"Content-Type": "text/plain"}, token=server.admin_token)
    assert_error(reply, 415, "unsupported_media_type")


@pytest.mark.parametrize("role", ["operator", "department", "manager"])
def test_only_admin_manages_users(server, role):
    token = server.make_user(role)
    assert_error(server.request("POST", "/v1/users", {"name": "x", "role": "admin"}, token=token),
                 403, "forbidden")
    assert_error(server.request("GET", "/v1/users", token=token), 403, "forbidden")
    assert_error(server.request("DELETE", "/v1/users/1", token=token), 403, "forbidden")
    assert server.request("GET", "/v1/me", token=token)[0] == 200


def test_new_token_revokes_the_old_one(server):
    status, _, user = server.request("POST", "/v1/users", {"name": "rotating", "role": "manager"},
                                     token=server.admin_token)
    assert status == 201
    status, _, renewed = server.request("POST", "/v1/users/%d/token" % user["id"],
                                        token=server.admin_token)
    assert status in (200, 201), renewed
    assert renewed["id"] == user["id"] and renewed["token"] != user["token"]
    assert_error(server.request("GET", "/v1/me", token=user["token"]), 401, "unauthorized")
    assert server.request("GET", "/v1/me", token=renewed["token"])[0] == 200


def test_disabled_user_is_401(server):
    status, _, user = server.request("POST", "/v1/users", {"name": "leaving", "role": "operator"},
                                     token=server.admin_token)
    assert status == 201
    assert server.request("GET", "/v1/me", token=user["token"])[0] == 200
    status, _, body = server.request("DELETE", "/v1/users/%d" % user["id"],
                                     token=server.admin_token)
    assert status in (200, 204), body
    assert_error(server.request("GET", "/v1/me", token=user["token"]), 401, "unauthorized")
    assert_error(server.request("GET", "/v1/users", token=user["token"]), 401, "unauthorized")
    # disabled, not deleted: the record stays, and history can still name the user
    items = user_items(server.request("GET", "/v1/users", token=server.admin_token))
    assert any(u["id"] == user["id"] for u in items)


def test_a_token_revoked_elsewhere_stops_within_the_cache_lifetime(pg, make_server):
    """token_cache_seconds bounds how long a server trusts a token it has seen: a user disabled
    through another server (here: in SQL) is refused once that time has passed; with 0 at once."""
    cached, uncached = make_server(pg, token_cache_seconds=1), make_server(pg, token_cache_seconds=0)
    for srv in (cached, uncached):
        token = srv.make_user("operator")
        me = srv.request("GET", "/v1/me", token=token)
        assert me[0] == 200
        pg.psql("UPDATE users SET disabled_at = now() WHERE id = %d" % me[2]["id"], db=srv.db)
        if srv is uncached:
            assert_error(srv.request("GET", "/v1/me", token=token), 401, "unauthorized")
            continue
        assert srv.request("GET", "/v1/me", token=token)[0] == 200  # still trusted, as documented
        deadline = time.monotonic() + 5
        while srv.request("GET", "/v1/me", token=token)[0] == 200:
            assert time.monotonic() < deadline, "a disabled user still served after 5 s"
            time.sleep(0.1)
        assert_error(srv.request("GET", "/v1/me", token=token), 401, "unauthorized")


@pytest.mark.parametrize("sql", [
    "DELETE FROM users WHERE role = 'operator'",
    "UPDATE users SET id = id + 1000 WHERE role = 'admin'",
    "TRUNCATE users CASCADE",
    "DELETE FROM departments WHERE code = 'telecom'",
    "UPDATE departments SET code = 'telecom2' WHERE code = 'telecom'",
    "DELETE FROM categories WHERE code LIKE 'telecom.%'",
    "UPDATE categories SET code = code || 'x' WHERE code LIKE 'telecom.%'",
    "TRUNCATE departments CASCADE",
])
def test_case_parents_are_never_deleted_or_rekeyed(server, pg, sql):
    """Cases name their users, departments and categories without a foreign key (migration 009):
    a trigger keeps those rows, so no case can point at a row that went away."""
    server.make_user("operator")
    with pytest.raises(RuntimeError, match="never deleted or re-keyed"):
        pg.psql(sql, db=server.db)
    assert pg.psql("SELECT count(*) FROM departments WHERE code = 'telecom'", db=server.db) == "1"
    assert server.request("GET", "/v1/me", token=server.admin_token)[0] == 200


@pytest.mark.parametrize("sql", [
    "DELETE FROM cases",
    "UPDATE cases SET id = id + 1000000",
    "TRUNCATE cases CASCADE",
])
def test_cases_are_never_deleted_or_rekeyed(server, pg, sql):
    """The history and the idempotency keys name their case without a foreign key (migration
    011): a trigger keeps every case row, so neither can lose its case."""
    op = server.make_user("operator")
    status, _, case = server.request("POST", "/v1/cases", {"text": "不可删除的来电"}, token=op,
                                     headers={"Idempotency-Key": "kept-%s" % os.urandom(6).hex()})
    assert status == 201, case
    with pytest.raises(RuntimeError, match="never deleted or re-keyed"):
        pg.psql(sql, db=server.db)
    assert pg.psql("SELECT count(*) FROM case_events e JOIN idempotency_keys k ON k.case_id = e.case_id "
                   "JOIN cases c ON c.id = e.case_id WHERE c.id = %d" % case["id"], db=server.db) == "1"
    assert pg.psql("SELECT count(*) FROM case_events e LEFT JOIN cases c ON c.id = e.case_id "
                   "WHERE c.id IS NULL", db=server.db) == "0"


def test_user_paths_need_a_positive_integer_id(server):
    t = server.admin_token
    assert_error(server.request("POST", "/v1/users/999999999/token", token=t), 404, "not_found")
    assert_error(server.request("DELETE", "/v1/users/999999999", token=t), 404, "not_found")
    for bad in ("abc", "0", "-1", "1.5", "99999999999999999999999"):
        assert_error(server.request("DELETE", "/v1/users/" + bad, token=t), 400, "bad_request")


# --- routes and methods -----------------------------------------------------------------------

@pytest.mark.smoke
@pytest.mark.parametrize("path", ["/v1/nope", "/nope", "/v1/users/1/nope", "/v1"])
def test_unknown_route_is_404(server, path):
    assert_error(server.request("GET", path, token=server.admin_token), 404, "not_found")


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/v1/users"), ("PUT", "/v1/me"), ("POST", "/healthz"), ("GET", "/v1/users/1/token"),
])
def test_wrong_method_is_405(server, method, path):
    reply = server.request(method, path, body={} if method in ("POST", "PUT") else None,
                           token=server.admin_token)
    assert_error(reply, 405, "method_not_allowed")


# --- body size limit --------------------------------------------------------------------------

def test_body_at_the_limit_passes_and_one_byte_more_is_413(server):
    limit = 65536  # the default max_body
    status, body = raw_http(server.port, post_raw(server.port, "/v1/users", padded_user(limit),
                                                  server.admin_token))
    assert status == 201, body
    status, body = raw_http(server.port, post_raw(server.port, "/v1/users",
                                                  padded_user(limit + 1), server.admin_token))
    assert status == 413 and '"too_large"' in body, body


def test_chunked_body_over_the_limit_is_413(server):
    limit = 65536
    status, body = raw_http(server.port, post_raw(server.port, "/v1/users",
                                                  padded_user(limit), server.admin_token,
                                                  chunked=True, chunk=512))
    assert status == 201, body
    status, body = raw_http(server.port, post_raw(server.port, "/v1/users",
                                                  padded_user(limit + 1), server.admin_token,
                                                  chunked=True, chunk=512))
    assert status == 413 and '"too_large"' in body, body


def test_huge_chunked_body_is_cut_off(server):
    data = post_raw(server.port, "/v1/users", padded_user(8 * 65536), server.admin_token,
                    chunked=True, chunk=100)
    status, _ = raw_http(server.port, data)
    assert status == 413
    assert server.request("GET", "/healthz")[0] == 200


def test_configured_max_body_is_honoured(pg, make_server):
    small = make_server(pg, max_body=1024)
    status, _ = raw_http(small.port, post_raw(small.port, "/v1/users", padded_user(1024),
                                              small.admin_token))
    assert status == 201
    status, body = raw_http(small.port, post_raw(small.port, "/v1/users", padded_user(1025),
                                                 small.admin_token))
    assert status == 413 and '"too_large"' in body, body


# --- PostgreSQL going away --------------------------------------------------------------------

def test_readyz_follows_postgres(make_cluster, make_server):
    cluster = make_cluster()  # its own cluster: the shared one stays up
    srv = make_server(cluster)
    cluster.stop("fast")
    try:
        wait_for(lambda: srv.request("GET", "/readyz")[0] == 503, 15, "/readyz 503")
        assert srv.request("GET", "/healthz")[0] == 200
        reply = srv.request("GET", "/v1/me", token=srv.admin_token)
        assert_error(reply, 503, "unavailable")
        assert reply[1].get("retry-after", "").isdigit(), reply
        assert srv.proc.poll() is None
    finally:
        cluster.start()
    wait_for(lambda: srv.request("GET", "/readyz")[0] == 200, 30, "/readyz 200 again")
    assert srv.request("GET", "/v1/me", token=srv.admin_token)[0] == 200
    assert srv.make_user("operator")
    assert srv.proc.poll() is None


def test_requests_during_a_restart_never_hang(make_cluster, make_server):
    cluster = make_cluster()
    srv = make_server(cluster)
    cluster.stop("immediate")
    cluster.start()
    statuses = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = srv.request("GET", "/v1/me", token=srv.admin_token, timeout=10)[0]
        statuses.add(status)
        if status == 200:
            break
        time.sleep(0.2)
    assert statuses <= {200, 503} and 200 in statuses, statuses


# --- draining shutdown ------------------------------------------------------------------------

def test_sigterm_answers_requests_in_flight_then_exits_0(pg, make_server):
    srv = make_server(pg)
    # hold a lock that authentication waits for, so a request stays in flight
    with srv.cluster.table_locked("tokens", "ACCESS EXCLUSIVE", db=srv.db):
        replies = []
        t = threading.Thread(target=lambda: replies.append(
            srv.request("GET", "/v1/me", token=srv.admin_token, timeout=20)))
        t.start()
        wait_for(lambda: srv.cluster.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hotline' "
            "AND datname = current_database() AND wait_event_type = 'Lock'",
            db=srv.db) == "1", 10, "the request to wait for the lock")
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert srv.proc.poll() is None, "the server exited with a request in flight"
    t.join(20)
    assert replies and replies[0][0] == 200, replies
    assert srv.stop(timeout=10) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
    srv.start()  # back for the session-end checks


@pytest.fixture(scope="module")
def big_answer(pg, make_server):
    """A server (timeout 30) and the request line of a ~6 MB answer: a page of 500 cases of
    4,000 characters each, more than the socket buffers hold for a client that reads little."""
    srv = make_server(pg, timeout=30)
    district = "大-" + os.urandom(4).hex()
    body = {"text": "长" * 4000, "district": district}

    def create(n):
        for _ in range(n):
            assert srv.request("POST", "/v1/cases", body, token=srv.admin_token)[0] == 201

    threads = [threading.Thread(target=create, args=(63,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return srv, ("GET /v1/cases?limit=500&district=%s HTTP/1.1\r\nHost: t\r\n"
                 "Authorization: Bearer %s\r\n\r\n" % (quote(district), srv.admin_token)).encode()


def small_window_connection(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    return s


def test_sigterm_is_not_held_by_an_answer_its_client_abandoned(big_answer):
    """libevent 2.1 never reports an answer that died unwritten with its connection: the drain
    must not wait for it (it waited for `timeout`)."""
    srv, request = big_answer
    mark = srv.log_size()
    s = small_window_connection(srv.port)
    s.sendall(request)
    wait_for(lambda: "GET /v1/cases 200" in srv.log_text(mark), 10, "the answer to be queued")
    time.sleep(0.5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # a reset, with most of the answer unwritten
    time.sleep(0.5)
    started = time.monotonic()
    assert srv.stop(timeout=20) == 0
    assert time.monotonic() - started < 5, "the drain waited for an answer nobody will read"
    srv.start()


def test_a_client_taking_an_answer_slowly_does_not_keep_its_connection(big_answer, pg, make_server):
    """A reader of a few kilobytes a second leaves the kernel's send buffer full, so evhttp's
    write makes no progress and the inactivity timeout (2 s here) drops the connection on the
    server's side, while the client is still reading what the kernel had taken."""
    srv = make_server(pg, big_answer[0].db, timeout=2)
    probe = socket.create_connection(("127.0.0.1", srv.port), timeout=5)

    def open_connections():
        probe.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += probe.recv(65536)
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        body = head.split(b"\r\n\r\n", 1)[1]
        while len(body) < length:
            body += probe.recv(65536)
        return int(float(re.search(rb"(?m)^hotline_http_connections_open (\S+)", body).group(1)))

    s = small_window_connection(srv.port)
    s.sendall(big_answer[1])
    got = len(s.recv(4096))
    assert open_connections() == 2  # the probe and the reader
    started = time.monotonic()
    while open_connections() != 1:
        assert time.monotonic() - started < 10, "the slow reader still holds its connection"
        got += len(s.recv(4096))
        time.sleep(0.5)
    got += len(s.recv(4096))
    assert got > 0  # still reading the rest from the kernel, after the server let go
    s.close()
    probe.close()


def test_sigint_exits_0(pg, make_server):
    srv = make_server(pg)
    assert srv.stop(signal.SIGINT) == 0
    srv.start()


# --- the command line -------------------------------------------------------------------------

def test_migrate_is_idempotent_and_create_admin_prints_one_token(server):
    applied = server.cluster.psql("SELECT count(*) FROM schema_migrations", db=server.db)
    server.run_command("migrate")
    assert server.cluster.psql("SELECT count(*) FROM schema_migrations", db=server.db) == applied
    token = server.run_command("create-admin", "second admin").strip()
    assert "\n" not in token and len(token) >= 22
    status, _, me = server.request("GET", "/v1/me", token=token)
    assert status == 200 and me["role"] == "admin" and me["name"] == "second admin"


def test_missing_db_setting_fails_cleanly(server):
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_DB"}
    r = subprocess.run([server.bin, "migrate"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode != 0 and "db" in r.stderr


def start_plain(bin_path, args, env, port):
    """Starts `bin ARGS serve` outside the Server fixture; returns the Popen once /healthz
    answers on port, or fails with its stderr."""
    proc = subprocess.Popen([bin_path, *args, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("the server did not listen on %d: %s" % (port, proc.communicate()[1]))


def stop_plain(proc):
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Sanitizer" not in err and "runtime error:" not in err, err


def test_sigterm_as_soon_as_it_listens_still_drains(server, free_port):
    """The server listened before it installed its SIGTERM handler, and starting the routing
    model's thread widened that window: a SIGTERM in it killed the process (exit -15) instead of
    draining (exit 0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DB"] = server.cluster.app_conninfo(server.db)
    for _ in range(8):
        port = free_port()
        proc = subprocess.Popen([server.bin, "--port=%d" % port, "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:  # no sleep: hit the window
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
        stop_plain(proc)


def test_config_precedence_flags_env_file(server, free_port, tmp_path):
    conf = tmp_path / "hotline.conf"
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    conf.write_text("# a comment\n\nport = %d\ndb = %s\n"
                    % (file_port, server.cluster.app_conninfo(server.db)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    for args, port in (([], file_port), (["--port=%d" % flag_port], flag_port)):
        stop_plain(start_plain(server.bin, ["--config", str(conf), *args], env, port))
    env["HOTLINE_PORT"] = str(env_port)
    stop_plain(start_plain(server.bin, ["--config", str(conf)], env, env_port))
    stop_plain(start_plain(server.bin, ["--config", str(conf), "--port=%d" % flag_port], env,
                           flag_port))
