"""The handling loop (docs/API.md sections 9-12 and 17): co-handling, suspension, centre review,
declining, the reports' new columns, the scorecard and the bad-reviews report. Each race is run
with 8 concurrent requests; every bad body is refused with the contract's code and field, and
changes nothing."""
import datetime as dt
import threading
from urllib.parse import urlencode

import pytest

from api_errors import assert_error

TZ = dt.timezone(dt.timedelta(hours=8))
U, H, P = "urban_mgmt", "housing", "public_security"
DEFAULT_WEIGHTS = {"response_rate": 0.2, "on_time_rate": 0.2, "resolution_rate": 0.3,
                   "satisfaction_rate": 0.3, "dispatch_accuracy": 0.0}


class W:
    def __init__(self, server):
        self.s = server
        self.admin = server.admin_token
        self.op = server.make_user("operator")
        self.mgr = server.make_user("manager")
        self.u = server.make_user("department", U)
        self.h = server.make_user("department", H)
        self.p = server.make_user("department", P)
        self.x = server.make_user("department", "transport")

    def req(self, method, path, body=None, token=None, **kw):
        return self.s.request(method, path, body, token=token, **kw)

    def create(self, **fields):
        body = {"text": "需要多部门协同处理的事项甲乙丙", "type": "complaint"}
        body.update(fields)
        status, _, c = self.req("POST", "/v1/cases", body, self.op)
        assert status == 201, c
        return c

    def act(self, cid, action, body=None, token=None, expect=200):
        r = self.req("POST", "/v1/cases/%d/%s" % (cid, action), {} if body is None else body, token)
        if expect is not None:
            assert r[0] == expect, (action, r)
        return r[2]

    def get(self, cid, token=None):
        status, _, body = self.req("GET", "/v1/cases/%d" % cid, token=token or self.mgr)
        assert status == 200, body
        return body

    def events(self, cid, token=None):
        status, _, body = self.req("GET", "/v1/cases/%d/events" % cid, token=token or self.mgr)
        assert status == 200, body
        return body["items"]

    def inbox(self, token):
        """Every item of a department's inbox, following the cursors."""
        items, after = [], None
        while True:
            q = "?limit=500" + ("&after=" + after if after else "")
            status, _, page = self.req("GET", "/v1/inbox" + q, token=token)
            assert status == 200, page
            items += page["items"]
            after = page["next"]
            if not after:
                return {x["id"]: x for x in items}

    def co_case(self, co=(H, P)):
        """A pending case dispatched to urban_mgmt with co-departments, signed."""
        c = self.create()
        c = self.act(c["id"], "dispatch", {"department": U, "co": list(co)}, self.op)
        return self.act(c["id"], "sign", {}, self.u)

    def accepted(self, **fields):
        c = self.create(department=U, **fields)
        return self.act(c["id"], "sign", {}, self.u)


@pytest.fixture(scope="module")
def w(server):
    return W(server)


def race(n, calls):
    """Run calls[i % len(calls)]() from n threads released together; the replies in call order."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def go(i):
        barrier.wait()
        out[i] = calls[i % len(calls)]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# --- co-handling (section 9) -----------------------------------------------------------------

def test_dispatch_with_co_sets_the_list(w):
    c = w.co_case()
    assert [e["department"] for e in c["co"]] == [H, P]
    assert all(e == {"department": e["department"], "state": "open", "text": None, "at": None} for e in c["co"])
    ev = w.events(c["id"])
    dispatch = [e for e in ev if e["action"] == "dispatch"][0]
    assert dispatch["data"]["co"] == [H, P]
    plain = w.create(department=U)
    assert plain["co"] == [] and plain["suspended"] is None and plain["declined"] is None
    assert plain["sent_back"] == 0


def test_co_department_reads_lists_and_inbox(w):
    c = w.co_case(co=(H,))
    assert w.get(c["id"], w.h)["id"] == c["id"]
    assert w.events(c["id"], w.h)[0]["action"] == "create"
    assert_error(w.req("GET", "/v1/cases/%d" % c["id"], token=w.x), 403, "forbidden")
    listed = w.req("GET", "/v1/cases?limit=50", token=w.h)[2]["items"]
    assert c["id"] in [x["id"] for x in listed]  # newest first: among the first
    inbox = w.inbox(w.h)
    assert inbox[c["id"]]["role"] == "co"
    assert inbox[c["id"]]["deadlines"]["finish_by"] == c["deadlines"]["finish_by"]
    lead = w.inbox(w.u)
    assert lead[c["id"]]["role"] == "lead"


def test_confidential_caller_hidden_from_co(w):
    c = w.create(caller={"name": "李女士", "phone": "13900000000", "confidential": True})
    w.act(c["id"], "dispatch", {"department": U, "co": [H]}, w.op)
    assert w.get(c["id"], w.h)["caller"] == {"confidential": True}


def test_assist_then_reply(w):
    c = w.co_case()
    assert_error(w.req("POST", "/v1/cases/%d/reply" % c["id"], {"text": "已处理"}, w.u), 409, "assists_pending")
    done = w.act(c["id"], "assist", {"text": "已派民警到场"}, w.p)
    entry = [e for e in done["co"] if e["department"] == P][0]
    assert entry["state"] == "done" and entry["text"] == "已派民警到场" and entry["at"]
    assert_error(w.req("POST", "/v1/cases/%d/assist" % c["id"], {"text": "again"}, w.p), 409, "illegal_transition")
    assert_error(w.req("POST", "/v1/cases/%d/assist" % c["id"], {"text": "x"}, w.x), 403, "forbidden")
    assert_error(w.req("POST", "/v1/cases/%d/assist" % c["id"], {"text": "x"}, w.u), 409, "illegal_transition")
    assert_error(w.req("POST", "/v1/cases/%d/reply" % c["id"], {"text": "已处理"}, w.u), 409, "assists_pending")
    w.act(c["id"], "assist", {"text": "已约谈施工方"}, w.h)
    r = w.act(c["id"], "reply", {"text": "已处理"}, w.u)
    assert r["state"] == "replied"
    assert_error(w.req("POST", "/v1/cases/%d/assist" % c["id"], {"text": "late"}, w.h), 409, "illegal_transition")
    assert [e["action"] for e in w.events(c["id"])].count("assist") == 2
    # a co-department acts on nothing else
    assert_error(w.req("POST", "/v1/cases/%d/supervise" % c["id"], {"note": "x"}, w.h), 403, "forbidden")


def test_assist_is_allowed_while_dispatched(w):
    c = w.create()
    c = w.act(c["id"], "dispatch", {"department": U, "co": [H]}, w.op)
    assert w.act(c["id"], "assist", {"text": "已配合"}, w.h)["state"] == "dispatched"
    assert_error(w.req("POST", "/v1/cases/%d/sign" % c["id"], {}, w.h), 403, "forbidden")


def test_return_clears_the_co_list(w):
    c = w.co_case(co=(H,))
    r = w.act(c["id"], "return", {"reason": "非本单位职责"}, w.u)
    assert r["co"] == [] and r["state"] == "pending"
    assert_error(w.req("GET", "/v1/cases/%d" % c["id"], token=w.h), 403, "forbidden")
    r = w.act(c["id"], "dispatch", {"department": H, "co": [P]}, w.op)
    assert [e["department"] for e in r["co"]] == [P]


@pytest.mark.parametrize("co, field", [
    (["housing", "housing"], "co"), ([U], "co"), (["a", "b", "c", "d", "e", "f"], "co"),
    ("housing", "co"), ([1], "co"), (["Bad Code"], "co"), (["no_such_dept"], "co"),
])
def test_bad_co_is_refused_and_changes_nothing(w, co, field):
    c = w.create()
    assert_error(w.req("POST", "/v1/cases/%d/dispatch" % c["id"], {"department": U, "co": co}, w.op),
                 422, "invalid_field", field)
    assert w.get(c["id"])["state"] == "pending" and w.get(c["id"])["version"] == c["version"]


def test_bad_assist_bodies(w):
    c = w.co_case(co=(H,))
    for body, code, field in [({}, "missing_field", "text"), ({"text": ""}, "invalid_field", "text"),
                              ({"text": 5}, "invalid_field", "text"), ({"text": "x", "y": 1}, "invalid_field", "y"),
                              ({"text": "长" * 4001}, "invalid_field", "text")]:
        assert_error(w.req("POST", "/v1/cases/%d/assist" % c["id"], body, w.h), 422, code, field)
    assert w.get(c["id"])["co"][0]["state"] == "open"


def test_race_two_assists(w):
    c = w.co_case(co=(H,))
    out = race(8, [lambda: w.req("POST", "/v1/cases/%d/assist" % c["id"], {"text": "配合"}, w.h)])
    assert sorted(r[0] for r in out) == [200] + [409] * 7
    assert all(r[2]["error"]["code"] == "illegal_transition" for r in out if r[0] == 409)
    assert [e["action"] for e in w.events(c["id"])].count("assist") == 1


def test_race_assist_against_the_leads_reply(w):
    """4 assists and 4 replies at once: one assist wins; a reply wins only after it (never while
    the part is open), and then alone."""
    c = w.co_case(co=(H,))
    out = race(8, [lambda: w.req("POST", "/v1/cases/%d/assist" % c["id"], {"text": "配合"}, w.h),
                   lambda: w.req("POST", "/v1/cases/%d/reply" % c["id"], {"text": "已办"}, w.u)])
    assists, replies = out[0::2], out[1::2]
    assert sorted(r[0] for r in assists) == [200, 409, 409, 409]
    assert [r[0] for r in replies].count(200) <= 1
    assert all(r[2]["error"]["code"] in ("assists_pending", "illegal_transition") for r in replies if r[0] != 200)
    actions = [e["action"] for e in w.events(c["id"])]
    assert actions.count("assist") == 1
    if "reply" in actions:
        assert actions.index("reply") > actions.index("assist")


# --- suspension (section 10) ------------------------------------------------------------------

def test_suspend_and_resume(w):
    c = w.accepted()
    s = w.act(c["id"], "suspend", {"reason": "等待市民补充材料"}, w.u)
    assert s["state"] == "suspended" and s["overdue"] is False
    assert s["suspended"]["reason"] == "等待市民补充材料" and s["suspended"]["from"] == "accepted"
    assert s["suspended"]["since"]
    listed = w.req("GET", "/v1/cases?state=suspended&limit=500", token=w.mgr)[2]["items"]
    assert c["id"] in [x["id"] for x in listed]
    for action, body in [("reply", {"text": "x"}), ("contact", {}), ("suspend", {"reason": "again"}),
                         ("return", {"reason": "x"})]:
        assert_error(w.req("POST", "/v1/cases/%d/%s" % (c["id"], action), body, w.u), 409, "illegal_transition")
    w.act(c["id"], "supervise", {"note": "请尽快"}, w.mgr)
    r = w.act(c["id"], "resume", {}, w.u)
    assert r["state"] == "accepted" and r["suspended"] is None
    # a working-day clock suspended for seconds on one day: unchanged
    assert r["deadlines"] == c["deadlines"]
    assert_error(w.req("POST", "/v1/cases/%d/resume" % c["id"], {}, w.u), 409, "illegal_transition")
    ev = [e for e in w.events(c["id"]) if e["action"] in ("suspend", "resume")]
    assert [(e["from"], e["to"]) for e in ev] == [("accepted", "suspended"), ("suspended", "accepted")]


def test_resume_by_manager_and_back_to_reopened(w):
    c = w.accepted()
    w.act(c["id"], "reply", {"text": "已处理"}, w.u)
    w.act(c["id"], "visit", {"score": 1}, w.op)
    s = w.act(c["id"], "suspend", {"reason": "等待第三方鉴定"}, w.u)
    assert s["suspended"]["from"] == "reopened"
    assert_error(w.req("POST", "/v1/cases/%d/resume" % c["id"], {}, w.h), 403, "forbidden")
    assert_error(w.req("POST", "/v1/cases/%d/resume" % c["id"], {}, w.op), 403, "forbidden")
    assert w.act(c["id"], "resume", {}, w.mgr)["state"] == "reopened"


def test_calendar_clock_moves_by_the_suspended_time(w, pg):
    """An urgent case's 24h finish clock is calendar time: it moves by exactly the suspension,
    which is backdated here by an hour in the database."""
    c = w.accepted(urgent=True)
    s = w.act(c["id"], "suspend", {"reason": "等待鉴定"}, w.u)
    pg.psql("UPDATE cases SET suspended_since = suspended_since - interval '1 hour' WHERE id = %d" % c["id"],
            db=w.s.db)
    since = dt.datetime.fromisoformat(w.get(c["id"])["suspended"]["since"])
    r = w.act(c["id"], "resume", {}, w.u)
    resumed = dt.datetime.fromisoformat([e for e in w.events(c["id"]) if e["action"] == "resume"][0]["at"])
    moved = dt.datetime.fromisoformat(r["deadlines"]["finish_by"]) - \
        dt.datetime.fromisoformat(c["deadlines"]["finish_by"])
    assert abs((moved - (resumed - since)).total_seconds()) <= 1, (moved, resumed - since)
    assert 3590 <= moved.total_seconds() <= 3700
    assert s["deadlines"] == c["deadlines"]


def test_sweeper_writes_nothing_for_a_suspended_case(w, pg):
    c = w.accepted()
    w.act(c["id"], "suspend", {"reason": "等待"}, w.u)
    pg.psql("UPDATE cases SET finish_by = now() - interval '1 hour', contact_by = now() - interval '1 hour' "
            "WHERE id = %d" % c["id"], db=w.s.db)
    pg.psql("SELECT sweep_deadlines(0.75)", db=w.s.db)
    assert not [e for e in w.events(c["id"]) if e["action"] in ("overdue", "deadline_warning")]
    assert w.get(c["id"])["overdue"] is False


def test_bad_suspend_bodies(w):
    c = w.accepted()
    for body, code, field in [({}, "missing_field", "reason"), ({"reason": ""}, "invalid_field", "reason"),
                              ({"reason": "x", "until": 1}, "invalid_field", "until")]:
        assert_error(w.req("POST", "/v1/cases/%d/suspend" % c["id"], body, w.u), 422, code, field)
    assert_error(w.req("POST", "/v1/cases/%d/resume" % c["id"], {"x": 1}, w.u), 422, "invalid_field", "x")
    assert w.get(c["id"])["state"] == "accepted"


def test_race_resume_against_suspend(w):
    c = w.accepted()
    w.act(c["id"], "suspend", {"reason": "等待"}, w.u)
    out = race(8, [lambda: w.req("POST", "/v1/cases/%d/resume" % c["id"], {}, w.u)])
    assert sorted(r[0] for r in out) == [200] + [409] * 7
    # 4 suspends and 4 resumes of the accepted case: whatever wins, the wins alternate
    # suspend, resume, suspend ... (each from the state the one before left), every loser is 409
    out = race(8, [lambda: w.req("POST", "/v1/cases/%d/suspend" % c["id"], {"reason": "再等"}, w.u),
                   lambda: w.req("POST", "/v1/cases/%d/resume" % c["id"], {}, w.u)])
    assert all(r[0] in (200, 409) for r in out), out
    won_s = [r[0] for r in out[0::2]].count(200)
    won_r = [r[0] for r in out[1::2]].count(200)
    assert won_s >= 1 and won_s - won_r in (0, 1), out
    moves = [e["action"] for e in w.events(c["id"]) if e["action"] in ("suspend", "resume")][2:]
    assert moves == ["suspend", "resume"] * won_r + ["suspend"] * (won_s - won_r), moves
    assert w.get(c["id"])["state"] == ("suspended" if won_s > won_r else "accepted")


# --- centre review (section 11) ---------------------------------------------------------------

@pytest.fixture
def review_on(w):
    status, _, policy = w.req("GET", "/v1/sla", token=w.admin)
    assert status == 200
    w.req("PUT", "/v1/sla", dict(policy, review=True), token=w.admin)
    yield
    w.req("PUT", "/v1/sla", dict(policy, review=False), token=w.admin)


def test_review_approve_and_send_back(w, review_on):
    c = w.accepted()
    r = w.act(c["id"], "reply", {"text": "已处理"}, w.u)
    assert r["state"] == "reviewing" and r["reply"]["text"] == "已处理"
    assert_error(w.req("POST", "/v1/cases/%d/visit" % c["id"], {"score": 5}, w.op), 409, "illegal_transition")
    assert_error(w.req("POST", "/v1/cases/%d/review" % c["id"], {"approve": True}, w.u), 403, "forbidden")
    back = w.act(c["id"], "review", {"approve": False, "reason": "答复过于简单"}, w.op)
    assert back["state"] == "accepted" and back["sent_back"] == 1 and back["reply"] is None
    assert back["deadlines"]["finish_by"] == c["deadlines"]["finish_by"]
    assert back["timestamps"]["replied_at"] is None
    w.act(c["id"], "reply", {"text": "已现场处理并回复"}, w.u)
    ok = w.act(c["id"], "review", {"approve": True}, w.mgr)
    assert ok["state"] == "replied" and ok["sent_back"] == 1
    reviews = [e for e in w.events(c["id"]) if e["action"] == "review"]
    assert [(e["from"], e["to"], e["data"]["approve"]) for e in reviews] == [
        ("reviewing", "accepted", False), ("reviewing", "replied", True)]
    assert reviews[0]["data"]["reason"] == "答复过于简单"


def test_review_sends_back_to_reopened(w, review_on):
    c = w.accepted()
    w.act(c["id"], "reply", {"text": "已处理"}, w.u)
    w.act(c["id"], "review", {"approve": True}, w.op)
    w.act(c["id"], "visit", {"score": 2}, w.op)
    w.act(c["id"], "reply", {"text": "整改完毕"}, w.u)
    assert w.act(c["id"], "review", {"approve": False, "reason": "未整改"}, w.op)["state"] == "reopened"


def test_bad_review_bodies(w, review_on):
    c = w.accepted()
    w.act(c["id"], "reply", {"text": "已处理"}, w.u)
    for body, code, field in [({}, "missing_field", "approve"), ({"approve": "yes"}, "invalid_field", "approve"),
                              ({"approve": False}, "missing_field", "reason"),
                              ({"approve": True, "x": 1}, "invalid_field", "x")]:
        assert_error(w.req("POST", "/v1/cases/%d/review" % c["id"], body, w.op), 422, code, field)
    assert w.get(c["id"])["state"] == "reviewing"


def test_race_two_reviews(w, review_on):
    c = w.accepted()
    w.act(c["id"], "reply", {"text": "已处理"}, w.u)
    out = race(8, [lambda: w.req("POST", "/v1/cases/%d/review" % c["id"], {"approve": True}, w.op),
                   lambda: w.req("POST", "/v1/cases/%d/review" % c["id"], {"approve": False, "reason": "x"},
                                 w.mgr)])
    assert sorted(r[0] for r in out) == [200] + [409] * 7
    assert [e["action"] for e in w.events(c["id"])].count("review") == 1


# --- declining (section 12) -------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["out_of_scope", "emergency", "judicial", "petition", "legislature",
                                    "repeat_no_new_facts", "malicious", "secret"])
def test_decline_reasons(w, reason):
    c = w.create()
    r = w.act(c["id"], "decline", {"reason": reason, "note": "已告知市民"}, w.op)
    assert r["state"] == "closed" and r["declined"] == {"reason": reason, "note": "已告知市民"}
    assert r["timestamps"]["closed_at"]


def test_decline_rules(w):
    answered = w.create(answer="已答复")
    assert w.act(answered["id"], "decline", {"reason": "emergency"}, w.mgr)["declined"]["note"] is None
    c = w.create()
    for body, code, field in [({}, "missing_field", "reason"), ({"reason": "boring"}, "invalid_field", "reason"),
                              ({"reason": 1}, "invalid_field", "reason"),
                              ({"reason": "secret", "extra": True}, "invalid_field", "extra")]:
        assert_error(w.req("POST", "/v1/cases/%d/decline" % c["id"], body, w.op), 422, code, field)
    assert_error(w.req("POST", "/v1/cases/%d/decline" % c["id"], {"reason": "secret"}, w.u), 403, "forbidden")
    assert w.get(c["id"])["state"] == "pending"
    d = w.create(department=U)
    assert_error(w.req("POST", "/v1/cases/%d/decline" % d["id"], {"reason": "secret"}, w.op), 409,
                 "illegal_transition")


# --- reports: declined, suspended, review counts at the department's time ----------------------

def rates(w, **params):
    today = dt.datetime.now(TZ).date()
    q = {"from": today.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat(), "by": "district"}
    q.update(params)
    status, _, body = w.req("GET", "/v1/reports/rates?" + urlencode(q), token=w.mgr)
    assert status == 200, body
    return body


def test_reports_count_declined_suspended_and_reviewed_replies(w, review_on):
    district = "统计区" + str(id(w))
    d = w.create(district=district)
    w.act(d["id"], "decline", {"reason": "out_of_scope"}, w.op)
    s = w.accepted(district=district)
    w.act(s["id"], "suspend", {"reason": "等"}, w.u)
    sent = w.accepted(district=district)
    w.act(sent["id"], "reply", {"text": "x"}, w.u)
    w.act(sent["id"], "review", {"approve": False, "reason": "不合格"}, w.op)
    approved = w.accepted(district=district)
    w.act(approved["id"], "reply", {"text": "已处理"}, w.u)
    w.act(approved["id"], "review", {"approve": True}, w.op)
    waiting = w.accepted(district=district)
    w.act(waiting["id"], "reply", {"text": "待审"}, w.u)
    row = [r for r in rates(w)["rows"] if r["key"] == district][0]
    assert row["received"] == 5 and row["declined"] == 1 and row["suspended"] == 1
    assert row["dispatched"] == 4 and row["replied"] == 1 and row["replied_on_time"] == 1
    assert w.s.cluster.psql("SELECT case_facts_drift()", db=w.s.db) == "0"


def test_rates_csv_has_the_new_columns(w):
    today = dt.datetime.now(TZ).date()
    q = urlencode({"from": today.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat(), "format": "csv"})
    status, headers, body = w.req("GET", "/v1/reports/rates?" + q, token=w.mgr)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    text = body if isinstance(body, str) else body.decode()
    assert text.split("\r\n")[0].endswith(",overdue_open,declined,suspended")


# --- assessment (section 17) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh(pg, make_server):
    """A server on a database of its own, so that the ranking holds only this module's cases."""
    return W(make_server(pg))


def handled(w, dept_token, dept, contact=True, score=5):
    c = w.create(department=dept)
    w.act(c["id"], "sign", {}, dept_token)
    if contact:
        w.act(c["id"], "contact", {"note": "已联系"}, dept_token)
    w.act(c["id"], "reply", {"text": "已处理"}, dept_token)
    return w.act(c["id"], "visit", {"score": score}, w.op)


def window():
    today = dt.datetime.now(TZ).date()
    return {"from": today.isoformat(), "to": (today + dt.timedelta(days=1)).isoformat()}


def expected_score(weights, rates_):
    present = [(weights[k], v) for k, v in rates_.items() if v is not None]
    return sum(w_ * v for w_, v in present) / sum(w_ for w_, _ in present)


def test_scorecard_weights_put_get_and_refusals(fresh):
    w = fresh
    status, _, body = w.req("GET", "/v1/scorecard", token=w.mgr)
    assert status == 200 and body == {"weights": DEFAULT_WEIGHTS, "min_cases": 5}
    for bad, code, field in [
            ({"weights": dict(DEFAULT_WEIGHTS, dispatch_accuracy=0.1)}, "invalid_field", "weights"),
            ({"weights": dict(DEFAULT_WEIGHTS, response_rate=-0.2, on_time_rate=0.6)}, "invalid_field",
             "weights.response_rate"),
            ({"weights": dict(DEFAULT_WEIGHTS, speed=0)}, "invalid_field", "weights.speed"),
            ({"weights": DEFAULT_WEIGHTS, "min_cases": "5"}, "invalid_field", "min_cases"),
            ({"weights": DEFAULT_WEIGHTS, "extra": 1}, "invalid_field", "extra"),
            ({"min_cases": 3}, "missing_field", "weights")]:
        assert_error(w.req("PUT", "/v1/scorecard", bad, token=w.admin), 422, code, field)
    assert w.req("GET", "/v1/scorecard", token=w.admin)[2] == {"weights": DEFAULT_WEIGHTS, "min_cases": 5}


def test_scorecard_and_bad_reviews(fresh):
    w = fresh
    card = {"weights": DEFAULT_WEIGHTS, "min_cases": 2}
    status, _, body = w.req("PUT", "/v1/scorecard", card, token=w.admin)
    assert status == 200 and body == card
    for _ in range(2):
        handled(w, w.u, U)
    handled(w, w.h, H, contact=False, score=4)
    bad = handled(w, w.h, H, score=1)
    assert bad["state"] == "reopened"
    w.act(bad["id"], "reply", {"text": "整改完毕"}, w.h)
    handled(w, w.p, P)  # one case: under min_cases
    status, _, report = w.req("GET", "/v1/reports/scorecard?" + urlencode(window()), token=w.mgr)
    assert status == 200, report
    rows = report["rows"]
    assert [(r["rank"], r["department"], r["dispatched"]) for r in rows] == [(1, U, 2), (2, H, 2)]
    h = {k: rows[1][k] for k in DEFAULT_WEIGHTS}
    assert h == {"response_rate": 0.5, "on_time_rate": 1.0, "resolution_rate": 0.5, "satisfaction_rate": 0.5,
                 "dispatch_accuracy": 1.0}
    assert rows[1]["score"] == expected_score(DEFAULT_WEIGHTS, h)
    assert rows[0]["score"] == 1.0 and rows[1]["name"] == "市住房和城乡建设局"
    status, headers, csv = w.req("GET", "/v1/reports/scorecard?" + urlencode(dict(window(), format="csv")),
                                 token=w.admin)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    lines = csv.lstrip("\ufeff").split("\r\n")
    assert lines[0] == ("rank,department,name,dispatched,response_rate,on_time_rate,resolution_rate,"
                        "satisfaction_rate,dispatch_accuracy,score")
    assert lines[1].startswith("1,urban_mgmt,") and lines[2].startswith("2,housing,") and lines[3] == ""
    status, _, br = w.req("GET", "/v1/reports/bad-reviews?" + urlencode(dict(window(), by="department")),
                          token=w.mgr)
    assert status == 200 and br["rows"] == [{"key": H, "visited": 2, "bad": 1, "bad_rate": 0.5,
                                             "rectified_on_time": 1}], br
    assert_error(w.req("GET", "/v1/reports/bad-reviews?" + urlencode(dict(window(), by="type")), token=w.mgr),
                 400, "bad_request", "by")
    assert_error(w.req("GET", "/v1/reports/scorecard?from=2026-13-01&to=2026-12-01", token=w.mgr),
                 400, "bad_request", "from")
    # the weights change the ranking: only satisfaction counts
    only = {"weights": {"response_rate": 0, "on_time_rate": 0, "resolution_rate": 0, "satisfaction_rate": 1,
                        "dispatch_accuracy": 0}, "min_cases": 1}
    assert w.req("PUT", "/v1/scorecard", only, token=w.admin)[0] == 200
    rows = w.req("GET", "/v1/reports/scorecard?" + urlencode(window()), token=w.mgr)[2]["rows"]
    assert [(r["department"], r["score"]) for r in rows] == [(U, 1.0), (P, 1.0), (H, 0.5)]  # ties: more dispatched first
    assert w.s.cluster.psql("SELECT case_facts_drift()", db=w.s.db) == "0"
