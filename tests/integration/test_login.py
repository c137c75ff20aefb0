"""Logins, passwords and sessions (API.md section 19): POST /v1/login and /v1/logout, the
password endpoints, the lock after 5 failures (kept in PostgreSQL, so it holds across
servers), session expiry, and create-admin with a login."""
import os
import signal
import subprocess
import threading
import time

import pytest

from api_errors import assert_error
from conftest import unique_name

PW = "correct horse battery"


def make_login_user(server, role="operator", password=PW, **extra):
    login = unique_name("u").lower().replace("-", "")[:32]
    body = {"name": "用户" + login, "role": role, "login": login, "password": password}
    body.update(extra)
    status, _, reply = server.request("POST", "/v1/users", body, token=server.admin_token)
    assert status == 201, reply
    assert reply["login"] == login
    return login, reply


def login(server, name, password):
    return server.request("POST", "/v1/login", {"login": name, "password": password})


def test_login_gives_a_session_of_12_hours(server):
    name, user = make_login_user(server, role="department", department="urban_mgmt")
    status, _, reply = login(server, name, PW)
    assert status == 200, reply
    assert set(reply) == {"token", "expires_at", "user"}
    assert reply["user"]["id"] == user["id"] and reply["user"]["role"] == "department"
    assert "password" not in str(reply["user"]) and "$y$" not in str(reply)
    me = server.request("GET", "/v1/me", token=reply["token"])
    assert me[0] == 200 and me[2]["login"] == name
    # 12 hours from now, in the server's zone
    secs = server.cluster.psql("SELECT extract(epoch FROM '%s'::timestamptz - now())::int"
                               % reply["expires_at"]).strip()
    assert 12 * 3600 - 120 < int(secs) <= 12 * 3600


def test_wrong_login_and_wrong_password_answer_the_same(server):
    name, _ = make_login_user(server)
    wrong_pw = login(server, name, "not the password")
    wrong_login = login(server, name + "x", PW)
    assert_error(wrong_pw, 401, "unauthorized")
    assert_error(wrong_login, 401, "unauthorized")
    assert wrong_pw[2] == wrong_login[2]


def test_unknown_login_takes_as_long_as_a_wrong_password(server):
    """Both check a yescrypt hash: an unknown login is not answered at once."""
    name, _ = make_login_user(server)

    def took(login_name):
        t = time.monotonic()
        assert login(server, login_name, "guess guess guess")[0] == 401
        return time.monotonic() - t
    unknown = min(took(unique_name("nobody").lower()[:30]) for _ in range(3))
    wrong = min(took(name) for _ in range(3))
    assert unknown > wrong / 3, (unknown, wrong)


def test_five_failures_lock_the_login_across_servers(pg, make_server, server):
    """The 6th attempt within 15 minutes is 429, also with the right password, also
    through another server on the same database."""
    name, _ = make_login_user(server)
    for _ in range(5):
        assert login(server, name, "wrong password!")[0] == 401
    reply = login(server, name, PW)
    assert_error(reply, 429, "rate_limited")
    assert int(reply[1]["retry-after"]) > 800
    other = make_server(pg, db=server.db)
    assert_error(login(other, name, PW), 429, "rate_limited")
    # another login is not affected
    name2, _ = make_login_user(server)
    assert login(other, name2, PW)[0] == 200


def test_parallel_guesses_cannot_pass_the_limit(server):
    name, _ = make_login_user(server)
    results = []

    def guess():
        results.append(login(server, name, "parallel guess!")[0])
    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [401] * 5 + [429] * 7


def test_a_success_forgets_the_failures(server):
    name, _ = make_login_user(server)
    for _ in range(4):
        assert login(server, name, "wrong password!")[0] == 401
    assert login(server, name, PW)[0] == 200
    for _ in range(4):
        assert login(server, name, "wrong password!")[0] == 401
    assert login(server, name, PW)[0] == 200


def test_logout_revokes_the_session(server):
    name, _ = make_login_user(server)
    token = login(server, name, PW)[2]["token"]
    assert server.request("POST", "/v1/logout", token=token)[0] == 200
    assert_error(server.request("GET", "/v1/me", token=token), 401, "unauthorized")
    assert_error(server.request("POST", "/v1/logout", token=token), 401, "unauthorized")


def test_an_expired_session_is_refused(pg, make_server):
    srv = make_server(pg, token_cache_seconds=0)
    name, _ = make_login_user(srv)
    token = login(srv, name, PW)[2]["token"]
    assert srv.request("GET", "/v1/me", token=token)[0] == 200
    srv.cluster.psql("UPDATE tokens SET expires_at = now() - interval '1 second' "
                     "WHERE expires_at IS NOT NULL", db=srv.db)
    assert_error(srv.request("GET", "/v1/me", token=token), 401, "unauthorized")


def test_admin_sets_a_password_and_ends_the_sessions(server):
    name, user = make_login_user(server)
    old_session = login(server, name, PW)[2]["token"]
    path = "/v1/users/%d/password" % user["id"]
    assert_error(server.request("POST", path, {"password": "short"}, token=server.admin_token),
                 422, "invalid_field", "password")
    op = server.make_user("operator")
    assert_error(server.request("POST", path, {"password": "new password 1"}, token=op),
                 403, "forbidden")
    status, _, reply = server.request("POST", path, {"password": "new password 1"},
                                      token=server.admin_token)
    assert status == 200 and reply["id"] == user["id"], reply
    assert_error(server.request("GET", "/v1/me", token=old_session), 401, "unauthorized")
    assert login(server, name, PW)[0] == 401
    assert login(server, name, "new password 1")[0] == 200
    assert_error(server.request("POST", "/v1/users/999999/password", {"password": "new password 1"},
                                token=server.admin_token), 404, "not_found")


def test_user_changes_own_password(server):
    name, _ = make_login_user(server)
    token = login(server, name, PW)[2]["token"]
    other_session = login(server, name, PW)[2]["token"]
    assert_error(server.request("PUT", "/v1/me/password", {"old": "nope nope nope", "new": "another one 2"},
                                token=token), 422, "invalid_field", "old")
    assert_error(server.request("PUT", "/v1/me/password", {"old": PW, "new": "short"}, token=token),
                 422, "invalid_field", "new")
    status, _, reply = server.request("PUT", "/v1/me/password", {"old": PW, "new": "another one 2"},
                                      token=token)
    assert status == 200, reply
    assert server.request("GET", "/v1/me", token=token)[0] == 200
    assert_error(server.request("GET", "/v1/me", token=other_session), 401, "unauthorized")
    assert login(server, name, PW)[0] == 401
    assert login(server, name, "another one 2")[0] == 200


@pytest.mark.parametrize("body,code,field", [
    ({"login": "abc"}, "missing_field", "password"),
    ({"password": "abcdefghijk"}, "missing_field", "login"),
    ({"login": 5, "password": "abcdefghijk"}, "invalid_field", "login"),
    ({"login": "abc", "password": ["x"]}, "invalid_field", "password"),
    ({"login": "abc", "password": "x" * 5000}, "invalid_field", "password"),
    ({"login": "a" * 5000, "password": "abcdefghijk"}, "invalid_field", "login"),
    ({"login": "abc", "password": "abcdefghijk", "role": "admin"}, "invalid_field", "role"),
])
def test_bad_login_bodies(server, body, code, field):
    assert_error(server.request("POST", "/v1/login", body), 422, code, field)


def test_login_body_must_be_json(server):
    assert_error(server.request("POST", "/v1/login", raw="login=abc"), 400, "bad_json")
    assert_error(server.request("POST", "/v1/login", raw="[1]"), 400, "bad_json")


@pytest.mark.parametrize("extra,code,field", [
    ({"login": "UPPER"}, "invalid_field", "login"),
    ({"login": "ab"}, "invalid_field", "login"),
    ({"login": "a" * 33}, "invalid_field", "login"),
    ({"login": "has space"}, "invalid_field", "login"),
    ({"login": "okname", "password": "short"}, "invalid_field", "password"),
    ({"login": "okname", "password": "x" * 201}, "invalid_field", "password"),
    ({"password": "long enough pw"}, "missing_field", "login"),
])
def test_bad_user_logins(server, extra, code, field):
    body = {"name": "某人", "role": "operator"}
    body.update(extra)
    assert_error(server.request("POST", "/v1/users", body, token=server.admin_token), 422, code, field)


def test_a_login_is_unique(server):
    name, _ = make_login_user(server)
    body = {"name": "另一人", "role": "manager", "login": name, "password": "whatever 12345"}
    assert_error(server.request("POST", "/v1/users", body, token=server.admin_token),
                 422, "invalid_field", "login")


def test_a_disabled_user_cannot_log_in(server):
    name, user = make_login_user(server)
    assert server.request("DELETE", "/v1/users/%d" % user["id"], token=server.admin_token)[0] == 200
    assert_error(login(server, name, PW), 401, "unauthorized")


def test_the_hash_is_yescrypt_and_salted(server):
    a, _ = make_login_user(server)
    b, _ = make_login_user(server)
    rows = server.cluster.psql("SELECT password_hash FROM users WHERE login IN ('%s', '%s')" % (a, b),
                               db=server.db).split()
    assert len(rows) == 2 and all(r.startswith("$y$") for r in rows) and rows[0] != rows[1]
    assert PW not in server.log_text()


def test_create_admin_with_a_login(server):
    name = unique_name("root").lower()[:30]
    r = subprocess.run([server.bin, *server.flags, "create-admin", "超级管理员", name], env=server.env(),
                       input=b"admin password 1\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    status, _, reply = login(server, name, "admin password 1")
    assert status == 200 and reply["user"]["role"] == "admin"
    r = subprocess.run([server.bin, *server.flags, "create-admin", "x", "bad name"], env=server.env(),
                       input=b"admin password 1\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    assert r.returncode != 0 and b"login" in r.stderr


def test_the_password_thread_leaves_signals_to_the_loop(server):
    """Every thread but the main one blocks SIGTERM and SIGINT: the kernel gives a process's
    signal to any thread that does not block it, and on the worker thread a SIGTERM during the
    shutdown (after the loop stopped handling it) would kill the process instead of draining."""
    pid = server.proc.pid
    tasks = [t for t in os.listdir("/proc/%d/task" % pid) if int(t) != pid]
    assert tasks, "no worker thread"
    for t in tasks:
        with open("/proc/%d/task/%s/status" % (pid, t)) as f:
            blocked = int([l.split()[1] for l in f if l.startswith("SigBlk:")][0], 16)
        assert blocked & (1 << (signal.SIGTERM - 1)) and blocked & (1 << (signal.SIGINT - 1)), (t, hex(blocked))
