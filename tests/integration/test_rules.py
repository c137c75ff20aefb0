"""Routing (docs/API.md section 3): the rules API with validation and roles, the dry run
(POST /v1/route) on the shipped default rules, rule changes taking effect at once on this
server and through NOTIFY on a second server of the same database, per-rule dispatch
accuracy (派单准确率) counted from created and returned cases, departments and categories.

Tests that change rules, departments or categories run on their own database (the `world`
fixture: two servers on it), so the shared server keeps the shipped defaults."""
import os
from urllib.parse import quote

import pytest

from api_errors import assert_error
from polling import wait_for

TYPES = ["consult", "complaint", "help", "report", "suggestion", "praise"]
RULE_KEYS = {"id", "name", "priority", "enabled", "department", "match", "stats"}
MATCH_KEYS = {"any", "all", "none", "districts", "types", "channels", "categories"}
ROUTE_KEYS = {"department", "method", "rule_id", "rule_name", "matched", "suggestion"}


def word():
    """A keyword no default rule and no other test contains: rare CJK (Extension A) characters,
    no ASCII, which rules match case-insensitively."""
    return "".join(chr(0x3400 + b * 24 + i) for i, b in enumerate(os.urandom(8)))


def rule_body(keyword, department="health", **over):
    body = {"name": "测试" + keyword[-6:], "priority": 5, "department": department,
            "match": {"any": [keyword]}}
    body.update(over)
    return body


def route(server, token, **case):
    status, _, body = server.request("POST", "/v1/route", case, token=token)
    assert status == 200, (case, status, body)
    assert set(body) == ROUTE_KEYS, body
    return body


class World:
    """Two servers on one fresh database, with tokens of every role on the first."""

    def __init__(self, pg, make_server):
        self.s = make_server(pg)
        self.s2 = make_server(pg, self.s.db)
        self.admin = self.s.admin_token
        self.manager = self.s.make_user("manager")
        self.op = self.s.make_user("operator")
        self.dept = self.s.make_user("department", "urban_mgmt")

    def req(self, method, path, body=None, token=None):
        return self.s.request(method, path, body, token=token or self.admin)

    def add_rule(self, body):
        status, _, rule = self.req("POST", "/v1/rules", body)
        assert status == 201, (body, status, rule)
        return rule

    def create_case(self, **fields):
        status, _, case = self.req("POST", "/v1/cases", fields, token=self.op)
        assert status == 201, (fields, status, case)
        return case


@pytest.fixture(scope="module")
def w(pg, make_server):
    return World(pg, make_server)


# --- the dry run on the shipped default rules (shared server, read only) ---------------------

@pytest.mark.parametrize("text, department", [
    ("我家小区旁边的工地每天晚上十一点以后还在施工，噪音太大，吵得孩子睡不着", "housing"),
    ("楼上邻居每天半夜拖桌子，噪音特别大，沟通多次无果", "public_security"),
    ("附近的化工厂排放刺鼻的气味，味道很难闻，晚上更严重", "ecology_env"),
    ("我们小区的电梯经常出故障，昨天又困人了，物业也不管", "market_regulation"),
    ("楼下新开的饭店油烟直排，熏得我们家没法开窗", "urban_mgmt"),
])
def test_default_rules_settle_the_boundary_cases(server, text, department):
    op = server.make_user("operator")
    got = route(server, op, text=text)
    assert got["department"] == department, got
    assert got["method"] == "rule", got
    assert isinstance(got["rule_id"], int) and got["rule_id"] > 0, got
    assert isinstance(got["rule_name"], str) and got["rule_name"], got
    assert got["matched"] and all(isinstance(k, str) and k for k in got["matched"]), got
    # each matched keyword occurs in the text
    assert all(k.lower() in text.lower() for k in got["matched"]), got


def test_dry_run_without_a_match_category_department_and_answer(server):
    op = server.make_user("operator")
    none = route(server, op, text=word())
    none.pop("suggestion")  # the model's view (test_learned_routing)
    assert none == {"department": None, "method": "none", "rule_id": None, "rule_name": None,
                    "matched": []}
    by_category = route(server, op, text=word(), category="housing.01")
    by_category.pop("suggestion")
    assert by_category == {"department": "housing", "method": "category", "rule_id": None,
                           "rule_name": None, "matched": []}
    manual = route(server, op, text="楼下饭店油烟太大", department="health")
    assert manual["department"] == "health" and manual["method"] == "manual", manual
    answered = route(server, op, text="楼下饭店油烟太大", answer="已告知市民投诉渠道")
    assert answered["department"] is None and answered["method"] == "none", answered


def test_dry_run_is_open_to_every_role_and_creates_nothing(server):
    text = "楼下饭店油烟太大" + word()
    for role in ("operator", "department", "manager", "admin"):
        token = server.admin_token if role == "admin" else server.make_user(role)
        assert route(server, token, text=text)["department"] == "urban_mgmt"
    status, _, body = server.request("GET", "/v1/cases?q=" + quote(text[-8:]), token=server.admin_token)
    assert status == 200 and body["items"] == [], body
    assert_error(server.request("POST", "/v1/route", {"text": "x"}), 401, "unauthorized")


@pytest.mark.parametrize("body, status, code, field", [
    ({}, 422, "missing_field", "text"),
    ({"title": "只有标题"}, 422, "missing_field", "text"),
    ({"text": ""}, 422, "invalid_field", "text"),
    ({"text": "x", "colour": "red"}, 422, "invalid_field", "colour"),
    ({"text": "x", "type": "gossip"}, 422, "invalid_field", "type"),
    ({"text": "x", "channel": "pigeon"}, 422, "invalid_field", "channel"),
    ({"text": "x", "category": "housing.99"}, 422, "invalid_field", "category"),
    ({"text": "x", "department": "no_such_department"}, 422, "invalid_field", "department"),
])
def test_dry_run_validates_like_create(server, body, status, code, field):
    assert_error(server.request("POST", "/v1/route", body, token=server.admin_token),
                 status, code, field)


def test_dry_run_bad_json(server):
    for raw in ("{", "[1]", '"text"'):
        assert_error(server.request("POST", "/v1/route", raw=raw, token=server.admin_token),
                     400, "bad_json")


def test_dry_run_honours_type_channel_and_district_filters(w):
    kw = word()
    w.add_rule(rule_body(kw, "health", priority=3, match={"any": [kw], "types": ["consult"]}))
    w.add_rule(rule_body(kw, "education", priority=4, match={"any": [kw], "channels": ["web"],
                                                             "districts": ["驿城区"]}))
    assert route(w.s, w.op, text=kw, type="consult")["department"] == "health"
    assert route(w.s, w.op, text=kw, channel="web", district="驿城区")["department"] == "education"
    assert route(w.s, w.op, text=kw, channel="web")["department"] is None
    assert route(w.s, w.op, text=kw)["department"] is None  # phone, complaint, no district


# --- rules: CRUD, validation, roles ------------------------------------------------------------

def test_rule_crud_round_trip(w):
    kw = word()
    created = w.add_rule(rule_body(kw, "health", match={"any": [kw], "none": ["不算"]}))
    assert set(created) == RULE_KEYS and set(created["match"]) == MATCH_KEYS, created
    assert created["enabled"] is True and created["priority"] == 5, created
    assert created["match"]["any"] == [kw] and created["match"]["none"] == ["不算"], created
    assert created["match"]["all"] == [] and created["match"]["categories"] == [], created
    assert created["stats"] == {"dispatched": 0, "returned": 0, "accuracy": None}, created
    rid = created["id"]

    status, _, listing = w.req("GET", "/v1/rules")
    assert status == 200 and [r for r in listing["items"] if r["id"] == rid] == [created]
    assert len(listing["items"]) > 100  # the shipped defaults are there too
    status, _, one = w.req("GET", "/v1/rules/%d" % rid)
    assert (status, one) == (200, created)

    # PUT merges: absent fields keep their values; "match" replaces all lists
    status, _, put = w.req("PUT", "/v1/rules/%d" % rid, {"priority": 7, "name": "改名"})
    assert status == 200, put
    assert put == dict(created, priority=7, name="改名"), put
    status, _, put = w.req("PUT", "/v1/rules/%d" % rid, {"match": {"any": [kw, kw + "乙"]}})
    assert status == 200 and put["match"]["none"] == [] and put["match"]["any"] == [kw, kw + "乙"]
    # what GET gives can be PUT back unchanged (stats and id are read-only)
    status, _, again = w.req("PUT", "/v1/rules/%d" % rid, put)
    assert (status, again) == (200, put)

    status, _, deleted = w.req("DELETE", "/v1/rules/%d" % rid)
    assert status == 200 and deleted["id"] == rid, deleted
    assert_error(w.req("GET", "/v1/rules/%d" % rid), 404, "not_found")
    assert_error(w.req("DELETE", "/v1/rules/%d" % rid), 404, "not_found")
    assert_error(w.req("PUT", "/v1/rules/%d" % rid, {"priority": 1}), 404, "not_found")
    assert route(w.s, w.op, text=kw)["department"] is None
    assert_error(w.req("GET", "/v1/rules/abc"), 400, "bad_request")
    assert_error(w.req("PATCH", "/v1/rules/1"), 405, "method_not_allowed")


def keywords(n):
    return ["词%04d" % i for i in range(n)]


@pytest.mark.parametrize("body, code, field", [
    ({"department": "health", "match": {"any": ["甲"]}}, "missing_field", "name"),
    ({"name": "x", "match": {"any": ["甲"]}}, "missing_field", "department"),
    ({"name": "x", "department": "health"}, "missing_field", "match"),
    ({"name": "x", "department": "no_such_department", "match": {"any": ["甲"]}},
     "invalid_field", "department"),
    ({"name": "", "department": "health", "match": {}}, "invalid_field", "name"),
    ({"name": "x" * 101, "department": "health", "match": {}}, "invalid_field", "name"),
    ({"name": "x", "department": "health", "match": {"any": [""]}}, "invalid_field", "match.any"),
    ({"name": "x", "department": "health", "match": {"all": ["  "]}}, "invalid_field", "match.all"),
    ({"name": "x", "department": "health", "match": {"none": [1]}}, "invalid_field", "match.none"),
    ({"name": "x", "department": "health", "match": {"any": keywords(201)}},
     "invalid_field", "match.any"),
    ({"name": "x", "department": "health", "match": {"any": "甲"}}, "invalid_field", "match.any"),
    ({"name": "x", "department": "health", "match": {"types": ["gossip"]}},
     "invalid_field", "match.types"),
    ({"name": "x", "department": "health", "match": {"channels": ["fax"]}},
     "invalid_field", "match.channels"),
    ({"name": "x", "department": "health", "match": {"colour": []}}, "invalid_field", "match.colour"),
    ({"name": "x", "department": "health", "match": {}, "colour": 1}, "invalid_field", "colour"),
    ({"name": "x", "department": "health", "match": {}, "priority": -1}, "invalid_field", "priority"),
    ({"name": "x", "department": "health", "match": {}, "priority": "1"}, "invalid_field", "priority"),
    ({"name": "x", "department": "health", "match": {}, "enabled": "yes"}, "invalid_field", "enabled"),
])
def test_rule_validation(w, body, code, field):
    before = w.req("GET", "/v1/rules/1")
    assert_error(w.req("POST", "/v1/rules", body), 422, code, field)
    # PUT merges the body over the stored rule: nothing is missing there, the rest is refused alike
    if code == "invalid_field":
        assert_error(w.req("PUT", "/v1/rules/1", body), 422, code, field)
    assert w.req("GET", "/v1/rules/1")[::2] == before[::2]


def test_rule_limits_are_inclusive(w):
    rule = w.add_rule({"name": "x" * 100, "department": "health", "enabled": False,
                       "match": {"any": keywords(200), "all": ["长" * 50]}})
    assert len(rule["match"]["any"]) == 200 and rule["enabled"] is False
    for raw in ("[]", "{", '{"name": "x"} 1'):
        assert_error(w.s.request("POST", "/v1/rules", raw=raw, token=w.admin), 400, "bad_json")
    w.req("DELETE", "/v1/rules/%d" % rule["id"])


def test_rule_roles(w):
    kw = word()
    for token in (w.manager, w.op, w.dept):
        assert_error(w.req("POST", "/v1/rules", rule_body(kw), token=token), 403, "forbidden")
        assert_error(w.req("PUT", "/v1/rules/1", {"priority": 1}, token=token), 403, "forbidden")
        assert_error(w.req("DELETE", "/v1/rules/1", token=token), 403, "forbidden")
    for token in (w.op, w.dept):
        assert_error(w.req("GET", "/v1/rules", token=token), 403, "forbidden")
        assert_error(w.req("GET", "/v1/rules/1", token=token), 403, "forbidden")
    status, _, listing = w.req("GET", "/v1/rules", token=w.manager)
    assert status == 200 and listing["items"], listing
    assert_error(w.s.request("GET", "/v1/rules"), 401, "unauthorized")


# --- rule changes take effect at once, here and on the other server ---------------------------

def test_rule_change_takes_effect_here_at_once_and_on_the_second_server(w):
    for _ in range(3):
        kw = word()
        assert route(w.s2, w.op, text=kw)["department"] is None
        rule = w.add_rule(rule_body(kw, "health"))
        got = route(w.s, w.op, text="市民反映" + kw)
        assert (got["department"], got["rule_id"], got["matched"]) == ("health", rule["id"], [kw])
        assert wait_for(lambda: route(w.s2, w.op, text=kw)["rule_id"] == rule["id"],
                        timeout=2.5), "the second server did not pick up the new rule"

        status, _, _ = w.req("PUT", "/v1/rules/%d" % rule["id"], {"department": "education"})
        assert status == 200
        assert route(w.s, w.op, text=kw)["department"] == "education"
        assert wait_for(lambda: route(w.s2, w.op, text=kw)["department"] == "education",
                        timeout=2.5)

        status, _, _ = w.req("PUT", "/v1/rules/%d" % rule["id"], {"enabled": False})
        assert status == 200
        assert route(w.s, w.op, text=kw)["department"] is None
        assert wait_for(lambda: route(w.s2, w.op, text=kw)["department"] is None,
                        timeout=2.5)
        w.req("DELETE", "/v1/rules/%d" % rule["id"])


def test_priority_then_keyword_count_then_id(w):
    a, b = word(), word()
    first = w.add_rule(rule_body(a, "health", priority=10, match={"any": [a]}))
    second = w.add_rule(rule_body(a, "education", priority=10, match={"any": [a, b]}))
    assert route(w.s, w.op, text=a)["rule_id"] == first["id"]  # tie: lower id
    assert route(w.s, w.op, text=a + b)["rule_id"] == second["id"]  # more keywords
    w.req("PUT", "/v1/rules/%d" % first["id"], {"priority": 9})
    assert route(w.s, w.op, text=a + b)["rule_id"] == first["id"]  # lower priority wins
    for r in (first, second):
        w.req("DELETE", "/v1/rules/%d" % r["id"])


def test_cases_are_routed_by_the_rules_in_force(w):
    kw = word()
    rule = w.add_rule(rule_body(kw, "civil_affairs"))
    case = w.create_case(text="来电反映" + kw)
    assert case["state"] == "dispatched" and case["department"] == "civil_affairs", case
    assert case["routing"] == {"method": "rule", "rule_id": rule["id"], "rule_name": rule["name"]}
    w.req("DELETE", "/v1/rules/%d" % rule["id"])
    case = w.create_case(text="来电反映" + kw)
    assert case["state"] == "pending" and case["routing"]["method"] == "none", case


# --- dispatch accuracy per rule ----------------------------------------------------------------

def stats(w, rule_id, token=None):
    status, _, rule = w.req("GET", "/v1/rules/%d" % rule_id, token=token)
    assert status == 200, rule
    status, _, listing = w.req("GET", "/v1/rules", token=token)
    assert [r["stats"] for r in listing["items"] if r["id"] == rule_id] == [rule["stats"]]
    return rule["stats"]


def test_rule_stats_count_dispatched_and_returned(w):
    kw = word()
    rule = w.add_rule(rule_body(kw, "urban_mgmt"))
    cases = [w.create_case(text="占道经营" + kw) for _ in range(4)]
    assert all(c["routing"]["rule_id"] == rule["id"] for c in cases), cases
    # neither a manual dispatch nor an unmatched case counts for the rule
    w.create_case(text=kw, department="urban_mgmt")
    w.create_case(text=word())
    assert stats(w, rule["id"]) == {"dispatched": 4, "returned": 0, "accuracy": 1.0}

    status, _, back = w.req("POST", "/v1/cases/%d/return" % cases[0]["id"], {"reason": "不属于本单位"},
                            token=w.dept)
    assert status == 200 and back["state"] == "pending", back
    assert stats(w, rule["id"], token=w.manager) == {"dispatched": 4, "returned": 1, "accuracy": 0.75}

    # the returned case, dispatched again by hand and returned again, still counts once
    status, _, again = w.req("POST", "/v1/cases/%d/dispatch" % cases[0]["id"],
                             {"department": "urban_mgmt"}, token=w.op)
    assert status == 200, again
    status, _, _ = w.req("POST", "/v1/cases/%d/return" % cases[0]["id"], {"reason": "仍不属于"},
                         token=w.dept)
    assert status == 200
    # a case signed first and then returned counts as returned too
    status, _, _ = w.req("POST", "/v1/cases/%d/sign" % cases[1]["id"], {}, token=w.dept)
    assert status == 200
    status, _, _ = w.req("POST", "/v1/cases/%d/return" % cases[1]["id"], {"reason": "x"}, token=w.dept)
    assert status == 200
    assert stats(w, rule["id"]) == {"dispatched": 4, "returned": 2, "accuracy": 0.5}

    # deleting and editing the rule: the stats of an edited rule stay with its id
    status, _, edited = w.req("PUT", "/v1/rules/%d" % rule["id"], {"priority": 6})
    assert edited["stats"] == {"dispatched": 4, "returned": 2, "accuracy": 0.5}, edited


# --- departments and categories ----------------------------------------------------------------

def test_departments_and_categories_are_listed_for_every_role(server):
    for role in ("operator", "department", "manager", "admin"):
        token = server.admin_token if role == "admin" else server.make_user(role)
        status, _, deps = server.request("GET", "/v1/departments", token=token)
        assert status == 200, deps
        codes = [d["code"] for d in deps["items"]]
        assert len(codes) >= 22 and codes[:2] == ["urban_mgmt", "housing"], codes
        assert set(deps["items"][0]) == {"code", "name", "name_en", "enabled", "position"}
        status, _, cats = server.request("GET", "/v1/categories", token=token)
        assert status == 200, cats
        first = cats["items"][0]
        assert first == {"code": "urban_mgmt.01", "name": first["name"], "department": "urban_mgmt",
                         "enabled": True, "position": 1}, first
        assert all(c["code"].startswith(c["department"] + ".") for c in cats["items"])
    status, _, housing = server.request("GET", "/v1/categories?department=housing",
                                        token=server.admin_token)
    assert status == 200 and {c["department"] for c in housing["items"]} == {"housing"}
    assert_error(server.request("GET", "/v1/departments"), 401, "unauthorized")


def test_department_and_category_admin(w):
    code = "dept_" + os.urandom(4).hex()
    status, _, dep = w.req("POST", "/v1/departments", {"code": code, "name": "市人防办"})
    assert status == 201, dep
    assert dep["code"] == code and dep["enabled"] is True and dep["name_en"] == "", dep
    assert_error(w.req("POST", "/v1/departments", {"code": code, "name": "again"}),
                 422, "invalid_field", "code")
    status, _, dep = w.req("PUT", "/v1/departments/" + code, {"name_en": "Civil Defence", "position": 99})
    assert status == 200 and dep["name_en"] == "Civil Defence" and dep["position"] == 99, dep
    assert dep["name"] == "市人防办", dep

    status, _, c1 = w.req("POST", "/v1/categories", {"department": code, "name": "人防工程"})
    assert status == 201 and c1["code"] == code + ".01" and c1["department"] == code, c1
    status, _, c2 = w.req("POST", "/v1/categories", {"department": code, "name": "防空警报"})
    assert status == 201 and c2["code"] == code + ".02", c2
    status, _, c9 = w.req("POST", "/v1/categories", {"department": code, "name": "x", "code": code + ".09"})
    assert status == 201 and c9["code"] == code + ".09", c9
    status, _, c10 = w.req("POST", "/v1/categories", {"department": code, "name": "y"})
    assert status == 201 and c10["code"] == code + ".10", c10

    # the new category routes at once here and on the other server, and cases use it
    kw = word()
    assert route(w.s, w.op, text=kw, category=c2["code"])["department"] == code
    assert wait_for(lambda: w.s2.request("POST", "/v1/route", {"text": kw, "category": c2["code"]},
                                         token=w.op)[2].get("department") == code,
                    timeout=2.5)
    case = w.create_case(text=kw, category=c2["code"])
    assert case["department"] == code and case["routing"]["method"] == "category", case

    # moving a category to another department moves its default
    status, _, moved = w.req("PUT", "/v1/categories/" + c2["code"], {"department": "health"})
    assert status == 200 and moved["department"] == "health" and moved["code"] == c2["code"]
    assert route(w.s, w.op, text=kw, category=c2["code"])["department"] == "health"

    # a disabled department gets nothing routed to it
    rule = w.add_rule(rule_body(kw, code))
    assert route(w.s, w.op, text=kw)["department"] == code
    status, _, dep = w.req("PUT", "/v1/departments/" + code, {"enabled": False})
    assert status == 200 and dep["enabled"] is False
    assert route(w.s, w.op, text=kw, category=c1["code"])["department"] is None
    assert_error(w.req("POST", "/v1/rules", rule_body(kw, code)), 422, "invalid_field", "department")
    w.req("PUT", "/v1/departments/" + code, {"enabled": True})
    assert route(w.s, w.op, text=kw)["rule_id"] == rule["id"]


@pytest.mark.parametrize("path, body, code, field", [
    ("/v1/departments", {"name": "x"}, "missing_field", "code"),
    ("/v1/departments", {"code": "x"}, "missing_field", "name"),
    ("/v1/departments", {"code": "Bad-Code", "name": "x"}, "invalid_field", "code"),
    ("/v1/departments", {"code": "a" * 41, "name": "x"}, "invalid_field", "code"),
    ("/v1/departments", {"code": "ok_code", "name": ""}, "invalid_field", "name"),
    ("/v1/departments", {"code": "ok_code", "name": "x", "enabled": 1}, "invalid_field", "enabled"),
    ("/v1/departments", {"code": "ok_code", "name": "x", "position": -1}, "invalid_field", "position"),
    ("/v1/departments", {"code": "ok_code", "name": "x", "colour": 1}, "invalid_field", "colour"),
    ("/v1/categories", {"name": "x"}, "missing_field", "department"),
    ("/v1/categories", {"department": "health"}, "missing_field", "name"),
    ("/v1/categories", {"department": "no_such", "name": "x"}, "invalid_field", "department"),
    ("/v1/categories", {"department": "health", "name": "x", "code": "housing.77"},
     "invalid_field", "code"),
    ("/v1/categories", {"department": "health", "name": "x", "code": "health.1"},
     "invalid_field", "code"),
    ("/v1/categories", {"department": "health", "name": "x", "code": "health.01"},
     "invalid_field", "code"),  # exists
    ("/v1/categories", {"department": "health", "name": "x" * 201}, "invalid_field", "name"),
])
def test_department_and_category_validation(w, path, body, code, field):
    assert_error(w.req("POST", path, body), 422, code, field)


def test_department_and_category_edits(w):
    assert_error(w.req("PUT", "/v1/departments/no_such", {"name": "x"}), 404, "not_found")
    assert_error(w.req("PUT", "/v1/categories/health.99", {"name": "x"}), 404, "not_found")
    assert_error(w.req("PUT", "/v1/departments/health", {"code": "other"}), 422, "invalid_field", "code")
    assert_error(w.req("PUT", "/v1/categories/health.01", {"department": "no_such"}),
                 422, "invalid_field", "department")
    status, _, dep = w.req("PUT", "/v1/departments/health", {"code": "health"})
    assert status == 200 and dep["code"] == "health", dep
    for token in (w.manager, w.op, w.dept):
        assert_error(w.req("POST", "/v1/departments", {"code": "zz", "name": "x"}, token=token),
                     403, "forbidden")
        assert_error(w.req("PUT", "/v1/departments/health", {"name": "x"}, token=token), 403, "forbidden")
        assert_error(w.req("POST", "/v1/categories", {"department": "health", "name": "x"}, token=token),
                     403, "forbidden")
        assert_error(w.req("PUT", "/v1/categories/health.01", {"name": "x"}, token=token),
                     403, "forbidden")


# --- the router outlives a database outage ------------------------------------------------------

def test_router_is_kept_through_a_database_outage(make_cluster, make_server):
    """With no token cache every request needs the database for its token, so the outage
    shows: the version checks fail, the loaded rules are kept, and routing works again at once."""
    cluster = make_cluster()
    s = make_server(cluster, token_cache_seconds=0)
    text = "楼下饭店油烟太大，熏得没法开窗"
    assert route(s, s.admin_token, text=text)["department"] == "urban_mgmt"
    mark = s.log_size()
    cluster.stop("immediate")
    try:
        assert wait_for(lambda: "keeping the last loaded rules" in s.log_text(mark), timeout=10), \
            s.log_tail()
        assert_error(s.request("POST", "/v1/route", {"text": text}, token=s.admin_token),
                     503, "unavailable")
    finally:
        cluster.start()
    assert wait_for(lambda: s.request("GET", "/readyz")[0] == 200, timeout=15)
    assert wait_for(lambda: s.request("POST", "/v1/route", {"text": text}, token=s.admin_token)[0] == 200,
                    timeout=15)
    assert route(s, s.admin_token, text=text)["department"] == "urban_mgmt"
    assert "until rules load" not in s.log_text(mark)
    kw = word()
    status, _, rule = s.request("POST", "/v1/rules", rule_body(kw), token=s.admin_token)
    assert status == 201, rule
    assert route(s, s.admin_token, text=kw)["department"] == "health"
