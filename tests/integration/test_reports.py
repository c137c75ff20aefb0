"""Manager reports (docs/API.md section 5): the rates report checked field by field on a known
population built through the API, and against an independent replay of each case's history;
CSV; null rates; the date range's edges in local time; the overdue and hot-spot reports; roles;
and that no report carries a caller's name or phone.

Each module fixture runs its own server and database: reports count every case there is."""
import csv
import datetime as dt
import io
import time
from urllib.parse import urlencode

import pytest

TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai, the default zone
SECRET_NAME = "秘密来电人"
SECRET_PHONE = "13987654321"
CALLER = {"name": SECRET_NAME, "phone": SECRET_PHONE, "confidential": False}
U, H = "urban_mgmt", "housing"
COUNTS = ["received", "answered", "dispatched", "signed_on_time", "contacted_on_time", "replied",
          "replied_on_time", "visited", "resolved", "satisfied", "returned", "reopened", "overdue_open",
          "declined", "suspended"]
FIELDS = ["received", "answered", "dispatched", "signed_on_time", "contacted_on_time", "response_rate",
          "replied", "replied_on_time", "on_time_rate", "visited", "resolved", "resolution_rate",
          "satisfied", "satisfaction_rate", "avg_score", "returned", "return_rate", "reopened",
          "overdue_open", "declined", "suspended"]
RATES = {"response_rate": ("contacted_on_time", "dispatched"), "on_time_rate": ("replied_on_time", "replied"),
         "resolution_rate": ("resolved", "visited"), "satisfaction_rate": ("satisfied", "visited"),
         "return_rate": ("returned", "dispatched")}
# "report" cases run out of every clock after 2 s, "help" cases only of the contact clock.
POLICY = {"rules": [{"type": "*", "urgent": True, "sign": "30m", "contact": "2h", "finish": "24h"},
                    {"type": "report", "urgent": False, "sign": "2s", "contact": "2s", "finish": "2s"},
                    {"type": "help", "urgent": False, "sign": "1wd", "contact": "2s", "finish": "1wd"},
                    {"type": "*", "urgent": False, "sign": "1wd", "contact": "2wd", "finish": "10wd"}],
          "rectify": "5wd", "warn_at": 0.75}
NEUTRAL = "测试报表统计口径的工单内容"  # matches no routing rule: without a department it waits in the pool


def parse_ts(text):
    return dt.datetime.fromisoformat(text)


def local_today():
    return dt.datetime.now(TZ).date()


class Pop:
    """A server of its own and the tokens of every role; `make` creates a case and remembers
    what a manager expects of it in the reports."""

    def __init__(self, server):
        self.s = server
        self.admin = server.admin_token
        self.op = server.make_user("operator")
        self.mgr = server.make_user("manager")
        self.du = server.make_user("department", U)
        self.dh = server.make_user("department", H)
        self.clerk = {U: self.du, H: self.dh}
        self.cases = {}     # name -> the create response
        self.expect = {}    # name -> the facts the reports should count

    def make(self, name, department=None, **fields):
        body = {"text": NEUTRAL, "caller": CALLER, "type": "complaint", "channel": "phone"}
        body.update(fields)
        if department:
            body["department"] = department
        status, _, case = self.s.request("POST", "/v1/cases", body, token=self.op)
        assert status == 201, case
        self.cases[name] = case
        return case["id"]

    def act(self, case_id, action, body=None, token=None):
        path = "/v1/cases/%d/%s" % (case_id, action)
        if action == "approve":
            path = "/v1/cases/%d/extension/approve" % case_id
        status, _, reply = self.s.request("POST", path, body or {}, token=token)
        assert status == 200, (action, reply)
        return reply

    def full_cycle(self, case_id, dept, score, resolved=None, contact=True):
        """Sign, contact, reply and visit, all on time under the default policy."""
        self.act(case_id, "sign", token=self.clerk[dept])
        if contact:
            self.act(case_id, "contact", {"note": "已联系"}, token=self.clerk[dept])
        self.act(case_id, "reply", {"text": "已办结"}, token=self.clerk[dept])
        visit = {"score": score}
        if resolved is not None:
            visit["resolved"] = resolved
        return self.act(case_id, "visit", visit, token=self.op)

    def report(self, path, token=None, expect=200, headers=None):
        status, hdrs, body = self.s.request("GET", path, token=token or self.mgr, headers=headers)
        assert status == expect, (path, status, body)
        return hdrs, body

    def rates(self, by="department", frm=None, to=None, **extra):
        frm = frm or local_today() - dt.timedelta(days=1)
        to = to or local_today() + dt.timedelta(days=2)
        q = dict(extra, **{"from": str(frm), "to": str(to), "by": by})
        return self.report("/v1/reports/rates?" + urlencode(q))[1]


def facts(key, district, type_, channel, answered=False, dispatched=True, signed=False, contacted=False,
          replied=False, replied_on_time=False, score=None, resolved=False, returned=False, reopened=False,
          overdue=False, declined=False, suspended=False):
    return {"department": key, "district": district, "type": type_, "channel": channel,
            "answered": answered, "dispatched": dispatched, "signed_on_time": signed,
            "contacted_on_time": contacted, "replied": replied, "replied_on_time": replied_on_time,
            "score": score, "resolved": resolved, "returned": returned, "reopened": reopened,
            "overdue_open": overdue, "declined": declined, "suspended": suspended}


@pytest.fixture(scope="module")
def pop(pg, make_server):
    """The known population: every kind of case a month of a hotline has, with what each
    counts for. U = urban_mgmt, H = housing; districts 甲区 乙区 丙区 and one formula-like."""
    p = Pop(make_server(pg))
    status, _, body = p.s.request("PUT", "/v1/sla", POLICY, token=p.admin)
    assert status == 200, body
    mk, act, e = p.make, p.act, p.expect

    # First the cases whose 2-second clocks must run out while the others are built.
    g = mk("G", H, type="report", district="丙区")
    hc = mk("Hc", H, type="report", channel="kiosk")
    hu = mk("Hu", U, type="report", district="丙区")
    hd = mk("Hd", H, type="report", district="乙区")
    act(hd, "sign", token=p.dh)  # within its 2 s; never contacted: overdue by contact_by
    i = mk("I", U, type="help", district="甲区")
    act(i, "sign", token=p.du)   # sign_by is 1wd away
    started = time.monotonic()
    e["G"] = facts(H, "丙区", "report", "phone", replied=True, score=3, resolved=True)
    e["Hc"] = facts(H, None, "report", "kiosk", overdue=True)
    e["Hu"] = facts(U, "丙区", "report", "phone", overdue=True)
    e["Hd"] = facts(H, "乙区", "report", "phone", signed=True, overdue=True)
    e["I"] = facts(U, "甲区", "help", "phone", signed=True, replied=True, replied_on_time=True)

    a = mk("A", U, district="甲区")
    p.full_cycle(a, U, 5, True)
    e["A"] = facts(U, "甲区", "complaint", "phone", signed=True, contacted=True, replied=True,
                   replied_on_time=True, score=5, resolved=True)
    b = mk("B", U, district="甲区", channel="wechat")
    p.full_cycle(b, U, 4, False)
    e["B"] = facts(U, "甲区", "complaint", "wechat", signed=True, contacted=True, replied=True,
                   replied_on_time=True, score=4)
    c = mk("C", U, district="乙区")
    assert p.full_cycle(c, U, 1)["state"] == "reopened"
    act(c, "reply", {"text": "整改完毕"}, token=p.du)
    assert act(c, "visit", {"score": 3, "resolved": True}, token=p.op)["state"] == "closed"
    e["C"] = facts(U, "乙区", "complaint", "phone", signed=True, contacted=True, replied=True,
                   replied_on_time=True, score=3, resolved=True, reopened=True)
    d = mk("D", U, district="乙区", channel="app")
    assert p.full_cycle(d, U, 2, contact=False)["state"] == "reopened"
    e["D"] = facts(U, "乙区", "complaint", "app", signed=True, replied=True, replied_on_time=True,
                   score=2, reopened=True)
    r1 = mk("E", U, district="甲区", type="suggestion", channel="web")
    assert act(r1, "return", {"reason": "非本单位职责"}, token=p.du)["state"] == "pending"
    e["E"] = facts(U, "甲区", "suggestion", "web", returned=True)
    f = mk("F", U, district="丙区")
    act(f, "sign", token=p.du)
    act(f, "return", {"reason": "应由住建处理"}, token=p.du)
    act(f, "dispatch", {"department": H}, token=p.op)
    p.full_cycle(f, H, 5)
    e["F"] = facts(H, "丙区", "complaint", "phone", signed=True, contacted=True, replied=True,
                   replied_on_time=True, score=5, resolved=True, returned=True)
    j = mk("J", district="乙区", type="consult", answer="已电话解答")
    assert act(j, "visit", {"score": 5}, token=p.op)["state"] == "closed"
    e["J"] = facts(None, "乙区", "consult", "phone", answered=True, dispatched=False, score=5, resolved=True)
    k = mk("K", district="乙区", type="consult", channel="hall", answer="已电话解答")
    assert act(k, "visit", {"score": 2}, token=p.op)["state"] == "pending"
    act(k, "dispatch", {"department": U}, token=p.op)
    e["K"] = facts(U, "乙区", "consult", "hall", answered=True, score=2)
    lp = mk("L", district="甲区", channel="email")
    assert p.cases["L"]["state"] == "pending"
    act(lp, "merge", {"into": hc}, token=p.op)
    e["L"] = facts(None, "甲区", "complaint", "email", dispatched=False)
    m = mk("M", U, district="甲区", type="praise", channel="open311")
    act(m, "merge", {"into": hc}, token=p.op)
    e["M"] = facts(U, "甲区", "praise", "open311")
    n = mk("N", U, district="=1+1", type="consult")
    act(n, "sign", token=p.du)
    e["N"] = facts(U, "=1+1", "consult", "phone", signed=True)

    time.sleep(max(0.0, 3.0 - (time.monotonic() - started)))  # every 2 s clock has run out
    act(g, "sign", token=p.dh)
    act(g, "contact", {"note": "晚了"}, token=p.dh)
    act(g, "reply", {"text": "晚了"}, token=p.dh)
    act(g, "visit", {"score": 3, "resolved": True}, token=p.op)
    act(i, "contact", {"note": "晚了"}, token=p.du)
    act(i, "reply", {"text": "按时办结"}, token=p.du)
    return p


def expected_rows(pop, by):
    """The rates rows a manager expects, from the facts of the population, computed here."""
    groups = {}
    for f in pop.expect.values():
        groups.setdefault(f[by], []).append(f)
    return {key: with_rates(key, count(fs)) for key, fs in groups.items()}


def count(fs):
    """The counts of a group of cases' facts, and the sum of their latest scores."""
    c = dict.fromkeys(COUNTS, 0) | {"received": len(fs), "score_sum": 0}
    for f in fs:
        for k in ("answered", "dispatched", "signed_on_time", "contacted_on_time", "replied",
                  "replied_on_time", "returned", "reopened", "overdue_open"):
            c[k] += f[k]
        if f["score"] is not None:
            c["visited"] += 1
            c["score_sum"] += f["score"]
            c["satisfied"] += f["score"] >= 3
            c["resolved"] += f["resolved"]
    return c


def with_rates(key, counts):
    row = {"key": key}
    for name in FIELDS:
        if name in RATES:
            num, den = RATES[name]
            row[name] = counts[num] / counts[den] if counts[den] else None
        elif name == "avg_score":
            row[name] = counts["score_sum"] / counts["visited"] if counts["visited"] else None
        else:
            row[name] = counts[name]
    return row


def sort_key(key):
    return (key is None, key or "")


# --- the rates report ---------------------------------------------------------------------------

@pytest.mark.parametrize("by", ["department", "district", "type", "channel"])
def test_rates_rows_match_the_known_population(pop, by):
    body = pop.rates(by)
    assert set(body) == {"from", "to", "by", "rows", "total"}
    assert body["by"] == by
    want = expected_rows(pop, by)
    got = {r["key"]: r for r in body["rows"]}
    assert [r["key"] for r in body["rows"]] == sorted(want, key=sort_key), body["rows"]
    for key, row in want.items():
        assert list(got[key]) == ["key"] + FIELDS, got[key]
        assert got[key] == row, (key, got[key], row)
    assert body["total"] == with_rates("total", count(list(pop.expect.values())))


def test_rates_department_rows_in_numbers(pop):
    """The same rows written out by hand for two departments, so that a mistake shared by the
    expectation code and the server would still show."""
    rows = {r["key"]: r for r in pop.rates("department")["rows"]}
    h = rows[H]  # F (returned to it), G (all late), Hc (overdue), Hd (signed, overdue)
    assert [h[k] for k in FIELDS] == [4, 0, 4, 2, 1, 0.25, 2, 1, 0.5, 2, 2, 1.0, 2, 1.0, 4.0, 1, 0.25, 0, 2, 0, 0]
    none = rows[None]  # J answered and visited, L merged from the pool
    assert [none[k] for k in FIELDS] == [2, 1, 0, 0, 0, None, 0, 0, None, 1, 1, 1.0, 1, 1.0, 5.0, 0, None, 0, 0, 0, 0]


def test_rates_equal_a_replay_of_every_history(pop):
    """The slow path: each case's history (GET /v1/cases/{id}/events, plus the deadlines its
    create answered) replayed here, clock by clock, and aggregated; must equal the report."""
    replayed = {}
    for name in pop.expect:
        created = pop.cases[name]
        status, _, case = pop.s.request("GET", "/v1/cases/%d" % created["id"], token=pop.mgr)
        assert status == 200
        status, _, ev = pop.s.request("GET", "/v1/cases/%d/events" % created["id"], token=pop.mgr)
        assert status == 200
        replayed[name] = replay(created, case, ev["items"])
        assert replayed[name] == pop.expect[name], (name, replayed[name], pop.expect[name])
    saved = pop.expect
    try:
        pop.expect = replayed
        for by in ("department", "district"):
            want = expected_rows(pop, by)
            got = {r["key"]: r for r in pop.rates(by)["rows"]}
            assert got == want
    finally:
        pop.expect = saved


def replay(created, case, events):
    """What one case counts for, from its history alone: the department that was given it last,
    each clock judged against the deadlines of the dispatch cycle it belongs to."""
    f = facts(None, case["district"], case["type"], case["channel"], dispatched=False)
    deadlines, first_contact, first_reply = None, True, True
    for e in events:
        at, data = parse_ts(e["at"]), e["data"]
        if e["action"] == "create":
            f["answered"] = e["to"] == "answered"
            if e["to"] == "dispatched":
                f["dispatched"], f["department"] = True, data["department"]
                deadlines = {k: parse_ts(v) for k, v in created["deadlines"].items()}
        elif e["action"] == "dispatch":
            f["dispatched"], f["department"] = True, data["department"]
            deadlines = {k: parse_ts(v) for k, v in data["deadlines"].items()}
            f["signed_on_time"], f["contacted_on_time"], first_contact = False, False, True
        elif e["action"] == "sign":
            f["signed_on_time"] = at <= deadlines["sign_by"]
        elif e["action"] == "contact" and first_contact:
            f["contacted_on_time"], first_contact = at <= deadlines["contact_by"], False
        elif e["action"] == "reply":
            f["replied"] = True
            if first_reply:
                f["replied_on_time"], first_reply = at <= deadlines["finish_by"], False
        elif e["action"] == "visit":
            f["score"], f["resolved"] = data["score"], data["resolved"]
            if e["to"] == "reopened":
                f["reopened"] = True
                deadlines["finish_by"] = parse_ts(data["finish_by"])
        elif e["action"] == "return":
            f["returned"] = True
        elif e["action"] == "approve":
            deadlines["finish_by"] = parse_ts(data["finish_by"])
    f["overdue_open"] = case["overdue"] and case["state"] not in ("closed", "merged")
    return f


def test_report_facts_are_in_step_with_the_cases(pop):
    """case_facts, which the fast path reads, equals its definition on every case (trigger)."""
    assert pop.s.cluster.psql("SELECT case_facts_drift()", db=pop.s.db) == "0"


def test_facts_rebuild_recomputes_the_same_facts(pop):
    before = pop.rates("department")
    rebuilt = pop.s.cluster.psql("SELECT case_facts_rebuild()", db=pop.s.db)
    assert rebuilt == pop.s.cluster.psql("SELECT count(*) FROM cases", db=pop.s.db)
    assert pop.rates("department") == before


def test_rates_csv_has_the_same_rows(pop):
    frm, to = local_today() - dt.timedelta(days=1), local_today() + dt.timedelta(days=2)
    for path, headers in (("&format=csv", None), ("", {"Accept": "text/csv"})):
        hdrs, text = pop.report("/v1/reports/rates?from=%s&to=%s&by=district%s" % (frm, to, path),
                                headers=headers)
        assert hdrs["content-type"].startswith("text/csv"), hdrs
        assert "charset=utf-8" in hdrs["content-type"].lower()
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
        assert rows[0] == ["key"] + FIELDS
        body = pop.rates("district")
        assert len(rows) == 1 + len(body["rows"])
        for line, row in zip(rows[1:], body["rows"]):
            key = row["key"]
            assert line[0] == ("" if key is None else "'" + key if key[0] in "=+-@" else key)
            for name, cell in zip(FIELDS, line[1:]):
                value = row[name]
                assert cell == ("" if value is None else str(value)), (name, cell, value)
    assert text.endswith("\r\n")


def test_rates_null_when_nothing_to_divide(pop):
    """A day without cases: no rows, and every rate of the total is null."""
    body = pop.rates("department", dt.date(2001, 1, 1), dt.date(2001, 1, 2))
    assert body["rows"] == []
    t = body["total"]
    assert t["received"] == 0 and t["key"] == "total"
    for name in list(RATES) + ["avg_score"]:
        assert t[name] is None, name


def test_rates_range_is_local_from_inclusive_to_exclusive(pop):
    """Cases moved to the edges of 2020-03-01 in Asia/Shanghai: counted in [from, to) local."""
    edges = {"2020-02-29 23:59:59.999+08": False, "2020-03-01 00:00:00+08": True,
             "2020-03-01 07:59:59+08": True,  # still 2020-02-29 in UTC
             "2020-03-01 23:59:59.999+08": True, "2020-03-02 00:00:00+08": False}
    ids = []
    for when in edges:
        ids.append(pop.make("edge " + when, U, district="边界区"))
        pop.s.cluster.psql("UPDATE cases SET created_at = '%s' WHERE id = %d" % (when, ids[-1]), db=pop.s.db)
        pop.expect.pop("edge " + when, None)
    body = pop.rates("district", dt.date(2020, 3, 1), dt.date(2020, 3, 2))
    assert [(r["key"], r["received"]) for r in body["rows"]] == [("边界区", sum(edges.values()))]
    body = pop.rates("district", dt.date(2020, 2, 29), dt.date(2020, 3, 3))
    assert body["total"]["received"] == len(edges)
    body = pop.rates("district", dt.date(2020, 3, 2), dt.date(2020, 3, 3))
    assert body["total"]["received"] == 1
    assert pop.s.cluster.psql("SELECT case_facts_drift()", db=pop.s.db) == "0"


@pytest.mark.parametrize("query, field", [
    ({"to": "2026-01-02"}, "from"),
    ({"from": "2026-01-01"}, "to"),
    ({"from": "2026-02-30", "to": "2026-03-02"}, "from"),
    ({"from": "2026-01-01", "to": "20260102"}, "to"),
    ({"from": "2026-01-02", "to": "2026-01-02"}, "to"),
    ({"from": "2026-01-03", "to": "2026-01-02"}, "to"),
    ({"from": "2026-01-01", "to": "2026-01-02", "by": "category"}, "by"),
    ({"from": "2026-01-01", "to": "2026-01-02", "format": "xlsx"}, "format"),
])
def test_rates_bad_query_is_400(pop, query, field):
    status, _, body = pop.s.request("GET", "/v1/reports/rates?" + urlencode(query), token=pop.mgr)
    assert status == 400, body
    assert body["error"]["code"] == "bad_request" and body["error"]["field"] == field, body


@pytest.mark.parametrize("path", ["/v1/reports/rates?from=2026-01-01&to=2026-01-02",
                                  "/v1/reports/overdue", "/v1/reports/hotspots"])
def test_reports_are_for_managers_and_admins(pop, path):
    for token in (pop.op, pop.du):
        status, _, body = pop.s.request("GET", path, token=token)
        assert status == 403 and body["error"]["code"] == "forbidden", body
    assert pop.s.request("GET", path)[0] == 401
    for token in (pop.mgr, pop.admin):
        assert pop.s.request("GET", path, token=token)[0] == 200


# --- overdue ------------------------------------------------------------------------------------

def test_overdue_groups_open_late_cases_by_department_oldest_first(pop):
    body = pop.report("/v1/reports/overdue")[1]
    ids = {name: c["id"] for name, c in pop.cases.items()}
    assert body["total"] == 3
    assert [(g["department"], g["count"]) for g in body["rows"]] == [(H, 2), (U, 1)]
    h, u = body["rows"]
    assert [c["id"] for c in h["cases"]] == [ids["Hc"], ids["Hd"]]
    assert [c["id"] for c in u["cases"]] == [ids["Hu"]]
    first = h["cases"][0]
    assert first["late"] == ["sign", "contact", "finish"] and first["state"] == "dispatched"
    assert h["cases"][1]["late"] == ["contact", "finish"] and h["cases"][1]["state"] == "accepted"
    assert first["overdue_since"] == pop.cases["Hc"]["deadlines"]["sign_by"] == h["oldest"]
    assert first["overdue_minutes"] >= 0 and h["name"]
    assert "caller" not in first and "text" not in first
    limited = pop.report("/v1/reports/overdue?limit=1")[1]
    assert [len(g["cases"]) for g in limited["rows"]] == [1, 1]
    assert [g["count"] for g in limited["rows"]] == [2, 1]
    status, _, err = pop.s.request("GET", "/v1/reports/overdue?limit=0", token=pop.mgr)
    assert status == 400 and err["error"]["field"] == "limit"


# --- privacy ------------------------------------------------------------------------------------

def test_no_report_contains_caller_data(pop):
    frm, to = local_today() - dt.timedelta(days=1), local_today() + dt.timedelta(days=2)
    paths = ["/v1/reports/overdue", "/v1/reports/overdue?limit=1000"]
    for by in ("department", "district", "type", "channel"):
        paths += ["/v1/reports/rates?from=%s&to=%s&by=%s%s" % (frm, to, by, fmt) for fmt in ("", "&format=csv")]
    for by in ("district", "category", "department"):
        paths.append("/v1/reports/hotspots?days=7&by=%s" % by)
    for path in paths:
        status, _, body = pop.s.request("GET", path, token=pop.mgr)
        assert status == 200, (path, body)
        text = body if isinstance(body, str) else repr(body)
        for secret in (SECRET_NAME, SECRET_PHONE, NEUTRAL):
            assert secret not in text, (path, secret)


# --- hot spots ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hot(pg, make_server):
    """A server of its own: districts with known counts in the last 7 days and the 7 before."""
    s = make_server(pg)
    op = s.make_user("operator")
    plan = {"翻倍区": (10, 5), "新热区": (6, 0), "平稳区": (3, 3), "少量区": (4, 0), "降温区": (2, 8)}
    for district, (now, before) in plan.items():
        for n in range(now + before):
            body = {"text": NEUTRAL, "district": district, "caller": CALLER, "category": "housing.01"}
            status, _, case = s.request("POST", "/v1/cases", body, token=op)
            assert status == 201, case
            if n >= now:  # 10 days ago: in the previous week
                s.cluster.psql("UPDATE cases SET created_at = now() - interval '10 days' WHERE id = %d"
                               % case["id"], db=s.db)
    # older than both windows: counted nowhere
    status, _, case = s.request("POST", "/v1/cases", {"text": NEUTRAL, "district": "旧区"}, token=op)
    assert status == 201, case
    s.cluster.psql("UPDATE cases SET created_at = now() - interval '20 days' WHERE id = %d" % case["id"], db=s.db)
    return s, s.make_user("manager")


def test_hotspots_count_growth_and_rising(hot):
    s, mgr = hot
    status, _, body = s.request("GET", "/v1/reports/hotspots?days=7&by=district&top=20", token=mgr)
    assert status == 200, body
    assert (body["days"], body["by"], body["top"]) == (7, "district", 20)
    assert parse_ts(body["to"]) - parse_ts(body["from"]) == dt.timedelta(days=7)
    rows = [(r["key"], r["count"], r["previous"], r["growth"], r["rising"]) for r in body["rows"]]
    assert rows == [("翻倍区", 10, 5, 1.0, True), ("新热区", 6, 0, None, True), ("少量区", 4, 0, None, False),
                    ("平稳区", 3, 3, 0.0, False), ("降温区", 2, 8, -0.75, False)]
    status, _, body = s.request("GET", "/v1/reports/hotspots?top=2", token=mgr)
    assert [r["key"] for r in body["rows"]] == ["翻倍区", "新热区"]
    status, _, body = s.request("GET", "/v1/reports/hotspots?by=category", token=mgr)
    assert [(r["key"], r["count"], r["previous"]) for r in body["rows"]] == [("housing.01", 25, 16)]
    status, _, body = s.request("GET", "/v1/reports/hotspots?by=department&days=30", token=mgr)
    assert [(r["key"], r["count"], r["previous"]) for r in body["rows"]] == [("housing", 41, 0)]


@pytest.mark.parametrize("query, field", [("days=0", "days"), ("days=367", "days"), ("days=x", "days"),
                                          ("top=0", "top"), ("top=201", "top"), ("by=type", "by")])
def test_hotspots_bad_query_is_400(hot, query, field):
    s, mgr = hot
    status, _, body = s.request("GET", "/v1/reports/hotspots?" + query, token=mgr)
    assert status == 400 and body["error"]["field"] == field, body
