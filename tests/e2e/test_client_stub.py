"""The hotline client against a scripted stub server: what it sends, when it retries, what it
prints and its exit statuses. Needs only the client binary (not the real server)."""
import json
import os
import re
import subprocess
import time

import pytest

from stub import Stub, case, error
from textcols import assert_columns_line_up, display_width


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.close()


@pytest.fixture
def hl(client_bin, stub):
    """hl(*args, input=None, env=None) -> CompletedProcess with bytes stdout/stderr."""

    def run(*args, input=None, env=None, url=None):
        e = dict(os.environ, HOTLINE_URL=url or stub.url, HOTLINE_TOKEN="tok-123")
        e.update(env or {})
        return subprocess.run([client_bin, *args], env=e, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    return run


def err(r):
    return r.stderr.decode()


# --- what goes on the wire ----------------------------------------------------------------

def test_submit_sends_the_case_body_a_uuid_key_and_the_token(stub, hl):
    stub.respond = lambda req: (201, {}, case(7))
    r = hl("submit", "--text", "门口有人摆摊", "--title", "摆摊", "--type", "complaint",
           "--channel", "web", "--district", "驿城区", "--address", "风光路", "--urgent",
           "--name", "张先生", "--phone", "138-0000", "--confidential",
           "--department", "urban_mgmt", "--lat", "32.98", "--lon", "114.02")
    assert r.returncode == 0, err(r)
    [req] = stub.requests
    assert (req.method, req.path) == ("POST", "/v1/cases")
    assert req.headers["Authorization"] == "Bearer tok-123"
    assert req.headers["Content-Type"].startswith("application/json")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        req.headers["Idempotency-Key"])
    assert req.json() == {
        "text": "门口有人摆摊", "title": "摆摊", "type": "complaint", "channel": "web",
        "district": "驿城区", "address": "风光路", "department": "urban_mgmt", "urgent": True,
        "lat": 32.98, "lon": 114.02,
        "caller": {"name": "张先生", "phone": "138-0000", "confidential": True}}
    assert "created case 7" in r.stdout.decode()


def test_submit_text_from_stdin_and_explicit_key(stub, hl):
    stub.respond = lambda req: (200, {}, case(3))
    r = hl("submit", "--text", "-", "--key", "my-key-1", input="第一行\n第二行\n".encode())
    assert r.returncode == 0, err(r)
    [req] = stub.requests
    assert req.headers["Idempotency-Key"] == "my-key-1"
    assert req.json() == {"text": "第一行\n第二行"}
    assert "already existed" in r.stdout.decode()


def test_each_submit_gets_a_fresh_key(stub, hl):
    stub.respond = lambda req: (201, {}, case(1))
    hl("submit", "--text", "a")
    hl("submit", "--text", "a")
    keys = {q.headers["Idempotency-Key"] for q in stub.requests}
    assert len(keys) == 2


@pytest.mark.parametrize("args,path,body", [
    (["dispatch", "5", "water"], "/v1/cases/5/dispatch", {"department": "water"}),
    (["sign", "5"], "/v1/cases/5/sign", {}),
    (["return", "5", "--reason", "不归我们"], "/v1/cases/5/return", {"reason": "不归我们"}),
    (["contact", "5"], "/v1/cases/5/contact", {}),
    (["contact", "5", "--note", "已联系"], "/v1/cases/5/contact", {"note": "已联系"}),
    (["extend", "5", "--workdays", "3", "--reason", "需要协调"], "/v1/cases/5/extend",
     {"workdays": 3, "reason": "需要协调"}),
    (["approve", "5"], "/v1/cases/5/extension/approve", {}),
    (["reject", "5"], "/v1/cases/5/extension/reject", {}),
    (["reply", "5", "--text", "已处理"], "/v1/cases/5/reply", {"text": "已处理", "resolved": True}),
    (["reply", "5", "--text", "未解决", "--unresolved"], "/v1/cases/5/reply",
     {"text": "未解决", "resolved": False}),
    (["visit", "5", "--score", "4"], "/v1/cases/5/visit", {"score": 4, "resolved": True}),
    (["visit", "5", "--score", "2", "--unresolved", "--comment", "没修好"], "/v1/cases/5/visit",
     {"score": 2, "resolved": False, "comment": "没修好"}),
    (["supervise", "5", "--note", "请尽快"], "/v1/cases/5/supervise", {"note": "请尽快"}),
    (["merge", "5", "--into", "9"], "/v1/cases/5/merge", {"into": 9}),
])
def test_action_bodies(stub, hl, args, path, body):
    stub.respond = lambda req: (200, {}, case(5, "accepted"))
    r = hl(*args)
    assert r.returncode == 0, err(r)
    [req] = stub.requests
    assert (req.method, req.path, req.json()) == ("POST", path, body)
    assert "Idempotency-Key" not in req.headers
    assert r.stdout.decode() == "case 5 (20261128-000005): now accepted, department urban_mgmt\n"


def test_if_match_header(stub, hl):
    stub.respond = lambda req: (200, {}, case(5))
    assert hl("sign", "5", "--if-match", "3").returncode == 0
    assert stub.requests[0].headers["If-Match"] == "3"


@pytest.mark.parametrize("args,method,path", [
    (["show", "12"], "GET", "/v1/cases/12"),
    (["history", "12"], "GET", "/v1/cases/12/events"),
    (["inbox"], "GET", "/v1/inbox"),
    (["me"], "GET", "/v1/me"),
    (["rules", "list"], "GET", "/v1/rules"),
    (["rules", "rm", "4"], "DELETE", "/v1/rules/4"),
    (["users", "list"], "GET", "/v1/users"),
    (["users", "disable", "4"], "DELETE", "/v1/users/4"),
    (["sla", "get"], "GET", "/v1/sla"),
    (["calendar", "get", "2026"], "GET", "/v1/calendar/2026"),
    (["report", "overdue"], "GET", "/v1/reports/overdue"),
    (["report", "hotspots", "--days", "30", "--by", "category", "--top", "5"], "GET",
     "/v1/reports/hotspots?days=30&by=category&top=5"),
    (["report", "rates", "--from", "2026-01-01", "--to", "2026-02-01", "--by", "district"], "GET",
     "/v1/reports/rates?from=2026-01-01&to=2026-02-01&by=district"),
    (["list", "--state", "dispatched", "--district", "驿城区", "--overdue", "--from", "2026-01-01",
      "-q", "摆 摊", "--limit", "5"], "GET",
     "/v1/cases?state=dispatched&district=%E9%A9%BF%E5%9F%8E%E5%8C%BA&q=%E6%91%86%20%E6%91%8A"
     "&overdue=true&from=2026-01-01&limit=5"),
])
def test_request_lines(stub, hl, args, method, path):
    stub.respond = lambda req: (200, {}, {"items": [], "next": None, "rows": []})
    r = hl(*args)
    assert r.returncode == 0, err(r)
    assert [(q.method, q.path) for q in stub.requests] == [(method, path)]


def test_url_path_prefix(stub, hl):
    stub.respond = lambda req: (200, {}, case(1))
    assert hl("show", "1", url=stub.url + "/hotline/").returncode == 0
    assert stub.requests[0].path == "/hotline/v1/cases/1"


def test_rules_add_body(stub, hl):
    stub.respond = lambda req: (201, {}, dict(req.json(), id=17, enabled=True))
    r = hl("rules", "add", "--name", "摆摊", "--department", "urban_mgmt", "--any", "摆摊，占道, 夜市",
           "--none", "工地", "--priority", "100", "--districts", "驿城区")
    assert r.returncode == 0, err(r)
    assert stub.requests[0].json() == {
        "name": "摆摊", "department": "urban_mgmt", "priority": 100,
        "match": {"any": ["摆摊", "占道", "夜市"], "all": [], "none": ["工地"],
                  "districts": ["驿城区"]}}


def test_users_add_prints_only_the_token_on_stdout(stub, hl):
    stub.respond = lambda req: (201, {}, {"id": 4, "name": "li", "role": "department",
                                          "department": "water", "token": "SECRET-TOKEN"})
    r = hl("users", "add", "li", "--role", "department", "--department", "water")
    assert r.returncode == 0, err(r)
    assert stub.requests[0].json() == {"name": "li", "role": "department", "department": "water"}
    assert r.stdout == b"SECRET-TOKEN\n"
    assert "shown only once" in err(r)
    stub.respond = lambda req: (200, {}, {"id": 4, "name": "li", "role": "department",
                                          "token": "NEW-TOKEN"})
    r = hl("users", "token", "4")
    assert (r.returncode, r.stdout) == (0, b"NEW-TOKEN\n")
    assert stub.requests[1].path == "/v1/users/4/token"


def test_sla_and_calendar_set_put_the_file(stub, hl, tmp_path):
    stub.respond = lambda req: (200, {}, req.json())
    f = tmp_path / "cal.json"
    f.write_text('{"holidays": ["2026-10-01"], "workdays": []}')
    r = hl("calendar", "set", "2026", str(f))
    assert r.returncode == 0, err(r)
    assert (stub.requests[0].method, stub.requests[0].path) == ("PUT", "/v1/calendar/2026")
    assert stub.requests[0].json() == {"holidays": ["2026-10-01"], "workdays": []}
    r = hl("sla", "set", "-", input=b'{"rules": [], "rectify": "5wd", "warn_at": 0.75}')
    assert r.returncode == 0, err(r)
    assert stub.requests[1].path == "/v1/sla"
    f.write_text("not json")
    assert hl("sla", "set", str(f)).returncode == 1


# --- retries and idempotency --------------------------------------------------------------

@pytest.mark.smoke
def test_submit_retries_503_with_the_same_key_and_body(stub, hl):
    answers = [error(503, "unavailable", "database down"), error(503, "unavailable", "still")]
    stub.respond = lambda req: answers.pop(0) if answers else (201, {}, case(8))
    started = time.monotonic()
    r = hl("submit", "--text", "重试")
    assert r.returncode == 0, err(r)
    assert len(stub.requests) == 3
    assert len({q.headers["Idempotency-Key"] for q in stub.requests}) == 1
    assert len({q.body for q in stub.requests}) == 1
    assert time.monotonic() - started < 10


def test_submit_retries_after_a_dropped_connection(stub, hl):
    answers = [None]  # hang up after reading the request: the outcome is unknown
    stub.respond = lambda req: answers.pop(0) if answers else (200, {}, case(8))
    r = hl("submit", "--text", "掉线")
    assert r.returncode == 0, err(r)
    assert len(stub.requests) == 2
    assert stub.requests[0].headers["Idempotency-Key"] == stub.requests[1].headers["Idempotency-Key"]


def test_retry_after_is_honoured(stub, hl):
    answers = [(503, {"Retry-After": "1"}, {"error": {"code": "unavailable", "message": "x"}})]
    stub.respond = lambda req: answers.pop(0) if answers else (201, {}, case(8))
    started = time.monotonic()
    assert hl("submit", "--text", "x").returncode == 0
    assert time.monotonic() - started >= 0.9


def test_submit_gives_up_at_the_timeout_with_status_3(stub, hl):
    stub.respond = lambda req: error(503, "unavailable", "the database cannot be reached")
    started = time.monotonic()
    r = hl("submit", "--text", "x", "--timeout", "2")
    assert r.returncode == 3, err(r)
    assert time.monotonic() - started < 5
    assert len(stub.requests) >= 2
    assert "503 unavailable" in err(r)
    assert "--key " + stub.requests[0].headers["Idempotency-Key"] in err(r)


def test_get_retries_503(stub, hl):
    answers = [error(503, "unavailable", "down")]
    stub.respond = lambda req: answers.pop(0) if answers else (200, {}, case(2))
    assert hl("show", "2").returncode == 0
    assert len(stub.requests) == 2


def test_actions_are_not_repeated_once_sent(stub, hl):
    stub.respond = lambda req: None
    r = hl("sign", "5")
    assert r.returncode == 3
    assert len(stub.requests) == 1
    assert "may or may not" in err(r)
    stub.requests.clear()
    stub.respond = lambda req: error(503, "unavailable", "down")
    r = hl("sign", "5")
    assert r.returncode == 3
    assert len(stub.requests) == 1


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory):
    """A private CA and a server certificate for 127.0.0.1, made as deploy/cluster.sh makes them."""
    d = tmp_path_factory.mktemp("tls")
    lib = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "lib.sh")
    for fn in ("hl_tls_ca", "hl_tls_server_cert"):
        subprocess.run(["bash", "-c", 'set -euo pipefail; . "$0"; "$@"', lib, fn, str(d)],
                       check=True)
    return d


def test_https_with_the_private_ca(hl, tls_dir):
    s = Stub(tls=str(tls_dir))
    try:
        s.respond = lambda req: (201, {}, case(9))
        r = hl("submit", "--text", "加密", url=s.url, env={"HOTLINE_CA": str(tls_dir / "ca.pem")})
        assert r.returncode == 0, err(r)
        [req] = s.requests
        assert req.headers["Authorization"] == "Bearer tok-123"
        assert req.json() == {"text": "加密"}
        r = hl("--ca", str(tls_dir / "ca.pem"), "show", "9", url=s.url)
        assert r.returncode == 0, err(r)
    finally:
        s.close()


def test_https_without_the_ca_is_a_tls_error_status_3_not_retried(hl, tls_dir):
    s = Stub(tls=str(tls_dir))
    try:
        s.respond = lambda req: (201, {}, case(9))
        started = time.monotonic()
        r = hl("submit", "--text", "x", url=s.url, env={"HOTLINE_CA": ""})
        assert r.returncode == 3, err(r)
        assert "TLS" in err(r) and "certificate" in err(r) and "HOTLINE_CA" in err(r)
        assert "nothing was sent" in err(r)
        assert s.requests == []
        assert time.monotonic() - started < 5
    finally:
        s.close()


def test_unreachable_server_is_status_3(hl):
    started = time.monotonic()
    r = hl("show", "1", url="http://127.0.0.1:1")
    assert r.returncode == 3
    assert "cannot connect" in err(r) and "HOTLINE_URL" in err(r)
    assert time.monotonic() - started < 10


# --- exit statuses and messages -----------------------------------------------------------

def test_refusals_are_status_2_with_code_message_and_field(stub, hl):
    stub.respond = lambda req: error(409, "illegal_transition", "cannot sign a case in state closed")
    r = hl("sign", "5")
    assert r.returncode == 2
    assert err(r) == "hotline: 409 illegal_transition: cannot sign a case in state closed\n"
    stub.respond = lambda req: error(422, "invalid_field", "text must be 1 to 4000 characters",
                                     "text")
    r = hl("submit", "--text", "x")
    assert r.returncode == 2
    assert err(r) == ("hotline: 422 invalid_field: text must be 1 to 4000 characters "
                      "(field: text)\n")
    stub.respond = lambda req: error(401, "unauthorized", "unknown token")
    r = hl("me")
    assert r.returncode == 2 and "HOTLINE_TOKEN" in err(r)


def test_other_failures_are_status_4(stub, hl):
    stub.respond = lambda req: (500, {"Content-Type": "text/plain"}, "boom")
    r = hl("show", "1")
    assert r.returncode == 4
    assert "500" in err(r)
    stub.respond = lambda req: (200, {}, "not json at all")
    assert hl("show", "1").returncode == 4


@pytest.mark.parametrize("args", [
    [], ["nosuch"], ["show"], ["show", "x"], ["show", "1", "2"], ["submit"],
    ["visit", "1", "--score", "6"], ["list", "--from", "2026/01/01"], ["list", "--limit", "0"],
    ["report", "rates", "--from", "2026-01-01"], ["report", "rates", "--from", "2026-01-01",
                                                  "--to", "2026-02-01", "--by", "moon"],
    ["users", "add", "x", "--role", "king"], ["users", "add", "x", "--role", "department"],
    ["rules"], ["show", "1", "--bogus"], ["submit", "--text", "x", "--key", ""],
    ["--timeout", "0", "me"],
])
def test_usage_errors_are_status_1_with_a_hint(stub, hl, args):
    r = hl(*args)
    assert r.returncode == 1, (args, err(r))
    assert err(r).startswith("hotline: ") or err(r).startswith("usage: ")
    assert stub.requests == []


def test_missing_configuration_says_what_to_set(client_bin):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    r = subprocess.run([client_bin, "me"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "set HOTLINE_URL or pass --url" in r.stderr
    r = subprocess.run([client_bin, "--url", "http://127.0.0.1:1", "me"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 1 and "set HOTLINE_TOKEN or pass --token" in r.stderr


@pytest.mark.smoke
def test_help_everywhere(client_bin):
    for args in (["--help"], ["help"], ["help", "submit"], ["submit", "--help"], ["help", "rules"],
                 ["rules", "--help"], ["rules", "add", "--help"], ["help", "report", "rates"]):
        r = subprocess.run([client_bin, *args], capture_output=True, text=True)
        assert r.returncode == 0, args
        assert r.stdout.startswith("usage: hotline"), args
    assert "--text TEXT" in subprocess.run([client_bin, "help", "submit"], capture_output=True,
                                           text=True).stdout


# --- output -------------------------------------------------------------------------------

@pytest.mark.smoke
def test_json_prints_the_answer_byte_for_byte(stub, hl):
    raw = '{"id":5,  "text":"\\u5e02\\u6c11",\n "state":"accepted"}'
    stub.respond = lambda req: (200, {}, raw)
    r = hl("--json", "show", "5")
    assert r.stdout == raw.encode()
    r = hl("show", "5", "--json")  # global options after the command too
    assert r.stdout == raw.encode()


def test_rates_csv_is_printed_as_is(stub, hl):
    csv = "key,received\r\n驿城区,3\r\n"
    stub.respond = lambda req: (200, {"Content-Type": "text/csv; charset=utf-8"}, csv)
    r = hl("report", "rates", "--from", "2026-01-01", "--to", "2026-02-01", "--csv")
    assert r.returncode == 0
    assert r.stdout == csv.encode()
    assert "format=csv" in stub.requests[0].path


def test_list_all_follows_cursors(stub, hl):
    pages = {None: ([case(3), case(2)], "c1"), "c1": ([case(1)], None)}

    def respond(req):
        m = re.search(r"after=([^&]+)", req.path)
        items, nxt = pages[m.group(1) if m else None]
        return 200, {}, {"items": items, "next": nxt}

    stub.respond = respond
    r = hl("list", "--all", "--json")
    assert r.returncode == 0, err(r)
    assert [c["id"] for c in json.loads(r.stdout)["items"]] == [3, 2, 1]
    r = hl("list", "--all")
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 4 and lines[0].split()[0] == "ID"
    r = hl("list")
    assert len(r.stdout.decode().splitlines()) == 3
    assert "--after c1" in err(r)



def test_case_table_lines_up_chinese_by_display_width(stub, hl):
    items = [case(1, district="驿城区", title="小区门口占道摆摊，影响通行，请尽快处理此事"),
             case(22, district="West", title="short"),
             case(333, district="高新技术开发区", title="Ａｂｃ fullwidth")]
    stub.respond = lambda req: (200, {}, {"items": items, "next": None})
    r = hl("list")
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 4
    assert_columns_line_up(lines, ["CREATED", "STATE", "TYPE", "DEPARTMENT", "DISTRICT",
                                   "DUE", "FLAGS", "TITLE"])
    assert "…" in lines[1]  # the long title is cut
    assert display_width(lines[1].split("  ")[-1]) <= 36
    assert "  高新技术…  " in lines[3]  # DISTRICT is at most 10 columns
    # snapshot: display widths of the lines (a byte or character count would differ)
    assert [display_width(line) for line in lines] == [99, 129, 99, 110]
    assert lines[2] == (" 22  2026-11-28 09:30  dispatched  complaint  urban_mgmt  West       "
                        "2026-12-11 23:59         short")


def test_history_and_rates_tables(stub, hl):
    stub.respond = lambda req: (200, {}, {"items": [
        {"at": "2026-11-28T09:30:00+08:00", "actor": "王五", "role": "operator",
         "action": "create", "from": None, "to": "dispatched", "data": {}},
        {"at": "2026-11-28T10:00:00+08:00", "actor": "clerk", "role": "department",
         "action": "sign", "from": "dispatched", "to": "accepted", "data": {"note": "好"}}]})
    r = hl("history", "1")
    out = r.stdout.decode()
    assert r.returncode == 0 and "2026-11-28 10:00" in out and '{"note":"好"}' in out
    stub.respond = lambda req: (200, {}, {
        "from": "2026-01-01", "to": "2026-02-01", "by": "district",
        "rows": [{"key": "驿城区", "received": 4, "answered": 1, "dispatched": 3,
                  "response_rate": 0.5, "on_time_rate": None, "resolution_rate": 1,
                  "satisfaction_rate": 0.75, "avg_score": 3.5, "return_rate": 0,
                  "reopened": 0, "overdue_open": 1}],
        "total": {"received": 4, "response_rate": 0.5}})
    r = hl("report", "rates", "--from", "2026-01-01", "--to", "2026-02-01")
    out = r.stdout.decode()
    assert r.returncode == 0 and "50.0%" in out and "驿城区" in out and "(total)" in out


# --- import -------------------------------------------------------------------------------

def import_file(tmp_path, lines):
    f = tmp_path / "cases.jsonl"
    f.write_text("".join(l + "\n" for l in lines))
    return str(f)


def test_import_keys_are_stable_and_lines_run_in_parallel(stub, hl, tmp_path):
    seen = {}

    def respond(req):
        key = req.headers["Idempotency-Key"]
        status = 200 if key in seen else 201
        seen.setdefault(key, len(seen) + 1)
        return status, {}, case(seen[key])

    stub.respond = respond
    stub.delay = 0.02
    lines = [json.dumps({"text": "第%d件" % i}, ensure_ascii=False) for i in range(60)]
    lines.append(lines[0])  # an identical line is a second case, with its own key
    path = import_file(tmp_path, lines)
    r = hl("import", path)
    assert r.returncode == 0, err(r)
    assert r.stdout.decode() == "imported 61, already present 0, failed 0\n"
    assert 1 < stub.max_in_flight <= 8
    first = sorted(q.headers["Idempotency-Key"] for q in stub.requests)
    assert all(re.fullmatch(r"import-[0-9a-f]{32}-[12]", k) for k in first)
    assert len(set(first)) == 61
    stub.requests.clear()
    r = hl("import", path, "--parallel", "2")
    assert r.returncode == 0, err(r)
    assert r.stdout.decode() == "imported 0, already present 61, failed 0\n"
    assert sorted(q.headers["Idempotency-Key"] for q in stub.requests) == first
    assert stub.max_in_flight <= 8


def test_import_reports_bad_lines_and_goes_on(stub, hl, tmp_path):
    def respond(req):
        if "拒绝" in req.json()["text"]:
            return error(422, "invalid_field", "district too long", "district")
        return 201, {}, case(1)

    stub.respond = respond
    path = import_file(tmp_path, ['{"text": "好的"}', '{"text": ', '', '[1, 2]',
                                  '{"text": "拒绝"}', '{"text": "也好"}'])
    r = hl("import", path)
    assert r.returncode == 2
    assert r.stdout.decode() == "imported 2, already present 0, failed 3\n"
    e = err(r)
    assert "line 2: invalid JSON" in e and "line 4: invalid JSON" in e
    assert "line 5: 422 invalid_field: district too long (field: district)" in e
    assert len(stub.requests) == 3
    assert "\r" not in e  # no progress bar when stderr is not a terminal


def test_import_json_summary(stub, hl, tmp_path):
    stub.respond = lambda req: (201, {}, case(1))
    path = import_file(tmp_path, ['{"text": "a"}', 'oops'])
    r = hl("--json", "import", path)
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert (doc["imported"], doc["already_present"], doc["failed"]) == (1, 0, 1)
    assert doc["errors"][0]["line"] == 2


def test_import_stops_when_the_server_is_unreachable(hl, tmp_path):
    path = import_file(tmp_path, ['{"text": "%d"}' % i for i in range(50)])
    started = time.monotonic()
    r = hl("import", path, url="http://127.0.0.1:1")
    assert r.returncode == 3
    assert "run the same import again" in r.stdout.decode()
    assert time.monotonic() - started < 15


def test_json_refusal_prints_the_error_document(stub, hl):
    body = '{"error": {"code": "illegal_transition", "message": "no"}}'
    stub.respond = lambda req: (409, {}, body)
    r = hl("--json", "sign", "5")
    assert r.returncode == 2
    assert r.stdout == body.encode()
    assert err(r) == "hotline: 409 illegal_transition: no\n"


def test_submit_retries_429_too(stub, hl):
    answers = [(429, {"Retry-After": "0"}, {"error": {"code": "rate_limited", "message": "slow"}})]
    stub.respond = lambda req: answers.pop(0) if answers else (201, {}, case(4))
    assert hl("submit", "--text", "x").returncode == 0
    assert len(stub.requests) == 2


def test_overdue_report_groups(stub, hl):
    late = dict(case(9), late=["sign"], overdue_minutes=150)
    stub.respond = lambda req: (200, {}, {"now": "2026-11-28T10:00:00+08:00", "total": 1, "rows": [
        {"department": "urban_mgmt", "name": "城管局", "count": 1,
         "oldest": "2026-11-27T23:59:59+08:00", "cases": [late]}]})
    r = hl("report", "overdue", "--limit", "5")
    out = r.stdout.decode()
    assert r.returncode == 0, err(r)
    assert stub.requests[0].path == "/v1/reports/overdue?limit=5"
    assert "城管局" in out and "2h30m late" in out and "sign" in out


def test_import_ignores_a_byte_order_mark(stub, hl, tmp_path):
    stub.respond = lambda req: (201, {}, case(1))
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b'\xef\xbb\xbf{"text": "a"}\r\n{"text": "b"}\r\n')
    r = hl("import", str(f))
    assert r.returncode == 0, err(r)
    assert [q.body for q in stub.requests] in ([b'{"text": "a"}', b'{"text": "b"}'],
                                               [b'{"text": "b"}', b'{"text": "a"}'])
