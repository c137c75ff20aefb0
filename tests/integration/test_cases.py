"""Cases (docs/API.md section 2): create, read, list, inbox, every action and its history, the
state machine's illegal cells (409), who may call what (403), caller privacy, idempotency,
racing actions, pagination and hostile input."""
import datetime
import http.client
import json
import os
import re
import threading
import time
from urllib.parse import urlencode

import pytest

from api_errors import assert_error

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
CASE_KEYS = {"id", "number", "created_at", "channel", "type", "urgent", "category", "title", "text",
             "district", "address", "lat", "lon", "caller", "department", "routing", "state",
             "deadlines", "overdue", "timestamps", "reply", "satisfaction", "returns", "reopened",
             "merged_into", "version"}
TIMESTAMP_KEYS = {"dispatched_at", "signed_at", "contacted_at", "replied_at", "visited_at", "closed_at"}
STATES = ["pending", "dispatched", "accepted", "replied", "reopened", "answered", "closed", "merged"]
OPEN = STATES[:6]

# The state machine as API.md writes it: action -> {from-state: to-state}. Visit is given for a
# satisfied score (>= 3); VISIT_UNSATISFIED for 1-2.
ALLOWED = {
    "dispatch": {"pending": "dispatched"},
    "sign": {"dispatched": "accepted"},
    "return": {"dispatched": "pending", "accepted": "pending"},
    "contact": {"accepted": "accepted", "reopened": "reopened"},
    "extend": {"accepted": "accepted", "reopened": "reopened"},
    "reply": {"accepted": "replied", "reopened": "replied"},
    "visit": {"replied": "closed", "answered": "closed"},
    "supervise": {s: s for s in OPEN},
    "merge": {s: "merged" for s in OPEN},
}
VISIT_UNSATISFIED = {"replied": "reopened", "answered": "pending"}
DEPT_ACTIONS = ("sign", "return", "contact", "extend", "reply")


def marker():
    """A district name no other test uses, to find this test's cases in listings."""
    return "测区" + os.urandom(6).hex()


class World:
    """Tokens of every role and helpers that call the API with them."""

    def __init__(self, server):
        self.s = server
        self.admin = server.admin_token
        self.op = server.make_user("operator")
        self.mgr = server.make_user("manager")
        self.dept = server.make_user("department", "urban_mgmt")
        self.other = server.make_user("department", "housing")

    def req(self, method, path, body=None, token=None, **kw):
        return self.s.request(method, path, body, token=token, **kw)

    def create(self, token=None, expect=201, **fields):
        body = {"text": "小区门口占道摆摊，影响通行"}
        body.update(fields)
        status, headers, reply = self.req("POST", "/v1/cases", body, token or self.op)
        assert status == expect, (status, reply)
        return reply

    def act(self, case_id, action, body=None, token=None, expect=200, headers=None):
        path = "/v1/cases/%d/%s" % (case_id, action)
        if action in ("approve", "reject"):
            path = "/v1/cases/%d/extension/%s" % (case_id, action)
        reply = self.req("POST", path, {} if body is None else body, token, headers=headers)
        if expect is not None:
            assert reply[0] == expect, (action, reply)
        return reply[2]

    def get(self, case_id, token=None):
        status, _, body = self.req("GET", "/v1/cases/%d" % case_id, token=token or self.mgr)
        assert status == 200, body
        return body

    def events(self, case_id, token=None):
        status, _, body = self.req("GET", "/v1/cases/%d/events" % case_id, token=token or self.mgr)
        assert status == 200, body
        return body["items"]

    def listing(self, token=None, **params):
        status, _, body = self.req("GET", "/v1/cases?" + urlencode(params), token=token or self.mgr)
        assert status == 200, body
        return body

    # --- cases in a given state, by the API only --------------------------------------------

    def dispatched(self, **fields):
        return self.create(department="urban_mgmt", **fields)

    def in_state(self, state, **fields):
        """A new case of urban_mgmt (or none) brought to `state` through the actions."""
        if state == "answered":
            return self.create(answer="已在电话中答复", **fields)
        c = self.dispatched(**fields)
        if state == "dispatched":
            return c
        if state == "pending":
            return self.act(c["id"], "return", {"reason": "非本单位职责"}, self.dept)
        if state == "merged":
            into = self.dispatched()
            return self.act(c["id"], "merge", {"into": into["id"]}, self.op)
        c = self.act(c["id"], "sign", {}, self.dept)
        if state == "accepted":
            return c
        c = self.act(c["id"], "reply", {"text": "已处理"}, self.dept)
        if state == "replied":
            return c
        if state == "reopened":
            return self.act(c["id"], "visit", {"score": 1}, self.op)
        assert state == "closed"
        return self.act(c["id"], "visit", {"score": 5}, self.op)


@pytest.fixture(scope="module")
def w(server):
    return World(server)


def valid_body(action, w):
    """A body each action accepts, so that only the state or the role can refuse it."""
    return {
        "dispatch": {"department": "urban_mgmt"},
        "return": {"reason": "不属于本单位"},
        "contact": {"note": "已电话联系"},
        "extend": {"workdays": 3, "reason": "需协调多部门"},
        "approve": {},
        "reject": {"reason": "理由不足"},
        "reply": {"text": "已处理完毕", "resolved": True},
        "visit": {"score": 4},
        "supervise": {"note": "请加快办理"},
        "merge": {"into": w.dispatched()["id"]},
        "sign": {},
    }[action]


def actor_for(action, w):
    return {"dispatch": w.op, "sign": w.dept, "return": w.dept, "contact": w.dept, "extend": w.dept,
            "approve": w.mgr, "reject": w.mgr, "reply": w.dept, "visit": w.op, "supervise": w.mgr,
            "merge": w.op}[action]


# --- create and the representation -----------------------------------------------------------

def test_create_answers_201_with_the_representation(w):
    c = w.create(title="占道", district="驿城区", address="风光路", lat=32.98, lon=114.02,
                 caller={"name": "张先生", "phone": "13800000000", "confidential": False},
                 category="urban_mgmt.03", channel="wechat", type="complaint", urgent=False,
                 department="urban_mgmt")
    assert CASE_KEYS <= set(c), set(c) ^ CASE_KEYS
    assert isinstance(c["id"], int) and c["id"] > 0
    assert re.match(r"^\d{8}-\d{6}$", c["number"]), c["number"]
    assert c["number"][:8] == c["created_at"][:10].replace("-", "")
    assert RFC3339.match(c["created_at"]) and c["created_at"].endswith("+08:00")
    assert (c["channel"], c["type"], c["urgent"], c["category"]) == ("wechat", "complaint", False, "urban_mgmt.03")
    assert (c["title"], c["district"], c["address"], c["lat"], c["lon"]) == ("占道", "驿城区", "风光路", 32.98, 114.02)
    assert c["caller"] == {"name": "张先生", "phone": "13800000000", "confidential": False}
    assert c["department"] == "urban_mgmt" and c["state"] == "dispatched"
    assert c["routing"]["method"] == "manual"
    assert set(c["deadlines"]) == {"sign_by", "contact_by", "finish_by"}
    for k in ("sign_by", "contact_by", "finish_by"):
        assert RFC3339.match(c["deadlines"][k]), c["deadlines"]
    assert c["deadlines"]["sign_by"] <= c["deadlines"]["contact_by"] <= c["deadlines"]["finish_by"]
    assert set(c["timestamps"]) == TIMESTAMP_KEYS
    assert RFC3339.match(c["timestamps"]["dispatched_at"])
    assert all(c["timestamps"][k] is None for k in TIMESTAMP_KEYS - {"dispatched_at"})
    assert (c["overdue"], c["reply"], c["satisfaction"], c["returns"], c["reopened"], c["merged_into"],
            c["version"]) == (False, None, None, 0, 0, None, 1)
    assert re.fullmatch(r"\d{6}", c.pop("track_code")), c  # shown in the create answer only (API.md 13)
    assert w.get(c["id"]) == c
    assert w.get(c["id"], w.admin) == c


def test_create_defaults(w):
    c = w.create(department="housing")
    assert (c["channel"], c["type"], c["urgent"]) == ("phone", "complaint", False)
    assert c["caller"]["confidential"] is False
    assert c["title"] is None and c["lat"] is None


def test_create_routed_or_pending_is_consistent(w):
    c = w.create(text="一段没有任何关键词的测试文字 qzx")
    if c["state"] == "pending":
        assert c["department"] is None and c["routing"]["method"] == "none"
        assert c["deadlines"] == {"sign_by": None, "contact_by": None, "finish_by": None}
    else:
        assert c["state"] == "dispatched" and c["department"]
        assert c["routing"]["method"] in ("rule", "category")


def test_create_answered_directly(w):
    c = w.create(answer="已在电话中解释政策")
    assert c["state"] == "answered" and c["department"] is None
    assert c["deadlines"]["finish_by"] is None


def test_admin_may_create_manager_and_department_may_not(w):
    w.create(token=w.admin, department="urban_mgmt")
    for token in (w.mgr, w.dept):
        assert_error(w.req("POST", "/v1/cases", {"text": "x"}, token), 403, "forbidden")


def test_text_limits_are_characters(w):
    assert len(w.create(text="中" * 4000, department="urban_mgmt")["text"]) == 4000
    assert_error(w.req("POST", "/v1/cases", {"text": "中" * 4001}, w.op), 422, "invalid_field", "text")
    assert_error(w.req("POST", "/v1/cases", {"text": ""}, w.op), 422, "invalid_field", "text")
    assert w.create(title="题" * 200, department="urban_mgmt")["title"] == "题" * 200
    assert_error(w.req("POST", "/v1/cases", {"text": "x", "title": "题" * 201}, w.op), 422, "invalid_field", "title")


@pytest.mark.parametrize("body,status,code,field", [
    ({}, 422, "missing_field", "text"),
    ({"text": None}, 422, "missing_field", "text"),
    ({"title": "t"}, 422, "missing_field", "text"),
    ({"text": 5}, 422, "invalid_field", "text"),
    ({"text": "x", "state": "closed"}, 422, "invalid_field", "state"),
    ({"text": "x", "id": 7}, 422, "invalid_field", "id"),
    ({"text": "x", "caller": {"name": "a", "xyz": 1}}, 422, "invalid_field", "caller.xyz"),
    ({"text": "x", "caller": "张"}, 422, "invalid_field", "caller"),
    ({"text": "x", "channel": "fax"}, 422, "invalid_field", "channel"),
    ({"text": "x", "type": "complaints"}, 422, "invalid_field", "type"),
    ({"text": "x", "urgent": "true"}, 422, "invalid_field", "urgent"),
    ({"text": "x", "lat": 91, "lon": 0}, 422, "invalid_field", "lat"),
    ({"text": "x", "lat": 0, "lon": -180.5}, 422, "invalid_field", "lon"),
    ({"text": "x", "lat": "32", "lon": 0}, 422, "invalid_field", "lat"),
    ({"text": "x", "caller": {"phone": "138 0000"}}, 422, "invalid_field", "caller.phone"),
    ({"text": "x", "caller": {"phone": "1" * 21}}, 422, "invalid_field", "caller.phone"),
    ({"text": "x", "caller": {"name": "张" * 51}}, 422, "invalid_field", "caller.name"),
    ({"text": "x", "district": "区" * 51}, 422, "invalid_field", "district"),
    ({"text": "x", "address": "路" * 201}, 422, "invalid_field", "address"),
    ({"text": "x", "department": "no_such_dept"}, 422, "invalid_field", "department"),
    ({"text": "x", "category": "no_such.01"}, 422, "invalid_field", "category"),
    ({"text": "x", "answer": "已答复", "department": "housing"}, 422, "invalid_field", "answer"),
    ({"text": "x", "answer": ""}, 422, "invalid_field", "answer"),
    ({"text": "a\u0000b"}, 422, "invalid_field", "text"),
])
def test_create_refusals(w, body, status, code, field):
    assert_error(w.req("POST", "/v1/cases", body, w.op), status, code, field)


def test_bad_http_input(w, server):
    path = "/v1/cases"
    assert_error(w.req("POST", path, raw='{"text": "截断', token=w.op), 400, "bad_json")
    assert_error(w.req("POST", path, raw=b'{"text": "\xff\xfe"}', token=w.op), 400, "bad_json")
    assert_error(w.req("POST", path, raw=b'{"text": "\xed\xa0\x80"}', token=w.op), 400, "bad_json")
    assert_error(w.req("POST", path, raw='[{"text": "x"}]', token=w.op), 400, "bad_json")
    assert_error(w.req("POST", path, raw='"text"', token=w.op), 400, "bad_json")
    assert_error(w.req("POST", path, raw='{"text": "x"} trailing', token=w.op), 400, "bad_json")
    assert_error(w.req("POST", path, raw='{"text": "x"}', token=w.op,
                       headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type")
    assert_error(w.req("POST", path, {"text": "x" * 70000}, token=w.op), 413, "too_large")
    assert_error(w.req("POST", path, {"text": "x"}), 401, "unauthorized")
    assert_error(w.req("POST", "/v1/cases/1/sign", raw="{", token=w.dept), 400, "bad_json")
    assert_error(w.req("GET", "/v1/cases/abc", token=w.mgr), 400, "bad_request")
    assert_error(w.req("GET", "/v1/cases/0", token=w.mgr), 400, "bad_request")
    assert_error(w.req("DELETE", "/v1/cases/1", token=w.mgr), 405, "method_not_allowed")
    assert_error(w.req("GET", "/v1/cases/1/sign", token=w.mgr), 405, "method_not_allowed")


def test_sql_looking_text_is_stored_verbatim(w):
    nasty = "'); DROP TABLE cases; -- \\x00 %_ $1 \"quoted\" <script>alert(1)</script>"
    c = w.create(text=nasty, title="' OR 1=1 --", department="urban_mgmt", district="驿城区'--")
    again = w.get(c["id"])
    assert (again["text"], again["title"], again["district"]) == (nasty, "' OR 1=1 --", "驿城区'--")
    found = w.listing(q="DROP TABLE cases;")["items"]
    assert c["id"] in [x["id"] for x in found]


def test_not_found(w):
    assert_error(w.req("GET", "/v1/cases/999999999", token=w.mgr), 404, "not_found")
    assert_error(w.req("GET", "/v1/cases/999999999/events", token=w.mgr), 404, "not_found")
    assert_error(w.req("POST", "/v1/cases/999999999/sign", {}, w.dept), 404, "not_found")
    assert_error(w.req("POST", "/v1/cases/999999999/dispatch", {"department": "housing"}, w.op), 404, "not_found")
    assert_error(w.req("POST", "/v1/cases/999999999/extension/approve", {}, w.mgr), 404, "not_found")


# --- the life cycle ----------------------------------------------------------------------------

def test_full_life_cycle_with_history(w):
    c = w.dispatched(caller={"name": "李", "phone": "139", "confidential": False})
    cid = c["id"]
    c = w.act(cid, "sign", {}, w.dept)
    assert c["state"] == "accepted" and RFC3339.match(c["timestamps"]["signed_at"]) and c["version"] == 2
    c = w.act(cid, "contact", {"note": "已电话联系市民"}, w.dept)
    assert c["state"] == "accepted" and c["timestamps"]["contacted_at"]
    first_contact = c["timestamps"]["contacted_at"]
    c = w.act(cid, "contact", {}, w.dept)
    assert c["timestamps"]["contacted_at"] == first_contact  # the first contact counts
    before = c["deadlines"]["finish_by"]
    c = w.act(cid, "extend", {"workdays": 5, "reason": "需协调"}, w.dept)
    assert c["deadlines"]["finish_by"] == before and c["state"] == "accepted"
    c = w.act(cid, "approve", {}, w.mgr)
    assert c["deadlines"]["finish_by"] > before and c["state"] == "accepted"
    assert c["deadlines"]["finish_by"].endswith("T23:59:59+08:00")
    c = w.act(cid, "supervise", {"note": "请尽快办结"}, w.mgr)
    c = w.act(cid, "reply", {"text": "已清理占道摊位", "resolved": True}, w.dept)
    assert c["state"] == "replied" and c["reply"]["text"] == "已清理占道摊位" and c["reply"]["resolved"] is True
    c = w.act(cid, "visit", {"score": 5, "resolved": True, "comment": "满意"}, w.op)
    assert c["state"] == "closed" and c["satisfaction"]["score"] == 5 and c["satisfaction"]["resolved"] is True
    assert c["timestamps"]["visited_at"] and c["timestamps"]["closed_at"]
    assert c["version"] == 9

    events = w.events(cid)
    assert [(e["action"], e["from"], e["to"]) for e in events] == [
        ("create", None, "dispatched"), ("sign", "dispatched", "accepted"),
        ("contact", "accepted", "accepted"), ("contact", "accepted", "accepted"),
        ("extend", "accepted", "accepted"), ("approve", "accepted", "accepted"),
        ("supervise", "accepted", "accepted"), ("reply", "accepted", "replied"),
        ("visit", "replied", "closed")]
    for e in events:
        assert set(e) == {"at", "actor", "role", "action", "from", "to", "data"}
        assert RFC3339.match(e["at"]) and isinstance(e["data"], dict) and e["actor"]
    assert [e["role"] for e in events] == ["operator", "department", "department", "department",
                                           "department", "manager", "manager", "department", "operator"]
    assert events[4]["data"] == {"workdays": 5, "reason": "需协调"}
    assert events[8]["data"]["score"] == 5
    # history never mentions the caller
    assert "李" not in json.dumps(events, ensure_ascii=False)


def test_reopen_and_rectify(w):
    c = w.in_state("replied")
    c = w.act(c["id"], "visit", {"score": 2, "comment": "没解决"}, w.op)
    assert c["state"] == "reopened" and c["reopened"] == 1 and c["department"] == "urban_mgmt"
    assert c["satisfaction"]["resolved"] is False  # default follows the score
    assert c["deadlines"]["finish_by"] and c["timestamps"]["replied_at"] is None
    assert w.act(c["id"], "contact", {}, w.dept)["state"] == "reopened"
    c = w.act(c["id"], "reply", {"text": "已整改"}, w.dept)
    assert c["state"] == "replied"
    c = w.act(c["id"], "visit", {"score": 3}, w.op)
    assert c["state"] == "closed" and c["reopened"] == 1


def test_answered_then_unsatisfied_goes_to_dispatch(w):
    c = w.in_state("answered")
    c = w.act(c["id"], "visit", {"score": 1}, w.op)
    assert c["state"] == "pending" and c["department"] is None
    c = w.act(c["id"], "dispatch", {"department": "housing"}, w.op)
    assert c["state"] == "dispatched" and c["department"] == "housing"
    assert c["deadlines"]["sign_by"] and c["routing"]["method"] == "manual"
    c2 = w.in_state("answered")
    assert w.act(c2["id"], "visit", {"score": 4}, w.op)["state"] == "closed"


def test_return_and_redispatch(w):
    c = w.in_state("accepted")
    c = w.act(c["id"], "return", {"reason": "应由住建局办理"}, w.dept)
    assert c["state"] == "pending" and c["department"] is None and c["returns"] == 1
    assert c["deadlines"] == {"sign_by": None, "contact_by": None, "finish_by": None}
    c = w.act(c["id"], "dispatch", {"department": "housing"}, w.mgr)
    assert c["state"] == "dispatched" and c["department"] == "housing" and c["returns"] == 1
    assert c["deadlines"]["sign_by"] and c["timestamps"]["signed_at"] is None
    # the old department lost it; the new one has it
    assert_error(w.req("GET", "/v1/cases/%d" % c["id"], token=w.dept), 403, "forbidden")
    assert w.get(c["id"], w.other)["state"] == "dispatched"
    ev = w.events(c["id"])
    assert ev[-2]["action"] == "return" and ev[-2]["data"]["reason"] == "应由住建局办理"


def test_extension_reject_and_guards(w):
    c = w.in_state("accepted")
    assert_error(w.req("POST", "/v1/cases/%d/extension/approve" % c["id"], {}, w.mgr), 409, "illegal_transition")
    w.act(c["id"], "extend", {"workdays": 2, "reason": "等待检测报告"}, w.dept)
    assert_error(w.req("POST", "/v1/cases/%d/extend" % c["id"], {"workdays": 2, "reason": "again"}, w.dept),
                 409, "illegal_transition")
    before = w.get(c["id"])["deadlines"]["finish_by"]
    c = w.act(c["id"], "reject", {"reason": "理由不充分"}, w.mgr)
    assert c["deadlines"]["finish_by"] == before
    assert_error(w.req("POST", "/v1/cases/%d/extension/reject" % c["id"], {}, w.mgr), 409, "illegal_transition")
    for body, field in (({"workdays": 0, "reason": "r"}, "workdays"), ({"workdays": 61, "reason": "r"}, "workdays"),
                        ({"reason": "r"}, "workdays"), ({"workdays": 2}, "reason")):
        reply = w.req("POST", "/v1/cases/%d/extend" % c["id"], body, w.dept)
        assert reply[0] == 422 and reply[2]["error"]["field"] == field, reply


def test_merge(w):
    target = w.dispatched()
    c = w.in_state("pending")
    assert_error(w.req("POST", "/v1/cases/%d/merge" % c["id"], {"into": c["id"]}, w.op), 422, "invalid_field", "into")
    assert_error(w.req("POST", "/v1/cases/%d/merge" % c["id"], {"into": 999999999}, w.op), 422, "invalid_field", "into")
    closed = w.in_state("closed")
    assert_error(w.req("POST", "/v1/cases/%d/merge" % c["id"], {"into": closed["id"]}, w.op), 422, "invalid_field", "into")
    assert_error(w.req("POST", "/v1/cases/%d/merge" % c["id"], {"into": "1"}, w.op), 422, "invalid_field", "into")
    assert_error(w.req("POST", "/v1/cases/%d/merge" % c["id"], {}, w.op), 422, "missing_field", "into")
    m = w.act(c["id"], "merge", {"into": target["id"]}, w.mgr)
    assert m["state"] == "merged" and m["merged_into"] == target["id"]
    assert_error(w.req("POST", "/v1/cases/%d/merge" % target["id"], {"into": c["id"]}, w.op),
                 422, "invalid_field", "into")


def test_action_bodies_are_strict(w):
    c = w.dispatched()
    assert_error(w.req("POST", "/v1/cases/%d/sign" % c["id"], {"note": "x"}, w.dept), 422, "invalid_field", "note")
    assert_error(w.req("POST", "/v1/cases/%d/return" % c["id"], {}, w.dept), 422, "missing_field", "reason")
    assert_error(w.req("POST", "/v1/cases/%d/dispatch" % c["id"], {}, w.op), 422, "missing_field", "department")
    assert_error(w.req("POST", "/v1/cases/%d/supervise" % c["id"], {}, w.mgr), 422, "missing_field", "note")
    assert_error(w.req("POST", "/v1/cases/%d/supervise" % c["id"], {"note": "注" * 1001}, w.mgr),
                 422, "invalid_field", "note")
    assert_error(w.req("POST", "/v1/cases/%d/visit" % c["id"], {"score": 6}, w.op), 422, "invalid_field", "score")
    assert_error(w.req("POST", "/v1/cases/%d/visit" % c["id"], {}, w.op), 422, "missing_field", "score")
    assert_error(w.req("POST", "/v1/cases/%d/reply" % c["id"], {"text": "x", "extra": 1}, w.dept),
                 422, "invalid_field", "extra")
    # an empty body is {} where nothing is required
    status, _, body = w.req("POST", "/v1/cases/%d/sign" % c["id"], None, w.dept,
                            headers={"Content-Type": "application/json"})
    assert status == 200 and body["state"] == "accepted", body
    assert w.get(c["id"])["version"] == 2  # the refusals changed nothing


def test_every_illegal_transition_is_409(w):
    cases = {s: w.in_state(s) for s in STATES}
    for action, allowed in ALLOWED.items():
        for state in STATES:
            if state in allowed or (action == "visit" and state in VISIT_UNSATISFIED):
                continue
            case_id = cases[state]["id"]
            body = valid_body(action, w)
            token = actor_for(action, w)
            if state in ("pending", "answered") and action in DEPT_ACTIONS:
                continue  # no department holds these: a clerk is refused with 403, below
            reply = w.req("POST", "/v1/cases/%d/%s" % (case_id, action), body, token)
            assert_error(reply, 409, "illegal_transition")
            msg = reply[2]["error"]["message"]
            assert action in msg and state in msg, (action, state, msg)
    for state in STATES:
        assert w.get(cases[state]["id"])["state"] == state  # nothing moved
    for action in DEPT_ACTIONS:
        for state in ("pending", "answered"):
            assert_error(w.req("POST", "/v1/cases/%d/%s" % (cases[state]["id"], action), valid_body(action, w),
                               w.dept), 403, "forbidden")
    for action in ("approve", "reject"):
        for state in ("pending", "dispatched", "replied", "answered", "closed", "merged"):
            assert_error(w.req("POST", "/v1/cases/%d/extension/%s" % (cases[state]["id"], action), {}, w.mgr),
                         409, "illegal_transition")


def test_every_legal_transition_lands_where_the_table_says(w):
    for action, allowed in ALLOWED.items():
        for state, target in allowed.items():
            c = w.in_state(state)
            got = w.act(c["id"], action, valid_body(action, w), actor_for(action, w))
            assert got["state"] == target, (action, state, got["state"])
    for state, target in VISIT_UNSATISFIED.items():
        c = w.in_state(state)
        assert w.act(c["id"], "visit", {"score": 2}, w.op)["state"] == target


# --- who may do what ---------------------------------------------------------------------------

WHO = {  # action -> roles allowed (API.md "who"); department means the case's own department
    "dispatch": {"operator", "manager"}, "sign": {"department"}, "return": {"department"},
    "contact": {"department"}, "extend": {"department"}, "approve": {"manager"},
    "reject": {"manager"}, "reply": {"department"}, "visit": {"operator"},
    "supervise": {"manager"}, "merge": {"operator", "manager"},
}


def test_authorization_matrix(w):
    tokens = {"operator": w.op, "manager": w.mgr, "admin": w.admin, "department": w.dept, "other_dept": w.other}
    case = w.dispatched()
    for action, allowed in WHO.items():
        path = "/v1/cases/%d/%s" % (case["id"], action)
        if action in ("approve", "reject"):
            path = "/v1/cases/%d/extension/%s" % (case["id"], action)
        for who, token in tokens.items():
            role = "department" if who == "other_dept" else who
            reply = w.req("POST", path, valid_body(action, w), token)
            if role not in allowed or who == "other_dept":
                assert_error(reply, 403, "forbidden")
            else:
                assert reply[0] != 403, (action, who, reply)
            if reply[0] == 200:
                case = w.dispatched()  # it moved: continue on a fresh one
    # reading: everyone but another department
    c = w.dispatched()
    for who, token in tokens.items():
        for path in ("/v1/cases/%d" % c["id"], "/v1/cases/%d/events" % c["id"]):
            reply = w.req("GET", path, token=token)
            if who == "other_dept":
                assert_error(reply, 403, "forbidden")
            else:
                assert reply[0] == 200, (who, path, reply)
        assert w.req("GET", "/v1/cases?limit=1", token=token)[0] == 200
        inbox = w.req("GET", "/v1/inbox", token=token)
        if who in ("department", "other_dept"):
            assert inbox[0] == 200
        else:
            assert_error(inbox, 403, "forbidden")
    assert_error(w.req("GET", "/v1/cases", token=None), 401, "unauthorized")


# --- privacy -----------------------------------------------------------------------------------

def test_department_never_sees_a_confidential_caller(w):
    district = marker()
    secret = w.dispatched(district=district, caller={"name": "王秘密", "phone": "13912345678", "confidential": True})
    open_ = w.dispatched(district=district, caller={"name": "赵公开", "phone": "13700000000", "confidential": False})
    assert w.get(secret["id"], w.op)["caller"] == {"name": "王秘密", "phone": "13912345678", "confidential": True}
    assert w.get(secret["id"], w.dept)["caller"] == {"confidential": True}
    assert w.get(open_["id"], w.dept)["caller"]["name"] == "赵公开"
    seen = []
    seen.append(w.req("GET", "/v1/cases/%d" % secret["id"], token=w.dept)[2])
    seen.append(w.req("GET", "/v1/cases?" + urlencode({"district": district}), token=w.dept)[2])
    seen.append(w.req("GET", "/v1/inbox?limit=500", token=w.dept)[2])
    seen.append(w.req("GET", "/v1/cases/%d/events" % secret["id"], token=w.dept)[2])
    seen.append(w.act(secret["id"], "sign", {}, w.dept))
    seen.append(w.act(secret["id"], "contact", {"note": "已联系"}, w.dept))
    text = json.dumps(seen, ensure_ascii=False)
    assert "王秘密" not in text and "13912345678" not in text
    assert "赵公开" in text


# --- idempotency -------------------------------------------------------------------------------

def test_idempotency_key(w):
    key = {"Idempotency-Key": "retry-" + os.urandom(8).hex()}
    body = {"text": "重复提交测试", "department": "urban_mgmt"}
    s1, _, first = w.req("POST", "/v1/cases", body, w.op, headers=key)
    s2, _, again = w.req("POST", "/v1/cases", body, w.op, headers=key)
    assert (s1, s2) == (201, 200) and again["id"] == first["id"]
    # the same body written differently is the same request
    s3, _, third = w.req("POST", "/v1/cases", raw=' {"department":"urban_mgmt",  "text":"重复提交测试"}',
                         token=w.op, headers=key)
    assert s3 == 200 and third["id"] == first["id"]
    assert_error(w.req("POST", "/v1/cases", {"text": "另一件事", "department": "urban_mgmt"}, w.op, headers=key),
                 422, "idempotency_mismatch")
    # keys belong to their user
    other_op = w.s.make_user("operator")
    s4, _, other = w.req("POST", "/v1/cases", body, other_op, headers=key)
    assert s4 == 201 and other["id"] != first["id"]
    for bad in ("", "x" * 256, "a\x7fb"):
        assert_error(w.req("POST", "/v1/cases", body, w.op, headers={"Idempotency-Key": bad}),
                     400, "bad_request", "Idempotency-Key")


def test_idempotent_replay_is_the_first_answer_then_the_case_as_it_is(w):
    """A replay right away answers byte for byte what the first request did; after an action
    it answers the same case as it is now (migration 009 stores the case, not the answer)."""
    key = {"Idempotency-Key": "later-" + os.urandom(8).hex()}
    body = {"text": "重放看到最新状态", "department": "urban_mgmt"}
    s1, _, first = w.req("POST", "/v1/cases", body, w.op, headers=key)
    s2, _, again = w.req("POST", "/v1/cases", body, w.op, headers=key)
    assert (s1, s2) == (201, 200) and again == first
    w.act(first["id"], "sign", token=w.dept)
    s3, _, later = w.req("POST", "/v1/cases", body, w.op, headers=key)
    assert s3 == 200 and later["id"] == first["id"] and later["number"] == first["number"]
    assert later["state"] == "accepted" and later["version"] == first["version"] + 1


def test_concurrent_creates_with_one_key_make_one_case(w):
    key = {"Idempotency-Key": "race-" + os.urandom(8).hex()}
    body = {"text": "并发重试", "department": "urban_mgmt", "district": marker()}
    results = []

    def go():
        results.append(w.req("POST", "/v1/cases", body, w.op, headers=key))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] * 7 + [201], statuses
    assert len({r[2]["id"] for r in results}) == 1
    assert len(w.listing(district=body["district"])["items"]) == 1


# --- races and versions --------------------------------------------------------------------------

def test_eight_concurrent_signs_one_wins(w):
    c = w.dispatched()
    results = []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        results.append(w.req("POST", "/v1/cases/%d/sign" % c["id"], {}, w.dept))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] + [409] * 7, statuses
    for r in results:
        if r[0] == 409:
            assert r[2]["error"]["code"] == "illegal_transition"
    assert [e["action"] for e in w.events(c["id"])] == ["create", "sign"]


def test_if_match(w):
    c = w.dispatched()
    assert_error(w.req("POST", "/v1/cases/%d/sign" % c["id"], {}, w.dept, headers={"If-Match": "7"}),
                 409, "version_conflict")
    assert_error(w.req("POST", "/v1/cases/%d/sign" % c["id"], {}, w.dept, headers={"If-Match": "abc"}),
                 400, "bad_request")
    signed = w.act(c["id"], "sign", {}, w.dept, headers={"If-Match": str(c["version"])})
    assert signed["version"] == c["version"] + 1
    contacted = w.act(c["id"], "contact", {}, w.dept, headers={"If-Match": '"%d"' % signed["version"]})
    assert contacted["version"] == signed["version"] + 1


# --- listing -----------------------------------------------------------------------------------

def test_pagination_has_no_gaps_or_overlaps(w):
    district = marker()
    made = [w.dispatched(district=district)["id"] for _ in range(23)]
    seen, cursor, pages = [], None, 0
    while True:
        page = w.listing(district=district, limit=5, **({"after": cursor} if cursor else {}))
        pages += 1
        assert len(page["items"]) <= 5
        seen += [x["id"] for x in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert pages == 5
    assert seen == sorted(made, reverse=True)  # newest first, each exactly once
    assert w.listing(district=district)["next"] is None
    assert len(w.listing(district=district, limit=500)["items"]) == 23


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=abc", "limit=-1", "after=abc", "after=0",
                                   "state=open", "type=bogus", "channel=fax", "urgent=yes", "overdue=1",
                                   "from=2026-13-01", "to=2026-02-30", "from=20260101", "q=" + "%E9%95%BF" * 201])
def test_bad_list_parameters(w, query):
    assert_error(w.req("GET", "/v1/cases?" + query, token=w.mgr), 400, "bad_request")


def test_list_filters(w):
    district = marker()
    a = w.dispatched(district=district, type="help", channel="web", urgent=True, text="井盖丢失 百分之50%_折扣")
    b = w.create(district=district, department="housing", type="consult", channel="phone")
    c = w.in_state("answered", district=district)
    def ids(**params):
        return [x["id"] for x in w.listing(district=district, **params)["items"]]

    assert ids(limit=50) == [c["id"], b["id"], a["id"]]
    assert ids(state="answered") == [c["id"]]
    assert ids(department="housing") == [b["id"]]
    assert ids(type="help") == [a["id"]]
    assert ids(channel="web") == [a["id"]]
    assert ids(urgent="true") == [a["id"]]
    assert ids(q="井盖") == [a["id"]]
    assert ids(q="50%_") == [a["id"]]  # wildcards are literal
    assert ids(q="5%%") == []
    today = c["created_at"][:10]
    assert ids(**{"from": today}) == [c["id"], b["id"], a["id"]]
    assert ids(to=today) == []
    assert ids(**{"from": "2000-01-01", "to": "2000-01-02"}) == []
    for x in w.listing(overdue="true", limit=500)["items"]:
        assert x["overdue"] is True


def test_department_lists_only_its_own_cases(w):
    district = marker()
    mine = w.dispatched(district=district)
    w.create(district=district, department="housing")
    w.in_state("answered", district=district)
    got = w.listing(token=w.dept, district=district)["items"]
    assert [x["id"] for x in got] == [mine["id"]]
    assert w.listing(token=w.dept, district=district, department="housing")["items"] == []
    for x in w.listing(token=w.dept, limit=500)["items"]:
        assert x["department"] == "urban_mgmt"


# --- inbox ---------------------------------------------------------------------------------------

def test_inbox(w):
    dept = w.s.make_user("department", "water_supply")
    urgent = w.create(department="water_supply", urgent=True, text="停水")
    normal = w.create(department="water_supply", text="水压低")
    replied = w.create(department="water_supply", text="水费")
    w.act(replied["id"], "sign", {}, dept)
    w.act(replied["id"], "reply", {"text": "已解释"}, dept)
    status, _, box = w.req("GET", "/v1/inbox", token=dept)
    assert status == 200 and box["next"] is None
    # the department's inbox holds the cases other test files left it too (the database is the
    # session's): this test's, in the inbox's order
    ours = {urgent["id"], normal["id"], replied["id"]}
    mine = [x for x in box["items"] if x["id"] in ours]
    assert [x["id"] for x in mine] == [urgent["id"], normal["id"]]  # the urgent clock ends first; replied is not open
    for x in mine:
        assert isinstance(x["due_in_minutes"], int) and x["overdue"] is False
    assert all(x["department"] == "water_supply" for x in box["items"])
    assert mine[0]["due_in_minutes"] <= mine[1]["due_in_minutes"]
    # pages of one walk the inbox in the same order, the last one without a next
    walked, after = [], None
    for _ in range(len(box["items"])):
        page = w.req("GET", "/v1/inbox?limit=1" + ("&after=" + after if after else ""), token=dept)[2]
        assert len(page["items"]) == 1
        walked.append(page["items"][0]["id"])
        after = page["next"]
        if after is None:
            break
    assert walked == [x["id"] for x in box["items"]] and after is None
    assert_error(w.req("GET", "/v1/inbox?after=junk", token=dept), 400, "bad_request")
    assert_error(w.req("GET", "/v1/inbox?limit=0", token=dept), 400, "bad_request")


# --- the inbox page is rendered by the server (issue #6): each item is the case as GET shows it --

# Every character class JSON escapes differently: quotes, backslashes, the short escapes, other
# control characters (\u00xx), DEL and slash (as they are), emoji and CJK (UTF-8, not \u escapes).
TRICKY = 'say "hi" \\ back\\slash\nline\r\ttab\b\f\x01\x1f\x7f </x> 😀 占道摆摊 é'


@pytest.fixture(scope="module")
def inbox_world(pg, make_server):
    """A server of its own (its SLA policy changes) with urban_mgmt cases in every open state and
    shape, and a few that are not open. Returns (World, {name: case id} of the open ones, the
    ids of the others)."""
    w = World(make_server(pg))
    status, _, body = w.req("PUT", "/v1/sla", {
        "rules": [{"type": "*", "urgent": True, "sign": "1s", "contact": "2h", "finish": "24h"},
                  {"type": "consult", "urgent": False, "sign": "1wd", "contact": "1wd", "finish": "2wd"},
                  {"type": "*", "urgent": False, "sign": "1wd", "contact": "2wd", "finish": "10wd"}],
        "rectify": "5wd", "warn_at": 0.75}, token=w.admin)
    assert status == 200, body
    status, _, rule = w.req("POST", "/v1/rules", {
        "name": "收件箱" + TRICKY[:8], "priority": 1, "department": "urban_mgmt",
        "match": {"any": ["收件箱测试词"]}}, token=w.admin)
    assert status == 201, rule
    cases = {}

    def accepted(**fields):
        c = w.dispatched(**fields)
        return w.act(c["id"], "sign", {}, w.dept)

    cases["late"] = w.dispatched(urgent=True, text="紧急：井盖缺失")  # sign_by in 1 s: overdue below
    cases["tricky"] = w.dispatched(
        title=TRICKY, text=TRICKY + "\n正文", district="驿城区", address='风光路"与"解放路\\口',
        lat=32.98, lon=114.02, category="urban_mgmt.01", channel="wechat", type="help",
        caller={"name": "张\"先生\"\n", "phone": "13800000000", "confidential": False})
    cases["secret"] = w.dispatched(caller={"name": "王秘密", "phone": "13912345678", "confidential": True},
                                   lat=-89.5, lon=-179.25)
    cases["tiny"] = w.dispatched(lat=0.00001, lon=-0.5, type="consult")  # PostgreSQL prints 1e-05
    cases["rule"] = w.create(text="收件箱测试词：路灯不亮")
    assert cases["rule"]["routing"]["method"] == "rule", cases["rule"]
    cases["contacted"] = w.act(accepted()["id"], "contact", {"note": "已联系"}, w.dept)
    cases["ext_pending"] = w.act(accepted()["id"], "extend", {"workdays": 3, "reason": "需协调\n多部门"}, w.dept)
    c = w.act(accepted()["id"], "extend", {"workdays": 2, "reason": "等待检测"}, w.dept)
    cases["ext_approved"] = w.act(c["id"], "approve", {"note": "同意"}, w.mgr)
    c = w.act(accepted(caller={"name": "李"})["id"], "extend", {"workdays": 9, "reason": "x"}, w.dept)
    cases["ext_rejected"] = w.act(c["id"], "reject", {"reason": "理由不足"}, w.mgr)
    # replied, then reopened by an unsatisfied visit: reply and satisfaction both shown
    c = accepted(caller={"name": "赵", "phone": "137", "confidential": True})
    w.act(c["id"], "reply", {"text": '已处理\t"完毕"', "resolved": True}, w.dept)
    c = w.act(c["id"], "visit", {"score": 1, "resolved": False, "comment": "没有解决😞"}, w.op)
    assert c["state"] == "reopened", c
    w.act(c["id"], "contact", {"note": "再次联系"}, w.dept)
    cases["reopened"] = w.act(c["id"], "extend", {"workdays": 1, "reason": "整改中"}, w.dept)
    # answered by the hotline, not satisfied, then dispatched: the answer stays
    c = w.create(answer="已在电话中答复\\完毕")
    c = w.act(c["id"], "visit", {"score": 2, "resolved": False}, w.op)
    cases["answered_then_dispatched"] = w.act(c["id"], "dispatch", {"department": "urban_mgmt"}, w.op)
    c = w.dispatched()
    w.act(c["id"], "return", {"reason": "非本单位职责"}, w.dept)
    cases["returned_then_dispatched"] = w.act(c["id"], "dispatch", {"department": "urban_mgmt"}, w.op)
    c = w.dispatched()
    cases["supervised"] = w.act(c["id"], "supervise", {"note": "请尽快"}, w.mgr)
    closed = [w.in_state(s) for s in ("pending", "replied", "closed", "merged", "answered")]
    cases["merge_target"] = w.get(closed[3]["merged_into"])  # open: merged into, not merged
    closed.append(w.create(department="housing"))
    assert w.req("DELETE", "/v1/rules/%d" % rule["id"], token=w.admin)[0] in (200, 204)
    time.sleep(1.5)  # "late" passes its sign_by
    return w, {k: c["id"] for k, c in cases.items()}, [c["id"] for c in closed]


def inbox_page(w, **params):
    status, _, body = w.req("GET", "/v1/inbox?" + urlencode(params), token=w.dept)
    assert status == 200, body
    assert set(body) == {"items", "next"}, body
    return body


def nearest_open_deadline(c):
    """The ordering key of the inbox, from the case as GET shows it (deadlines are whole seconds)."""
    ts, d = c["timestamps"], c["deadlines"]
    open_ = [d["sign_by"] if ts["signed_at"] is None else None,
             d["contact_by"] if ts["contacted_at"] is None else None,
             d["finish_by"] if ts["replied_at"] is None else None]
    return min(datetime.datetime.fromisoformat(x) for x in open_ if x)


def test_inbox_items_are_the_cases_as_get_shows_them(inbox_world):
    w, cases, closed = inbox_world
    box = inbox_page(w, limit=500)
    assert box["next"] is None
    items = {x["id"]: x for x in box["items"]}
    assert set(items) == set(cases.values()) and not set(items) & set(closed)
    now = datetime.datetime.now(datetime.timezone.utc)
    for name, cid in cases.items():
        item = dict(items[cid])
        due = item.pop("due_in_minutes")
        assert item.pop("role") == "lead", name
        got = w.get(cid, token=w.dept)
        assert item == got, name
        expect = (nearest_open_deadline(got) - now).total_seconds() / 60
        assert isinstance(due, int) and expect - 2 <= due <= expect + 1, (name, due, expect)
    late = items[cases["late"]]
    assert late["overdue"] is True and late["due_in_minutes"] < 0, late
    assert items[cases["tricky"]]["title"] == TRICKY
    assert items[cases["tricky"]]["caller"] == {"name": "张\"先生\"\n", "phone": "13800000000",
                                                "confidential": False}
    for name in ("secret", "reopened"):
        assert items[cases[name]]["caller"] == {"confidential": True}, name
    assert items[cases["tiny"]]["lat"] == 0.00001 and items[cases["secret"]]["lon"] == -179.25
    assert items[cases["reopened"]]["satisfaction"] == {"score": 1, "resolved": False, "comment": "没有解决😞"}
    assert items[cases["reopened"]]["reply"] == {"text": '已处理\t"完毕"', "resolved": True}
    assert items[cases["ext_pending"]]["extension"]["state"] == "pending"
    assert items[cases["ext_approved"]]["extension"]["state"] == "approved"
    assert items[cases["ext_rejected"]]["extension"]["state"] == "rejected"
    assert items[cases["answered_then_dispatched"]]["answer"] == "已在电话中答复\\完毕"
    assert items[cases["returned_then_dispatched"]]["returns"] == 1
    assert items[cases["rule"]]["routing"]["rule_name"].startswith("收件箱")


def test_inbox_body_is_utf8_with_escaped_control_characters(inbox_world):
    w = inbox_world[0]
    conn = http.client.HTTPConnection("127.0.0.1", w.s.port, timeout=30)
    try:
        conn.request("GET", "/v1/inbox?limit=500", headers={"Authorization": "Bearer " + w.dept})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/json; charset=utf-8"
    text = raw.decode("utf-8")  # strict: the body is valid UTF-8
    assert '"say \\"hi\\" \\\\ back\\\\slash\\nline\\r\\ttab\\b\\f\\u0001\\u001f\x7f </x> 😀 占道摆摊 é"' in text
    assert "\\ud83d" not in text and "王秘密" not in text and "13912345678" not in text


def test_inbox_orders_by_nearest_deadline_and_pages_with_after(inbox_world):
    w, cases, _ = inbox_world
    full = inbox_page(w, limit=500)["items"]
    keys = [(nearest_open_deadline(x), x["id"]) for x in full]
    assert keys == sorted(keys) and full[0]["id"] == cases["late"]
    ids = [x["id"] for x in full]
    for limit in (1, 3, 5, len(ids) - 1):
        got, after, pages = [], None, 0
        while True:
            params = {"limit": limit, **({"after": after} if after else {})}
            page = inbox_page(w, **params)
            assert 1 <= len(page["items"]) <= limit, (limit, page)
            got += [x["id"] for x in page["items"]]
            pages += 1
            after = page["next"]
            if after is None:
                break
            assert re.fullmatch(r"(inf|[0-9]{1,18})\.[0-9]{1,18}", after), after
            assert after.endswith(".%d" % got[-1])
        assert got == ids, limit
        assert pages == -(-len(ids) // limit), limit
    # exactly one page of them all: no next; after the last case: an empty page
    whole = inbox_page(w, limit=len(ids))
    assert [x["id"] for x in whole["items"]] == ids and whole["next"] is None
    last = inbox_page(w, limit=len(ids) - 1)
    assert inbox_page(w, after=last["next"], limit=1)["next"] is None
    assert inbox_page(w, after="inf.0") == {"items": [], "next": None}
    assert [x["id"] for x in inbox_page(w, after="0.0", limit=500)["items"]] == ids


@pytest.mark.parametrize("after", ["junk", "1.2.3", "inf.", ".5", "5", "1234567890123456789.1",
                                   "1.1234567890123456789", "-1.5", "inf.x", "Inf.1", "1 .1", "１.1"])
def test_inbox_refuses_a_cursor_it_did_not_give(inbox_world, after):
    w = inbox_world[0]
    assert_error(w.req("GET", "/v1/inbox?" + urlencode({"after": after}), token=w.dept), 400, "bad_request",
                 "after")
