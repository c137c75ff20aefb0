"""The real `hotline` client against the real server (fixtures `server` and `client_bin` of
tests/conftest.py): every command's happy path, each exit status, --json, the alignment of
Chinese text in tables, and imports that run twice without creating anything twice."""
import datetime
import http.server
import json
import os
import re
import subprocess
import threading
import uuid

import pytest

from polling import wait_for

from textcols import assert_columns_line_up


def run(client_bin, server, *args, token=None, input=None, url=None, timeout=120):
    env = dict(os.environ, HOTLINE_URL=url or server.url, HOTLINE_TOKEN=token or server.admin_token)
    return subprocess.run([client_bin, *args], env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


class Hotline:
    """hl(*args, as_=role) runs the client with that role's token; hl.json(...) parses --json."""

    def __init__(self, client_bin, server):
        self.bin, self.server = client_bin, server
        self.tokens = {"admin": server.admin_token,
                       "operator": server.make_user("operator"),
                       "manager": server.make_user("manager"),
                       "department": server.make_user("department", "urban_mgmt")}

    def __call__(self, *args, as_="admin", input=None, ok=True):
        r = run(self.bin, self.server, *args, token=self.tokens[as_], input=input)
        if ok:
            assert r.returncode == 0, "hotline %s -> %d\n%s" % (" ".join(args), r.returncode,
                                                                 r.stderr)
        return r

    def json(self, *args, as_="admin", input=None):
        return json.loads(self("--json", *args, as_=as_, input=input).stdout)


@pytest.fixture(scope="module")
def hl(client_bin, server):
    return Hotline(client_bin, server)


def marker():
    """A word no other test's cases contain, for -q searches."""
    return "标记" + uuid.uuid4().hex[:10]


def submit(hl, text, *extra):
    return hl.json("submit", "--text", text, *extra, as_="operator")


def state(hl, case_id):
    return hl.json("show", str(case_id))["state"]



def dates():
    today = datetime.date.today()
    return str(today - datetime.timedelta(days=1)), str(today + datetime.timedelta(days=2))


# --- cases: the happy paths ----------------------------------------------------------------

@pytest.mark.smoke
def test_case_life_from_submit_to_closed(hl):
    c = submit(hl, "小区门口有人占道摆摊 " + marker(), "--title", "占道摆摊", "--district", "驿城区",
               "--name", "张先生", "--phone", "13800000000", "--department", "urban_mgmt")
    cid = str(c["id"])
    assert c["state"] == "dispatched" and c["department"] == "urban_mgmt"
    inbox = hl.json("inbox", "--all", as_="department")  # other tests fill this inbox too
    assert int(cid) in [x["id"] for x in inbox["items"]]
    first = hl.json("inbox", "--limit", "1", as_="department")
    assert len(first["items"]) == 1
    out = hl("sign", cid, as_="department").stdout
    assert out.startswith("case %s " % cid) and "now accepted" in out
    hl("contact", cid, "--note", "已电话联系市民", as_="department")
    hl("extend", cid, "--workdays", "2", "--reason", "需要协调城管执法", as_="department")
    hl("approve", cid, as_="manager")
    hl("reply", cid, "--text", "-", input="已清理占道摊位\n", as_="department")
    assert state(hl, cid) == "replied"
    hl("visit", cid, "--score", "5", "--comment", "很满意", as_="operator")
    shown = hl.json("show", cid)
    assert shown["state"] == "closed"
    actions = [e["action"] for e in hl.json("history", cid)["items"]]
    for a in ("sign", "contact", "extend", "reply", "visit"):
        assert a in actions
    out = hl("history", cid).stdout
    assert out.splitlines()[0].split()[:4] == ["AT", "ACTOR", "ROLE", "ACTION"]
    assert "state:" in hl("show", cid).stdout


def test_return_dispatch_reject_reopen_supervise_merge(hl):
    c = submit(hl, "路灯不亮 " + marker(), "--department", "urban_mgmt")
    cid = str(c["id"])
    hl("return", cid, "--reason", "不属于本单位", as_="department")
    assert state(hl, cid) == "pending"
    hl("dispatch", cid, "urban_mgmt", as_="operator")
    assert state(hl, cid) == "dispatched"
    hl("sign", cid, as_="department")
    hl("extend", cid, "--workdays", "1", "--reason", "等待材料", as_="department")
    hl("reject", cid, as_="manager")
    hl("supervise", cid, "--note", "请加快办理", as_="manager")
    hl("reply", cid, "--text", "已修复", "--unresolved", as_="department")
    hl("visit", cid, "--score", "2", "--unresolved", "--comment", "还是不亮", as_="operator")
    assert state(hl, cid) == "reopened"
    dup = submit(hl, "路灯不亮，重复反映 " + marker())
    hl("merge", str(dup["id"]), "--into", cid, as_="operator")
    assert state(hl, dup["id"]) == "merged"


def test_answered_on_the_call(hl):
    c = submit(hl, "咨询公积金提取 " + marker(), "--type", "consult", "--answer", "可在网上办理")
    assert c["state"] == "answered"
    hl("visit", str(c["id"]), "--score", "4", as_="operator")
    assert state(hl, c["id"]) == "closed"


def test_track_caller_and_kb(hl):
    phone = "1360000%04d" % (uuid.uuid4().int % 10000)
    out = hl("submit", "--text", "路灯不亮 " + marker(), "--department", "urban_mgmt", "--phone", phone,
             as_="operator").stdout
    m = re.search(r"number (\d{8}-\d{6}) and code (\d{6})", out)
    assert m, out
    r = run(hl.bin, hl.server, "track", m.group(1), m.group(2), token=" ")  # no token needed
    assert r.returncode == 0 and "in_progress" in r.stdout and "市城市管理局" in r.stdout, r
    wrong = run(hl.bin, hl.server, "track", m.group(1), "%06d" % ((int(m.group(2)) + 1) % 10 ** 6), token=" ")
    assert wrong.returncode == 2 and "404 not_found" in wrong.stderr
    assert "count_90d: 1" in hl("caller", phone, as_="operator").stdout
    flagged = hl.json("caller", "flag", phone, "repeat", "--note", "每天来电询问同一件事", as_="manager")
    assert flagged["flag"]["kind"] == "repeat" and flagged["flag"]["note"] == "每天来电询问同一件事", flagged
    assert hl.json("caller", phone, as_="operator")["flag"]["kind"] == "repeat"
    refused = hl("caller", "flag", phone, "repeat", as_="operator", ok=False)
    assert refused.returncode == 2 and "403" in refused.stderr
    bad = hl("caller", "flag", phone, "angry", as_="manager", ok=False)
    assert bad.returncode != 0 and "repeat or malicious" in bad.stderr
    assert hl.json("caller", "unflag", phone, as_="manager")["flag"] is None
    assert hl.json("caller", phone, as_="operator")["flag"] is None
    found = hl("kb", "search", "停电", "--limit", "3", as_="operator").stdout
    assert found.splitlines()[1].split()[1] == "停电报修", found
    kb_id = found.splitlines()[1].split()[0]
    c = submit(hl, "家里停电了 " + marker(), "--answer", "请拨打95598", "--kb", kb_id)
    assert c["state"] == "answered" and c["kb"] == int(kb_id)
    assert "95598" in hl("kb", "show", kb_id, as_="department").stdout


def test_submit_with_a_key_twice_makes_one_case(hl):
    key = "e2e-" + uuid.uuid4().hex
    text = "井盖缺失 " + marker()
    first = hl("submit", "--text", text, "--key", key, as_="operator")
    again = hl("submit", "--text", text, "--key", key, as_="operator")
    assert first.stdout.startswith("created case ")
    assert "already existed" in again.stdout
    assert first.stdout.split()[2] == again.stdout.split()[1]
    other = hl("submit", "--text", text + "!", "--key", key, as_="operator", ok=False)
    assert other.returncode == 2 and "422 idempotency_mismatch" in other.stderr


def test_route_dry_run_and_rules(hl):
    word = "词" + uuid.uuid4().hex[:8]
    r = hl.json("rules", "add", "--name", "e2e" + word[-4:], "--department", "urban_mgmt",
                "--any", word + "，另一个词", "--priority", "1")
    rid = str(r["id"])
    assert any(x["id"] == r["id"] for x in hl.json("rules", "list")["items"])
    assert word in hl("rules", "list").stdout
    routed = hl.json("route", "--text", "有关" + word + "的问题", as_="operator")
    assert routed["department"] == "urban_mgmt" and routed["rule_id"] == r["id"]
    assert "urban_mgmt" in hl("route", "--text", "有关" + word, as_="operator").stdout
    assert hl("rules", "rm", rid).stdout.strip() == "rule %s deleted" % rid
    after = hl.json("route", "--text", "有关" + word + "的问题", as_="operator")
    assert after.get("rule_id") != r["id"]


def test_route_explain_shows_rules_and_the_models_top_three(hl, server):
    wait_for(lambda: server.request("GET", "/v1/routing/model", token=server.admin_token)[2]["id"],
             timeout=60, what="the first model")
    out = hl("route", "--explain", "小区电梯又困人了，物业说等维保", as_="operator").stdout
    lines = out.splitlines()
    assert lines[0].startswith("decision: market_regulation ("), out
    assert lines[1].startswith("rules alone: market_regulation by rule ") and "电梯" in lines[1], out
    assert lines[2] == "model's top three:" and len(lines) == 6, out
    assert all(l.startswith("  ") and l.endswith("%)") for l in lines[3:]), out


def test_list_filters_pages_and_json(hl):
    m = marker()
    ids = [submit(hl, "垃圾清运不及时 %s %d" % (m, i), "--district", "西平县")["id"] for i in range(5)]
    page = hl.json("list", "-q", m, "--limit", "2")
    assert len(page["items"]) == 2 and page["next"]
    every = hl.json("list", "-q", m, "--limit", "2", "--all")
    assert sorted(x["id"] for x in every["items"]) == sorted(ids)
    r = hl("list", "-q", m, "--limit", "2")
    assert "--after" in r.stderr
    r = hl("list", "-q", m, "--district", "西平县", "--all")
    assert len(r.stdout.splitlines()) == 6
    frm, to = dates()
    assert len(hl.json("list", "-q", m, "--from", frm, "--to", to)["items"]) == 5


def test_chinese_columns_line_up(hl):
    m = marker()
    for district, title in (("驿城区", "小区门口占道摆摊，影响通行，请尽快处理此事，谢谢"),
                            ("West", "short"),
                            ("高新技术开发区", "Ａｂｃ fullwidth")):
        submit(hl, "%s %s" % (title, m), "--district", district, "--title", title)
    lines = hl("list", "-q", m).stdout.splitlines()
    assert len(lines) == 4
    assert_columns_line_up(lines, ["CREATED", "STATE", "TYPE", "DEPARTMENT", "DISTRICT",
                                   "DUE", "FLAGS", "TITLE"])
    assert any("…" in line for line in lines[1:])


def test_inbox_and_reports(hl):
    assert hl("inbox", as_="department").returncode == 0
    frm, to = dates()
    rates = hl.json("report", "rates", "--from", frm, "--to", to, "--by", "district",
                    as_="manager")
    assert rates["by"] == "district" and isinstance(rates["rows"], list)
    out = hl("report", "rates", "--from", frm, "--to", to, as_="manager").stdout
    assert "RECEIVED" in out and "(total)" in out
    csv = hl("report", "rates", "--from", frm, "--to", to, "--csv", as_="manager").stdout
    assert "received" in csv.splitlines()[0]
    hl("report", "overdue", as_="manager")
    hl.json("report", "overdue", as_="manager")
    hl("report", "hotspots", "--days", "7", "--by", "district", "--top", "5", as_="manager")


# --- administration --------------------------------------------------------------------------

def test_users_tokens_and_me(hl):
    name = "e2e_" + uuid.uuid4().hex[:8]
    r = hl("users", "add", name, "--role", "operator")
    token = r.stdout.strip()
    assert len(token) >= 22 and "\n" not in token and "shown only once" in r.stderr
    hl.tokens[name] = token
    me = hl.json("me", as_=name)
    assert me["name"] == name and me["role"] == "operator"
    listed = hl.json("users", "list")
    uid = str([u for u in listed["items"] if u["name"] == name][0]["id"])
    assert name in hl("users", "list").stdout
    new = hl("users", "token", uid).stdout.strip()
    assert new != token
    assert hl("me", as_=name, ok=False).returncode == 2  # the old token is revoked
    hl.tokens[name] = new
    assert hl("me", as_=name).returncode == 0
    hl("users", "disable", uid)
    r = hl("me", as_=name, ok=False)
    assert r.returncode == 2 and "401" in r.stderr
    dept = hl.json("users", "add", name + "_d", "--role", "department", "--department",
                   "urban_mgmt")
    assert dept["department"] == "urban_mgmt" and dept["token"]


def test_sla_and_calendar_round_trip(hl, tmp_path):
    sla = hl.json("sla", "get")
    assert "rules" in sla
    assert "rectify" in hl("sla", "get").stdout
    f = tmp_path / "sla.json"
    f.write_text(json.dumps(sla, ensure_ascii=False))
    hl("sla", "set", str(f))
    cal = hl.json("calendar", "get", "2026")
    assert "holidays" in cal
    g = tmp_path / "cal.json"
    g.write_text(json.dumps({"holidays": cal["holidays"], "workdays": cal["workdays"]}))
    hl("calendar", "set", "2026", str(g))
    assert hl.json("calendar", "get", "2026")["holidays"] == cal["holidays"]


# --- exit statuses ---------------------------------------------------------------------------

def test_status_2_when_the_server_refuses(hl):
    c = submit(hl, "噪音扰民 " + marker(), "--department", "urban_mgmt")
    r = hl("approve", str(c["id"]), as_="manager", ok=False)
    assert r.returncode == 2 and r.stderr.startswith("hotline: 409 illegal_transition: ")
    r = hl("rules", "add", "--name", "x", "--department", "urban_mgmt", "--any", "x",
           as_="operator", ok=False)
    assert r.returncode == 2 and "403 forbidden" in r.stderr
    r = hl("show", "999999999", ok=False)
    assert r.returncode == 2 and "404 not_found" in r.stderr
    r = hl("submit", "--text", "x", "--channel", "pigeon", as_="operator", ok=False)
    assert r.returncode == 2 and "(field: channel)" in r.stderr


def test_status_1_on_usage_errors(hl):
    for args in (["show"], ["show", "abc"], ["visit", "1", "--score", "9"], ["nosuch"],
                 ["list", "--from", "yesterday"], ["submit", "--title", "no text"]):
        r = hl(*args, ok=False)
        assert r.returncode == 1, args
        assert "hotline help" in r.stderr or r.stderr.startswith("usage:"), args


@pytest.mark.smoke
def test_status_3_when_unreachable(client_bin, server):
    r = run(client_bin, server, "show", "1", url="http://127.0.0.1:1")
    assert r.returncode == 3 and "HOTLINE_URL" in r.stderr
    r = run(client_bin, server, "submit", "--text", "x", url="http://127.0.0.1:1")
    assert r.returncode == 3 and "--key" in r.stderr


def test_status_4_on_an_answer_that_is_not_the_api(client_bin, server, tmp_path):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "me").write_text("<html>not an API</html>")

    def handler(*a, **kw):
        return http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **kw)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        r = run(client_bin, server, "me", url="http://127.0.0.1:%d" % httpd.server_address[1])
        assert r.returncode == 4, r.stderr
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- import ----------------------------------------------------------------------------------

@pytest.mark.smoke
def test_import_1000_lines_twice(hl, tmp_path):
    m = marker()
    f = tmp_path / "cases.jsonl"
    f.write_text("".join(json.dumps({"text": "批量导入第%d件 %s" % (i, m), "district": "驿城区",
                                     "channel": "web"}, ensure_ascii=False) + "\n"
                         for i in range(1000)))
    r = hl("import", str(f), as_="operator")
    assert r.stdout.strip() == "imported 1000, already present 0, failed 0"
    r = hl("import", str(f), as_="operator")
    assert r.stdout.strip() == "imported 0, already present 1000, failed 0"
    listed = hl.json("list", "-q", m, "--limit", "500", "--all")
    assert len(listed["items"]) == 1000


def test_import_skips_bad_lines(hl, tmp_path):
    m = marker()
    f = tmp_path / "bad.jsonl"
    f.write_text("\n".join([
        json.dumps({"text": "好行一 " + m}, ensure_ascii=False),
        '{"text": "断了',
        json.dumps({"text": "未知字段 " + m, "colour": "red"}, ensure_ascii=False),
        "",
        json.dumps({"text": "好行二 " + m}, ensure_ascii=False),
    ]) + "\n")
    r = hl("import", str(f), as_="operator", ok=False)
    assert r.returncode == 2
    assert r.stdout.strip() == "imported 2, already present 0, failed 2"
    assert "line 2: invalid JSON" in r.stderr
    assert "line 3: 422 invalid_field" in r.stderr
    r = hl("import", "-", as_="operator", ok=False, input=f.read_text())
    assert r.stdout.strip() == "imported 0, already present 2, failed 2"
    assert len(hl.json("list", "-q", m)["items"]) == 2


def test_handling_loop_commands(hl):
    """dispatch --co, assist, suspend/resume, review, decline and the assessment commands."""
    hl.tokens["housing"] = hl.server.make_user("department", "housing")
    c = submit(hl, "需多部门协同的事项" + marker(), "--answer", "先行解答")
    hl("visit", str(c["id"]), "--score", "1", as_="operator")  # the answer did not satisfy: pending
    got = hl.json("dispatch", str(c["id"]), "urban_mgmt", "--co", "housing", as_="operator")
    assert [e["department"] for e in got["co"]] == ["housing"]
    hl("sign", str(c["id"]), as_="department")
    assert hl("reply", str(c["id"]), "--text", "已处理", as_="department", ok=False).returncode != 0
    hl("assist", str(c["id"]), "--text", "已配合", as_="housing")
    assert hl.json("suspend", str(c["id"]), "--reason", "等待材料", as_="department")["state"] == "suspended"
    assert hl.json("resume", str(c["id"]), as_="department")["state"] == "accepted"
    hl("reply", str(c["id"]), "--text", "已处理", as_="department")
    assert hl("review", str(c["id"]), as_="operator", ok=False).returncode == 1
    d = submit(hl, "与政府职能无关的诉求" + marker(), "--answer", "已说明")
    got = hl.json("decline", str(d["id"]), "--reason", "out_of_scope", "--note", "已解释", as_="operator")
    assert got["state"] == "closed" and got["declined"]["reason"] == "out_of_scope"
    assert hl("decline", str(d["id"]), "--reason", "bored", as_="operator", ok=False).returncode == 1
    assert hl.json("scorecard", "get", as_="manager")["min_cases"] >= 0
    today = datetime.date.today()
    days = ["--from", (today - datetime.timedelta(days=1)).isoformat(),
            "--to", (today + datetime.timedelta(days=2)).isoformat()]
    assert "rows" in hl.json("report", "scorecard", *days, as_="manager")
    assert hl("report", "scorecard", *days, "--csv", as_="manager").stdout.lstrip("\ufeff").startswith("rank,")
    assert "rows" in hl.json("report", "bad-reviews", *days, "--by", "district", as_="manager")
